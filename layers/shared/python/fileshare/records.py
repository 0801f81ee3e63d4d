"""A file's names, its record and API shape, the event announcing a change to it, and the multipart
helpers files and versions share: pure or nearly so, used by every use-case module that touches a
file row (files, folders, trash, sharing, versions, search, archives) without importing one another."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fileshare.adapters import storage
from fileshare.adapters.observability import logger
from fileshare.errors import TooLarge, ValidationFailed
from fileshare.event_types import Event, EventType
from fileshare.lifecycle import FileStatus
from fileshare.models import CompleteIn, FileOut, PartsIn, PartUrlList

if TYPE_CHECKING:
    from fileshare.db.versions import VersionRow

MAX_NAME_CHARS = 255
MAX_NAME_BYTES = 255  # UTF-8 bytes, like most file systems; keeps the S3 key well under 1024 bytes
# What the cache holds: the row minus what no reader needs.
_RECORD_FIELDS = ("file_id", "owner_id", "name", "s3_key", "size", "content_type", "status",
                  "checksum_sha256", "s3_checksum", "thumbnail_key", "tags", "created_at", "expires_at",
                  "folder_id")


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


def new_event(event_type: EventType, row: Mapping[str, Any], **data: Any) -> Event:
    """The event announcing a change to ``row`` (pydantic serializes datetimes in ``data``)."""
    return Event(type=event_type, file_id=row["file_id"], owner_id=row["owner_id"], data=data)


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


def abort_quietly(key: str, upload_id: str) -> None:
    """Best effort: a multipart upload left behind is invisible (no row points at it) and S3's
    lifecycle rule for incomplete uploads removes it."""
    try:
        storage.abort_multipart(key, upload_id)
    except Exception as exc:
        logger.warning("could not abort an unused multipart upload", extra={"error": repr(exc)})


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


def file_rejected(row: Mapping[str, Any]) -> Event:
    """``file.rejected`` for a files row whose ``reject_reason`` is set."""
    return Event(type=EventType.FILE_REJECTED, file_id=row["file_id"], owner_id=row["owner_id"],
                 data={"name": row["name"], "reason": row["reject_reason"]})


def version_rejected(row: VersionRow) -> Event:
    """``file.version_rejected`` for a ``file_versions`` row whose ``reject_reason`` is set."""
    return Event(type=EventType.FILE_VERSION_REJECTED, file_id=row.file_id, owner_id=row.owner_id,
                 data={"version_id": str(row.version_id), "name": row.name, "reason": row.reject_reason})
