"""File use cases: upload, list, read, rename/retag, trash, download, and the caller's usage.

Authorization rule on every use case: a file the caller may not see is ``NotFound`` (404), exactly
as if it did not exist. Every change and the outbox event announcing it share one transaction; the
cache entry is dropped after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fileshare import access, cursor, event_types, events, folders, lifecycle, records, upload_budget
from fileshare.adapters import cache, storage
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import processing as processing_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.errors import Conflict, NotFound, ValidationFailed
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
from fileshare.records import (
    abort_quietly,
    check_content_type,
    check_quota,
    check_size,
    completed_before,
    completion_parts,
    file_out,
    new_event,
    sanitize_name,
    signed_parts,
    to_record,
)

# ---- pure rules (unit tested; the shared ones are in fileshare.records) ---------------------------

def check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expires_at must be in the future", code="expires_in_past")


def list_cursor(row: Mapping[str, Any]) -> str:
    return cursor.encode([row["created_at"].isoformat(), str(row["file_id"])])


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
        abort_quietly(prepared.key, prepared.multipart["upload_id"])


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
    folder_id = folders.resolve_upload_folder(conn, user_id, request.folder_id, request.relative_path,
                                              created)
    folders.check_file_target(conn, user_id, folder_id, name)
    return folder_id


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
        events.record(conn, records.file_rejected(rejected))
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
            folders.check_file_target(conn, user_id, changes.get("folder_id", row.folder_id),
                                      changes.get("name", row.name), file_id)
        moved: dict[str, Any] = {}
        if "folder_id" in changed:  # where from and where to, for the activity feed
            moved = {"previous": {"folder_id": row.folder_id},
                     "from_folder": folders.folder_name(conn, row.folder_id),
                     "to_folder": folders.folder_name(conn, changed["folder_id"])}
        row = files_db.update(conn, file_id, changed)
        events.record(conn, new_event(event_types.EventType.FILE_UPDATED, row, changes=changed, **moved))
    cache.invalidate_file(file_id)
    events.publish_now([file_id])
    if "folder_id" in changed:  # search filters folder grants on the document's folder_id
        from fileshare.search import index as search_index  # cold start: opensearch-py only when a move syncs

        search_index.sync_quietly([file_id])
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
