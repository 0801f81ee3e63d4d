"""Archives: one ZIP of many files, built asynchronously (issue 14 part 2) — the API side and expiry.

``POST /archives`` takes a selection (``file_ids``) or a whole folder (``folder_id``). A selection:
every file must be readable (the caller owns it or it is shared with them) and ready; anything
else they cannot read is a 404, as everywhere. A folder: the caller must read it (their own, or
shared with them directly or through an ancestor); every ready file below it, recursively, goes
in under its path from the folder ("Docs/2026/plan.txt"), and every subfolder as a directory
entry (so empty ones survive). Then the limits (files and bytes per archive, jobs queued at once
per user), then the job row and its ``archive.requested`` event in one transaction (the outbox:
the job is never lost). The archiver resolves a folder again when it runs (``folder_sources``):
the ZIP holds what the folder holds then, as the job's owner may read it then. The archiver
(``fileshare.archives.worker``) consumes that event from Kafka and streams the ZIP into S3 under
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

from fileshare import access, cursor, events, folders
from fileshare.adapters import storage
from fileshare.adapters.observability import logger, metrics
from fileshare.archives import rows as archives_db
from fileshare.archives.models import ArchiveCreate, ArchiveList, ArchiveOut
from fileshare.archives.rows import ArchiveRow
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import folders as folders_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.db.folders import FolderRow
from fileshare.errors import Conflict, Gone, NotFound, TooLarge
from fileshare.event_types import Event, EventType
from fileshare.lifecycle import FileStatus
from fileshare.records import sanitize_name

ARCHIVE_PREFIX = "a/"
#: A running job whose heartbeat is older than this lost its worker: a redelivery may claim it again
#: and the sweeper fails it (``worker_lost``). The worker beats at least every part it uploads.
STALE_AFTER_S = 300
#: A job still queued this long after its event (or its last re-announcement) is announced again.
REANNOUNCE_AFTER_S = 600
BATCH = 50
MAX_TREE_FOLDERS = 10_000  # folders one folder archive walks (each one a directory entry)


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


def to_out(row: ArchiveRow) -> ArchiveOut:
    return ArchiveOut(
        archive_id=row.archive_id, name=row.name, status=row.status,  # type: ignore[arg-type]
        files_total=row.files_total, files_done=row.files_done, bytes_total=row.bytes_total,
        bytes_done=row.bytes_done, size=row.size, failure_reason=row.failure_reason,
        failure_detail=row.failure_detail, created_at=row.created_at, ready_at=row.ready_at,
        expires_at=row.expires_at, folder_id=row.folder_id)


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


@dataclass(frozen=True)
class FolderSources:
    """What zipping a folder takes: the folder, its ready files (each with its directory's path from
    the folder, the folder's own name first) and every directory's path, parents first."""

    folder: FolderRow
    files: list[tuple[str, FileRow]]
    directories: list[str]


def folder_sources(conn: Any, user_id: str, folder_id: uuid.UUID, max_files: int) -> FolderSources:
    """Every ready file below the folder, recursively, as ``user_id`` may read them now: 404
    ``folder_not_found`` unless they read the folder (then they read all inside, and only the
    owner's files are ever inside); 413 past ``max_files`` or ``MAX_TREE_FOLDERS``."""
    folder = folders.readable_folder(conn, folder_id, user_id)
    tree = folders_db.tree(conn, folder_id, MAX_TREE_FOLDERS + 1)
    if len(tree) > MAX_TREE_FOLDERS:
        raise TooLarge(f"a folder archive holds at most {MAX_TREE_FOLDERS} folders",
                       code="archive_too_many_folders")
    paths = {t.folder_id: t.path for t in tree}
    rows = folders_db.tree_files(conn, folder.owner_id, list(paths), max_files + 1)
    if len(rows) > max_files:
        raise TooLarge(f"an archive holds at most {max_files} files", code="archive_too_many_files")
    files = sorted(((paths[r.folder_id], r) for r in rows if r.folder_id is not None),
                   key=lambda pair: (pair[0].lower(), pair[1].name.lower(), str(pair[1].file_id)))
    return FolderSources(folder=folder, files=files, directories=[t.path for t in tree])


def requested_event(row: ArchiveRow) -> Event:
    return Event(type=EventType.ARCHIVE_REQUESTED, file_id=row.archive_id, owner_id=row.owner_id,
                 data={"files": row.files_total, "bytes": row.bytes_total,
                       **({"folder_id": str(row.folder_id)} if row.folder_id else {})})


def failed_event(row: ArchiveRow) -> Event:
    """``archive.failed``: the notifier tells the owner (inbox and email) why."""
    return Event(type=EventType.ARCHIVE_FAILED, file_id=row.archive_id, owner_id=row.owner_id,
                 data={"name": row.name, "reason": row.failure_reason, "detail": row.failure_detail})


def check_total(total: int, max_bytes: int) -> None:
    if total > max_bytes:
        raise TooLarge(f"the files add up to {total} bytes; an archive holds at most {max_bytes}",
                       code="archive_too_large")


def request_archive(user_id: str, email: str, body: ArchiveCreate) -> ArchiveOut:
    """Queue a ZIP of the given files or folder (202); the job and its event commit together."""
    config = settings()
    file_ids = list(dict.fromkeys(body.file_ids or []))
    if len(file_ids) > config.archive_max_files:
        raise TooLarge(f"an archive holds at most {config.archive_max_files} files",
                       code="archive_too_many_files")
    archive_id = uuid.uuid4()
    with transaction() as conn:
        if users_db.ensure(conn, user_id, email, config.default_quota_bytes) is None:
            raise Conflict("this email belongs to another account", code="email_in_use")
        users_db.get(conn, user_id, for_update=True)  # serializes one user's job count
        if body.folder_id is not None:
            tree = folder_sources(conn, user_id, body.folder_id, config.archive_max_files)
            if not tree.files:
                raise Conflict("the folder holds no ready file to zip", code="folder_empty")
            sources = [r for _, r in tree.files]
            name = zip_name(body.name if body.name is not None else tree.folder.name)
        else:
            sources = readable_sources(conn, user_id, file_ids)
            name = zip_name(body.name)
        total = sum(r.size for r in sources)
        check_total(total, config.archive_max_bytes)
        if archives_db.count_active(conn, user_id) >= config.archive_max_active:
            raise Conflict(f"at most {config.archive_max_active} archives may be in progress at once",
                           code="too_many_archives")
        row = archives_db.insert(conn, archive_id=archive_id, owner_id=user_id, name=name,
                                 file_ids=[r.file_id for r in sources], bytes_total=total,
                                 s3_key=archive_key(user_id, archive_id, name), folder_id=body.folder_id)
        events.record(conn, requested_event(row))
    events.publish_now([archive_id])
    metrics.add_metric(name="ArchivesRequested", unit="Count", value=1)
    logger.info("archive requested", extra={"archive_id": str(archive_id), "files": len(sources),
                                            "bytes": total, "folder": body.folder_id is not None})
    return to_out(row)


def list_archives(user_id: str, *, limit: int, after: str | None) -> ArchiveList:
    """The caller's archive jobs, newest first (deleted ones are gone; expired and failed stay)."""
    position = cursor.decode_time_id(after) if after else None
    with transaction() as conn:
        rows = archives_db.page(conn, user_id, limit=limit + 1, after=position)
    page = rows[:limit]
    next_cursor = (cursor.encode([page[-1].created_at.isoformat(), str(page[-1].archive_id)])
                   if len(rows) > limit else None)
    return ArchiveList(items=[to_out(r) for r in page], next_cursor=next_cursor)


def _mine(conn: Any, user_id: str, archive_id: uuid.UUID, *, for_update: bool = False) -> ArchiveRow:
    row = archives_db.get(conn, archive_id, for_update=for_update)
    if row is None or row.owner_id != user_id:
        raise NotFound("archive not found", code="archive_not_found")
    return row


def get_archive(user_id: str, archive_id: uuid.UUID) -> ArchiveOut:
    with transaction() as conn:
        return to_out(_mine(conn, user_id, archive_id))


def download_url(user_id: str, archive_id: uuid.UUID) -> str:
    """A short-lived presigned GET of a ready archive; 409 before, 410 once expired or deleted."""
    with transaction() as conn:
        row = _mine(conn, user_id, archive_id)
    if row.status in ("expired", "deleted") or (
            row.expires_at is not None and row.expires_at <= datetime.now(UTC)):
        raise Gone("the archive has expired", code="archive_expired")
    if row.status == "failed":
        raise Conflict(f"the archive failed: {row.failure_reason}", code="archive_failed")
    if row.status != "ready":
        raise Conflict(f"the archive is {row.status}, not ready", code="archive_not_ready")
    return storage.presigned_get(row.s3_key, download_name=row.name, content_type="application/zip")


def _remove(row: ArchiveRow) -> None:
    """Drop the job's bytes: a running attempt's upload and the (ready) object."""
    if row.upload_id:
        storage.abort_multipart(row.s3_key, row.upload_id)
    storage.delete_objects([row.s3_key])  # a missing key is fine: replays succeed


def delete_archive(user_id: str, archive_id: uuid.UUID) -> None:
    """Delete (or cancel) one of the caller's archives; idempotent. A running worker stops at its next
    write (its attempt no longer holds the job) and aborts its own upload."""
    with transaction() as conn:
        row = _mine(conn, user_id, archive_id, for_update=True)
        if row.status == "deleted":
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
                storage.delete_objects([r.s3_key for r in rows])
            for row in rows:
                archives_db.mark_gone(conn, row.archive_id, "expired")
        result.archives_expired += len(rows)
        if len(rows) < BATCH:
            break
    if has_time():
        with transaction() as conn:
            failed: list[uuid.UUID] = []
            for row in archives_db.stalled(conn, STALE_AFTER_S, BATCH):
                if row.upload_id:
                    storage.abort_multipart(row.s3_key, row.upload_id)
                marked = archives_db.mark_failed(conn, row.archive_id, None, "worker_lost",
                                                 "the archiver stopped reporting progress")
                if marked is not None:
                    events.record(conn, failed_event(marked))
                    failed.append(row.archive_id)
                result.archives_stalled += 1
        if failed:
            events.publish_now(failed)
    if has_time():
        with transaction() as conn:
            rows = archives_db.waiting(conn, REANNOUNCE_AFTER_S, BATCH)
            for row in rows:
                events.record(conn, requested_event(row))
        if rows:
            events.publish_now([r.archive_id for r in rows])
        result.archives_reannounced = len(rows)
    if result.archives_expired or result.archives_stalled:
        metrics.add_metric(name="ArchivesExpired", unit="Count", value=result.archives_expired)
    return result

