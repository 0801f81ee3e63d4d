"""File use cases: upload, list, read, rename/retag, trash, download, and the caller's usage.

Authorization rule on every use case: a file the caller may not see is ``NotFound`` (404), exactly
as if it did not exist. Every change and the outbox event announcing it share one transaction; the
cache entry is dropped after the commit.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fileshare import access, cache, cursor, events, lifecycle, storage, upload_budget
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import processing as processing_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.errors import Conflict, NotFound, TooLarge, ValidationFailed
from fileshare.lifecycle import FileStatus, State, Trigger
from fileshare.models import (
    CompleteIn,
    FileCreate,
    FileCreated,
    FileList,
    FileOut,
    FilePatch,
    Me,
    MultipartUpload,
    PartsIn,
    PartUrlList,
    PostUpload,
    StoredPartList,
)
from fileshare.observability import logger

MAX_NAME_CHARS = 255
MAX_NAME_BYTES = 255  # UTF-8 bytes, like most file systems; keeps the S3 key well under 1024 bytes
# What the cache holds: the row minus what no reader needs.
_RECORD_FIELDS = ("file_id", "owner_id", "name", "s3_key", "size", "content_type", "status",
                  "checksum_sha256", "s3_checksum", "thumbnail_key", "tags", "created_at", "expires_at",
                  "folder_id")


# ---- pure rules (unit tested) -------------------------------------------------------------------

def sanitize_name(raw: str) -> str:
    """A display and key-safe file name: last path segment, no control or format characters,
    NFC, trimmed of spaces and dots, at most 255 characters and 255 UTF-8 bytes (the extension is
    kept when shortening). Raises ``ValidationFailed`` when nothing usable is left."""
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if ch.isspace() else ch for ch in name if not unicodedata.category(ch).startswith("C")
                   or ch.isspace())
    name = " ".join(name.split()).strip(" .")
    if not name:
        raise ValidationFailed("the file name is empty once path parts and control characters are removed",
                               code="invalid_name")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 16:
        stem, dot, ext = name, "", ""
    if not _too_long(stem + dot + ext):
        return stem + dot + ext
    while stem and _too_long(stem + dot + ext):
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    if not stem:  # only possible with an extension as long as the limit: cut the whole name
        stem, dot, ext = name, "", ""
        while _too_long(stem):
            stem = stem[:-1]
    return stem + dot + ext


def _too_long(name: str) -> bool:
    return len(name) > MAX_NAME_CHARS or len(name.encode()) > MAX_NAME_BYTES


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise TooLarge(f"files may be at most {max_bytes} bytes", code="file_too_large")


def check_content_type(content_type: str, allowed: tuple[str, ...]) -> None:
    """Allowed if the list is empty, or lists it exactly, or lists its family (``image/*``)."""
    if not allowed or content_type in allowed or f"{content_type.split('/', 1)[0]}/*" in allowed:
        return
    raise ValidationFailed(f"content type {content_type} is not allowed", code="content_type_not_allowed")


def check_quota(quota_bytes: int, used_bytes: int, pending_bytes: int, size: int) -> None:
    """Stored plus reserved (pending) plus this upload must fit the quota."""
    if used_bytes + pending_bytes + size > quota_bytes:
        free = max(quota_bytes - used_bytes - pending_bytes, 0)
        raise TooLarge(f"this upload needs {size} bytes; {free} of your quota are free",
                       code="quota_exceeded")


def check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expires_at must be in the future", code="expires_in_past")


def list_cursor(row: Mapping[str, Any]) -> str:
    return cursor.encode([row["created_at"].isoformat(), str(row["file_id"])])


def new_event(event_type: events.EventType, row: Mapping[str, Any], **data: Any) -> events.Event:
    """The event announcing a change to ``row`` (pydantic serializes datetimes in ``data``)."""
    return events.Event(type=event_type, file_id=row["file_id"], owner_id=row["owner_id"], data=data)


def to_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in _RECORD_FIELDS}


_OUT_FIELDS = tuple(k for k in FileOut.model_fields if k != "thumbnail_url")


def to_out(record: dict[str, Any], *, thumbnail_url: str | None) -> FileOut:
    """The API shape of a file record (pure: the caller signs the thumbnail's URL)."""
    return FileOut.model_validate({
        **{k: record[k] for k in _OUT_FIELDS if k in record},
        "thumbnail_url": thumbnail_url,
    })


def file_out(record: dict[str, Any]) -> FileOut:
    """``to_out`` with a presigned GET of the thumbnail, if there is one (signed locally, no call)."""
    return to_out(record, thumbnail_url=storage.thumbnail_url(record.get("thumbnail_key")))


# ---- use cases --------------------------------------------------------------------------------

def ensure_user(conn: Any, user_id: str, email: str) -> users_db.UserRow:
    row = users_db.ensure(conn, user_id, email, settings().default_quota_bytes)
    if row is None:
        raise Conflict("this email belongs to another account", code="email_in_use")
    return row


@dataclass(frozen=True)
class PreparedUpload:
    """An upload whose input passed the rules that need no database: its id, safe name, key and,
    above the multipart threshold, the S3 multipart upload already started for it."""

    file_id: uuid.UUID
    name: str
    key: str
    multipart: dict[str, Any] | None
    algorithm: str | None


def prepare_upload(user_id: str, request: FileCreate) -> PreparedUpload:
    """Check the input (name, size, type, expiry) and start the S3 multipart upload if one is
    needed. S3's CreateMultipartUpload is a network call: it runs before the transaction, never
    while the user's row is locked (that lock serializes all of one user's uploads); whoever
    prepared it aborts it again (``abort_prepared``) when the insert is refused or fails."""
    config = settings()
    name = sanitize_name(request.name)
    check_size(request.size, config.max_upload_bytes)
    check_content_type(request.content_type, config.allowed_content_types)
    check_expiry(request.expires_at, datetime.now(UTC))
    file_id = uuid.uuid4()
    key = storage.object_key(user_id, file_id, name)
    algorithm = "SHA256" if request.part_checksums else None
    multipart = (storage.start_multipart(key, request.size, request.content_type,
                                         checksum_algorithm=algorithm)
                 if request.size >= config.multipart_threshold_bytes else None)
    return PreparedUpload(file_id, name, key, multipart, algorithm)


def insert_upload(conn: Any, user_id: str, request: FileCreate, prepared: PreparedUpload,
                  created_folders: list[uuid.UUID]) -> None:
    """The pending row (and the folders its path needs) in the caller's transaction, which holds
    the user's row lock and has checked the quota."""
    folder_id = _upload_folder(conn, user_id, request, prepared.name, created_folders)
    files_db.insert(conn, file_id=prepared.file_id, owner_id=user_id, name=prepared.name, s3_key=prepared.key,
                    size=request.size, content_type=request.content_type, tags=request.tags,
                    expires_at=request.expires_at, folder_id=folder_id)
    if prepared.multipart is not None:
        files_db.set_upload_id(conn, prepared.file_id, prepared.multipart["upload_id"], prepared.algorithm)


def abort_prepared(prepared: PreparedUpload) -> None:
    if prepared.multipart is not None:
        _abort_quietly(prepared.key, prepared.multipart["upload_id"])


def upload_of(prepared: PreparedUpload, request: FileCreate) -> PostUpload | MultipartUpload:
    """How the client sends the bytes: the multipart plan, or a presigned POST (signed locally)."""
    if prepared.multipart is not None:
        return MultipartUpload.model_validate(prepared.multipart)
    return PostUpload.model_validate(storage.presigned_post(
        prepared.key, request.size, request.content_type, checksum_sha256=request.checksum_sha256))


def create_upload(user_id: str, email: str, request: FileCreate) -> FileCreated:
    prepared = prepare_upload(user_id, request)
    created_folders: list[uuid.UUID] = []
    try:
        upload_budget.charge(user_id, files=1, size=request.size)
        with transaction() as conn:
            ensure_user(conn, user_id, email)
            user = users_db.get(conn, user_id, for_update=True)  # serializes one user's quota checks
            assert user is not None
            used, pending = users_db.usage(conn, user_id)
            check_quota(user.quota_bytes, used, pending, request.size)
            insert_upload(conn, user_id, request, prepared, created_folders)
    except BaseException:
        abort_prepared(prepared)
        raise
    if created_folders:  # their folder.created events (the relay sends what this cannot)
        events.publish_now(created_folders)
    return FileCreated(file_id=prepared.file_id, upload=upload_of(prepared, request))


def _upload_folder(conn: Any, user_id: str, request: FileCreate, name: str,
                   created: list[uuid.UUID]) -> uuid.UUID | None:
    """The folder the upload goes into (``folder_id`` and/or ``relative_path``; see ``folders``);
    the folders it had to make are appended to ``created``."""
    if request.folder_id is None and request.relative_path is None:
        return None
    from fileshare import folders

    folder_id = folders.resolve_upload_folder(conn, user_id, request.folder_id, request.relative_path,
                                              created)
    folders.check_file_target(conn, user_id, folder_id, name)
    return folder_id


def _abort_quietly(key: str, upload_id: str) -> None:
    """Best effort: a multipart upload left behind is invisible (no row points at it) and S3's
    lifecycle rule for incomplete uploads removes it."""
    try:
        storage.abort_multipart(key, upload_id)
    except Exception as exc:
        logger.warning("could not abort an unused multipart upload", extra={"error": repr(exc)})


def complete_upload(user_id: str, file_id: uuid.UUID, request: CompleteIn) -> FileOut:
    with transaction() as conn:
        row = access.require_owner(conn, files_db.get(conn, file_id, for_update=True), user_id)
        if row.status != FileStatus.PENDING and completed_before(
                row.status, row.verified_etag, [p.etag for p in request.parts]):
            return file_out(to_record(row))
        row, upload_id = _pending_multipart(conn, user_id, file_id)
        parts = completion_parts(request, int(row.size), row.part_checksum_algorithm)
        storage.complete_multipart(row.s3_key, upload_id, parts)
    cache.invalidate_file(file_id)
    return file_out(to_record(row))


def completed_before(status: str, verified_etag: str | None, part_etags: list[str]) -> bool:
    """Whether these parts make up the object the processor already verified: a client retrying a
    complete whose first try went through (it saw a timeout) gets the file, not a 409. A multipart
    ETag is the MD5 of the parts' MD5s and their count, so it proves these are the same parts."""
    if status != FileStatus.READY or not verified_etag or not part_etags:
        return False
    try:
        digests = b"".join(bytes.fromhex(etag.strip().strip('"')) for etag in part_etags)
    except ValueError:
        return False
    expected = f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(part_etags)}"
    return verified_etag.strip().strip('"') == expected


def completion_parts(request: CompleteIn, size: int, algorithm: str | None
                     ) -> list[tuple[int, str, str | None]]:
    """The parts to complete an upload of ``size`` bytes with: 1..N in order, each once, with its
    checksum when the upload checks every part (pure; versions complete theirs the same way)."""
    numbers = [p.part_number for p in request.parts]
    expected = storage.expected_parts(size)
    if numbers != list(range(1, expected + 1)):
        raise ValidationFailed(f"expected parts 1..{expected} in order, each once", code="invalid_parts")
    with_checksums = algorithm == "SHA256"
    if with_checksums and any(p.checksum_sha256 is None for p in request.parts):
        raise ValidationFailed("this upload checks every part: give each part's checksum_sha256",
                               code="part_checksums_required")
    return [(p.part_number, p.etag, p.checksum_sha256 if with_checksums else None) for p in request.parts]


def _pending_multipart(conn: Any, user_id: str, file_id: uuid.UUID, *,
                       for_update: bool = False) -> tuple[files_db.FileRow, str]:
    """The caller's file with a multipart upload in progress, and that upload's id."""
    row = access.require_owner(conn, files_db.get(conn, file_id, for_update=for_update), user_id)
    if row.status != FileStatus.PENDING or not row.upload_id:
        raise Conflict("this file has no multipart upload in progress", code="not_multipart_pending")
    return row, row.upload_id


def sign_parts(user_id: str, file_id: uuid.UUID, request: PartsIn) -> PartUrlList:
    """Presigned URLs for more parts of the caller's unfinished multipart upload (or fresh ones)."""
    with transaction() as conn:
        row, upload_id = _pending_multipart(conn, user_id, file_id)
    return signed_parts(request, row.s3_key, upload_id, int(row.size), row.part_checksum_algorithm)


def signed_parts(request: PartsIn, key: str, upload_id: str, size: int, algorithm: str | None) -> PartUrlList:
    """Presigned URLs for the requested parts of one multipart upload (files' and versions')."""
    expected = storage.expected_parts(size)
    wrong = sorted({n for n in request.part_numbers if n > expected})
    if wrong:
        raise ValidationFailed(f"this upload has parts 1..{expected}; not {wrong[:5]}", code="invalid_parts")
    checksums: dict[int, str] | None = None
    if algorithm == "SHA256":
        if request.checksums is None or len(request.checksums) != len(request.part_numbers):
            raise ValidationFailed("this upload checks every part: give one checksum per part number",
                                   code="part_checksums_required")
        checksums = dict(zip(request.part_numbers, request.checksums, strict=True))
    elif request.checksums is not None:
        raise ValidationFailed("this upload was created without part_checksums",
                               code="part_checksums_unexpected")
    numbers = sorted(set(request.part_numbers))
    return PartUrlList.model_validate(
        {"parts": storage.sign_parts(key, upload_id, size, numbers, checksums=checksums)})


def stored_parts(user_id: str, file_id: uuid.UUID) -> StoredPartList:
    """What S3 already holds of the caller's unfinished multipart upload: resume by skipping it."""
    with transaction() as conn:
        row, upload_id = _pending_multipart(conn, user_id, file_id)
    return StoredPartList.model_validate({"parts": storage.list_parts(row.s3_key, upload_id)})


def abort_upload(user_id: str, file_id: uuid.UUID) -> None:
    """Abort the caller's unfinished multipart upload: S3 drops the parts, the file is rejected
    (``upload_aborted``) and announced as such, all before the row lock is released."""
    with transaction() as conn:
        row, upload_id = _pending_multipart(conn, user_id, file_id, for_update=True)
        storage.abort_multipart(row.s3_key, upload_id)
        lifecycle.require(Trigger.ABORT, State.of(row))
        rejected = processing_db.mark_rejected(conn, file_id, "upload_aborted", Trigger.ABORT)
        assert rejected is not None  # the row is locked and pending
        events.record(conn, events.file_rejected(rejected))
    cache.invalidate_file(file_id)
    events.publish_now([file_id])


def list_files(user_id: str, limit: int, after: str | None) -> FileList:
    position = cursor.decode_time_id(after) if after else None
    with transaction() as conn:
        rows = files_db.list_active(conn, user_id, limit + 1, position)
    page = rows[:limit]
    next_cursor = list_cursor(page[-1]) if len(rows) > limit else None
    return FileList(items=[file_out(to_record(r)) for r in page], next_cursor=next_cursor)


def _record(user_id: str, file_id: uuid.UUID) -> dict[str, Any]:
    """The file's record from the cache or PostgreSQL, authorized for the caller either way."""
    lookup = cache.get_file(file_id)
    record = lookup.record
    if record is None:
        with transaction() as conn:
            row = files_db.get(conn, file_id)
        if row is not None:
            record = to_record(row)
            cache.put_file(file_id, record, lookup)
    if record is not None and record["owner_id"] != user_id:  # a viewer? Shares are never cached
        with transaction() as conn:
            if access.is_viewer(conn, {**record, "file_id": file_id}, user_id):
                return record
    if record is not None and access.is_owner(record, user_id):
        return record
    raise NotFound("file not found", code="file_not_found")


def get_file(user_id: str, file_id: uuid.UUID) -> FileOut:
    return file_out(_record(user_id, file_id))


def update_file(user_id: str, file_id: uuid.UUID, patch: FilePatch) -> FileOut:
    changes: dict[str, Any] = {}
    if "name" in patch.model_fields_set:
        if patch.name is None:
            raise ValidationFailed("name cannot be null", code="invalid_name")
        changes["name"] = sanitize_name(patch.name)
    if "tags" in patch.model_fields_set:
        changes["tags"] = patch.tags or []
    if "expires_at" in patch.model_fields_set:
        check_expiry(patch.expires_at, datetime.now(UTC))
        changes["expires_at"] = patch.expires_at
    if "folder_id" in patch.model_fields_set:
        changes["folder_id"] = patch.folder_id
    with transaction() as conn:
        row = access.require_owner(conn, files_db.get(conn, file_id, for_update=True), user_id)
        if row.status == FileStatus.TRASHED:
            raise Conflict("restore the file before changing it", code="file_trashed")
        changed = {k: v for k, v in changes.items() if row[k] != v}
        if not changed:
            return file_out(to_record(row))
        if {"name", "folder_id"} & set(changed):
            from fileshare import folders

            folders.check_file_target(conn, user_id, changes.get("folder_id", row.folder_id),
                                      changes.get("name", row.name), file_id)
        moved: dict[str, Any] = {}
        if "folder_id" in changed:  # where from and where to, for the activity feed
            from fileshare import folders

            moved = {"previous": {"folder_id": row.folder_id},
                     "from_folder": folders.folder_name(conn, row.folder_id),
                     "to_folder": folders.folder_name(conn, changed["folder_id"])}
        row = files_db.update(conn, file_id, changed)
        events.record(conn, new_event(events.EventType.FILE_UPDATED, row, changes=changed, **moved))
    cache.invalidate_file(file_id)
    events.publish_now([file_id])
    if "folder_id" in changed:  # search filters folder grants on the document's folder_id
        from fileshare.trash import sync_search_status

        sync_search_status(file_id)
    return file_out(to_record(row))


def trash_file(user_id: str, file_id: uuid.UUID) -> None:
    """Move to the trash (restorable). Trashing a trashed file again changes nothing."""
    with transaction() as conn:
        row = access.require_owner(conn, files_db.get(conn, file_id, for_update=True), user_id)
        if lifecycle.is_noop(Trigger.TRASH, State.of(row)):
            return
        lifecycle.require(Trigger.TRASH, State.of(row))
        trashed = files_db.trash(conn, file_id)
        assert trashed is not None  # the row is locked and the table allows it
        events.record(conn, new_event(lifecycle.emits(Trigger.TRASH), trashed,
                                      trashed_at=trashed.trashed_at))
    cache.invalidate_file(file_id)
    events.publish_now([file_id])


def download_url(user_id: str, file_id: uuid.UUID) -> str:
    record = _record(user_id, file_id)
    if record["status"] != FileStatus.READY:
        raise Conflict(f"the file is {record['status']}, not ready", code="file_not_ready")
    return storage.presigned_get(record["s3_key"], download_name=record["name"],
                                 content_type=record["content_type"])


def me(user_id: str, email: str) -> Me:
    with transaction() as conn:
        user = ensure_user(conn, user_id, email)
        used, _pending = users_db.usage(conn, user_id)
    return Me(user_id=user_id, email=user.email, quota_bytes=user.quota_bytes, used_bytes=used)
