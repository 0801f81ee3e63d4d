"""Archives: one ZIP of many files, built asynchronously (issue 14 part 2) — the API side and expiry.

``POST /archives`` checks every file (the caller owns it or it is shared with them and it is
ready; anything else they cannot read is a 404, as everywhere), the limits (files per archive,
bytes per archive, jobs queued at once per user), then writes the job row and its
``archive.requested`` event in one transaction (the outbox: the job is never lost). The archiver
(``fileshare.archiving``) consumes that event from Kafka and streams the ZIP into S3 under
``a/<owner>/<archive_id>/``; ``zip.ready`` tells the user (inbox and email). A ready archive is
downloadable for ``ARCHIVE_TTL_SECONDS``; then the sweeper deletes its object and marks it
``expired`` (the bucket's lifecycle rule on ``a/`` is the backstop in AWS). Another user's archive
is a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fileshare import access, events, storage
from fileshare.config import settings
from fileshare.db import archives as archives_db
from fileshare.db import files as files_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.errors import Conflict, Gone, NotFound, TooLarge
from fileshare.events import Event, EventType
from fileshare.files import sanitize_name
from fileshare.lifecycle import FileStatus
from fileshare.models import ArchiveCreate, ArchiveOut
from fileshare.observability import logger, metrics

ARCHIVE_PREFIX = "a/"
#: A running job whose heartbeat is older than this lost its worker: a redelivery may claim it again
#: and the sweeper fails it (``worker_lost``). The worker beats at least every part it uploads.
STALE_AFTER_S = 300
#: A job still queued this long after its event (or its last re-announcement) is announced again.
REANNOUNCE_AFTER_S = 600
BATCH = 50


def archive_key(owner_id: str, archive_id: uuid.UUID, name: str) -> str:
    return f"{ARCHIVE_PREFIX}{owner_id}/{archive_id}/{name}"


def zip_name(raw: str | None, now: datetime | None = None) -> str:
    """The ZIP's file name: the caller's (sanitized) or ``fileshare-<UTC time>``, ending in .zip."""
    if raw is None:
        return f"fileshare-{(now or datetime.now(UTC)).strftime('%Y%m%d-%H%M%S')}.zip"
    name = sanitize_name(raw)
    if not name.lower().endswith(".zip"):
        name = sanitize_name(name[:251] + ".zip")
    return name


def to_out(row: dict[str, Any]) -> ArchiveOut:
    return ArchiveOut(
        archive_id=row["archive_id"], name=row["name"], status=row["status"], files_total=row["files_total"],
        files_done=row["files_done"], bytes_total=row["bytes_total"], bytes_done=row["bytes_done"],
        size=row["size"], failure_reason=row["failure_reason"], failure_detail=row["failure_detail"],
        created_at=row["created_at"], ready_at=row["ready_at"], expires_at=row["expires_at"])


def readable_sources(conn: Any, user_id: str, file_ids: list[uuid.UUID]) -> list[FileRow]:
    """The files rows in ``file_ids`` order; 404 for one the caller cannot read, 409 for one not ready.

    The same rule as reading one file: the owner, or a viewer it is shared with (``fileshare.access``).
    """
    rows = {r.file_id: r for r in files_db.get_many(conn, file_ids)}
    ordered = []
    for file_id in file_ids:
        row = rows.get(file_id)
        if row is None or not (access.is_owner(row, user_id) or access.is_viewer(conn, row, user_id)):
            raise NotFound("file not found", code="file_not_found")  # word for word a missing file's
        if row.status != FileStatus.READY:
            raise Conflict(f"file {file_id} is {row.status}, not ready", code="file_not_ready")
        ordered.append(row)
    return ordered


def requested_event(row: dict[str, Any]) -> Event:
    return Event(type=EventType.ARCHIVE_REQUESTED, file_id=row["archive_id"], owner_id=row["owner_id"],
                 data={"files": row["files_total"], "bytes": row["bytes_total"]})


def request_archive(user_id: str, email: str, body: ArchiveCreate) -> ArchiveOut:
    """Queue a ZIP of the given files (202); the job and its event commit together."""
    config = settings()
    file_ids = list(dict.fromkeys(body.file_ids))
    if len(file_ids) > config.archive_max_files:
        raise TooLarge(f"an archive holds at most {config.archive_max_files} files",
                       code="archive_too_many_files")
    name = zip_name(body.name)
    archive_id = uuid.uuid4()
    with transaction() as conn:
        if users_db.ensure(conn, user_id, email, config.default_quota_bytes) is None:
            raise Conflict("this email belongs to another account", code="email_in_use")
        users_db.get(conn, user_id, for_update=True)  # serializes one user's job count
        sources = readable_sources(conn, user_id, file_ids)
        total = sum(int(r["size"]) for r in sources)
        if total > config.archive_max_bytes:
            raise TooLarge(f"the files add up to {total} bytes; an archive holds at most "
                           f"{config.archive_max_bytes}", code="archive_too_large")
        if archives_db.count_active(conn, user_id) >= config.archive_max_active:
            raise Conflict(f"at most {config.archive_max_active} archives may be in progress at once",
                           code="too_many_archives")
        row = archives_db.insert(conn, archive_id=archive_id, owner_id=user_id, name=name, file_ids=file_ids,
                                 bytes_total=total, s3_key=archive_key(user_id, archive_id, name))
        events.record(conn, requested_event(row))
    events.publish_now([archive_id])
    metrics.add_metric(name="ArchivesRequested", unit="Count", value=1)
    logger.info("archive requested", extra={"archive_id": str(archive_id), "files": len(file_ids),
                                            "bytes": total})
    return to_out(row)


def _mine(conn: Any, user_id: str, archive_id: uuid.UUID, *, for_update: bool = False) -> dict[str, Any]:
    row = archives_db.get(conn, archive_id, for_update=for_update)
    if row is None or row["owner_id"] != user_id:
        raise NotFound("archive not found", code="archive_not_found")
    return row


def get_archive(user_id: str, archive_id: uuid.UUID) -> ArchiveOut:
    with transaction() as conn:
        return to_out(_mine(conn, user_id, archive_id))


def download_url(user_id: str, archive_id: uuid.UUID) -> str:
    """A short-lived presigned GET of a ready archive; 409 before, 410 once expired or deleted."""
    with transaction() as conn:
        row = _mine(conn, user_id, archive_id)
    if row["status"] in ("expired", "deleted") or (
            row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC)):
        raise Gone("the archive has expired", code="archive_expired")
    if row["status"] == "failed":
        raise Conflict(f"the archive failed: {row['failure_reason']}", code="archive_failed")
    if row["status"] != "ready":
        raise Conflict(f"the archive is {row['status']}, not ready", code="archive_not_ready")
    return storage.presigned_get(row["s3_key"], download_name=row["name"], content_type="application/zip")


def _remove(row: dict[str, Any]) -> None:
    """Drop the job's bytes: a running attempt's upload and the (ready) object."""
    if row["upload_id"]:
        storage.abort_multipart(row["s3_key"], row["upload_id"])
    storage.delete_objects([row["s3_key"]])  # a missing key is fine: replays succeed


def delete_archive(user_id: str, archive_id: uuid.UUID) -> None:
    """Delete (or cancel) one of the caller's archives; idempotent. A running worker stops at its next
    write (its attempt no longer holds the job) and aborts its own upload."""
    with transaction() as conn:
        row = _mine(conn, user_id, archive_id, for_update=True)
        if row["status"] == "deleted":
            return
        _remove(row)  # S3 first, under the row lock: if it fails nothing is marked
        archives_db.mark_gone(conn, archive_id, "deleted")


@dataclass
class ArchiveSweep:
    archives_expired: int = 0
    archives_stalled: int = 0
    archives_reannounced: int = 0


def sweep(has_time: Callable[[], bool] = lambda: True) -> ArchiveSweep:
    """The sweeper's part: delete expired archives' objects, fail jobs whose worker vanished."""
    result = ArchiveSweep()
    while has_time():
        with transaction() as conn:
            rows = archives_db.due_for_expiry(conn, BATCH)
            if rows:  # one DeleteObjects for the batch, before the rows are marked
                storage.delete_objects([r["s3_key"] for r in rows])
            for row in rows:
                archives_db.mark_gone(conn, row["archive_id"], "expired")
        result.archives_expired += len(rows)
        if len(rows) < BATCH:
            break
    if has_time():
        with transaction() as conn:
            for row in archives_db.stalled(conn, STALE_AFTER_S, BATCH):
                if row["upload_id"]:
                    storage.abort_multipart(row["s3_key"], row["upload_id"])
                archives_db.mark_failed(conn, row["archive_id"], None, "worker_lost",
                                        "the archiver stopped reporting progress")
                result.archives_stalled += 1
    if has_time():
        with transaction() as conn:
            rows = archives_db.waiting(conn, REANNOUNCE_AFTER_S, BATCH)
            for row in rows:
                events.record(conn, requested_event(row))
        if rows:
            events.publish_now([r["archive_id"] for r in rows])
        result.archives_reannounced = len(rows)
    if result.archives_expired or result.archives_stalled:
        metrics.add_metric(name="ArchivesExpired", unit="Count", value=result.archives_expired)
    return result

