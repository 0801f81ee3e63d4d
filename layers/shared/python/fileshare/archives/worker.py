"""The archiver's job: one ``archive.requested`` event -> a ZIP64 archive streamed into S3.

1. Claim the job (``queued``, or ``running`` with a stale heartbeat: its worker died). The claim
   bumps ``attempt``; every later write names it, so a superseded attempt (a duplicate delivery,
   DELETE, the sweeper) changes nothing and stops at its next progress write.
2. Re-check the sources as the owner of the job may read them *now* (ready, owned or still shared).
   A folder job walks its folder again (``archives.folder_sources``): every ready file below it
   goes in under its path ("Docs/sub/a.txt"), every subfolder as a directory entry; the row's file
   list and totals are updated to what it found.
3. Stream: stdlib ``zipfile`` (STORED, ZIP64 where sizes or offsets need it, data descriptors)
   writes into ``zipstream.MultipartSink``; each source is read in ranged GETs pinned to its ETag.
   Progress (files and bytes done) and the heartbeat go to the row about once a second.
4. Complete the upload, then mark the job ``ready`` and record ``zip.ready`` in one transaction.

Failures: a vanished or replaced source (``source_missing``, ``source_changed``), a file or folder
no longer readable or a folder left empty (``source_unavailable``), a folder grown past the limits
(``too_large``) or an S3 error (``storage_error``) aborts the multipart upload and marks the job
``failed`` with that reason, recording ``archive.failed`` (the notifier tells the owner) in the
same transaction; the event is acknowledged. Anything else (the database down, a bug) aborts the
upload, gives the job back (``queued``) and raises, so Kafka redelivers it.
A redelivered event of a job that is ready, failed, expired or deleted is acknowledged unread.
"""

from __future__ import annotations

import time
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fileshare import events
from fileshare.adapters import storage
from fileshare.adapters.observability import logger, metrics
from fileshare.archives import jobs as archives
from fileshare.archives import rows as archives_db
from fileshare.archives.rows import ArchiveRow
from fileshare.archives.zipstream import (
    CHUNK_BYTES,
    MultipartSink,
    error_code,
    head,
    part_size_for,
    read_ranges,
)
from fileshare.config import settings
from fileshare.consumers import MalformedEventError, envelope
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.errors import Conflict, NotFound, TooLarge
from fileshare.event_types import Event, EventType

PROGRESS_EVERY_S = 1.0
_REGULAR_FILE = 0o100644 << 16  # unix mode in external_attr: unzip extracts a readable file
_DIRECTORY = (0o40755 << 16) | 0x10  # a unix directory, and MS-DOS's directory flag


class Outcome(StrEnum):
    BUILT = "built"
    FAILED = "failed"
    SKIPPED = "skipped"  # not claimable: done already, gone, or another worker holds it
    SUPERSEDED = "superseded"  # the job was taken from this attempt (deleted, re-claimed)
    IGNORED = "ignored"  # not an archive event


class JobFailed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


class Superseded(Exception):
    """This attempt no longer holds the job."""


def handle(raw: bytes | str, **options: Any) -> Outcome:
    """Run the job an ``archive.requested`` record asks for; other types are acknowledged."""
    payload = envelope(raw)
    if payload["type"] != EventType.ARCHIVE_REQUESTED:
        return Outcome.IGNORED
    try:
        archive_id = uuid.UUID(str(payload.get("file_id")))
    except ValueError as exc:
        raise MalformedEventError("archive.requested without a valid archive id (file_id)") from exc
    return run(archive_id, **options)


def entry_paths(items: Sequence[tuple[str, str]], directories: Sequence[str] = ()) -> list[str]:
    """One distinct entry name per ``(directory, name)``: "dir/a.txt", "dir/a (2).txt", ...; a file
    never takes a directory's name either (pure). Case-insensitive, as most file systems are."""
    seen = {d.lower() for d in directories}
    names = []
    for directory, name in items:
        prefix = f"{directory}/" if directory else ""
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, dot, ext = name, "", ""
        candidate, n = prefix + name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{prefix}{stem} ({n}){dot}{ext}"
        seen.add(candidate.lower())
        names.append(candidate)
    return names


def entry_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One distinct name per source of a selection: "a.txt", "a (2).txt", ... (pure)."""
    return entry_paths([("", str(row["name"])) for row in rows])


@dataclass(frozen=True)
class Plan:
    """What goes into one ZIP: the sources, their entry names, and directory entries first."""

    sources: list[FileRow]
    names: list[str]
    directories: list[str]


def _date_time(value: datetime) -> tuple[int, int, int, int, int, int]:
    if value.year < 1980:  # the ZIP format's epoch
        return (1980, 1, 1, 0, 0, 0)
    return (value.year, value.month, value.day, value.hour, value.minute, value.second)


class _Progress:
    def __init__(self, archive_id: uuid.UUID, attempt: int) -> None:
        self.archive_id, self.attempt = archive_id, attempt
        self.files = 0
        self.bytes = 0
        self._last = time.monotonic()

    def tick(self, *, force: bool = False) -> None:
        """Write progress and the heartbeat (at most every ``PROGRESS_EVERY_S``); Superseded if lost."""
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        with transaction() as conn:
            if not archives_db.progress(conn, self.archive_id, self.attempt, self.files, self.bytes):
                raise Superseded()


def _write_zip(sink: MultipartSink, plan: Plan, progress: _Progress, chunk_bytes: int) -> None:
    """Every directory, then every source, into one ZIP on ``sink``. On any error the sink is put in
    discard mode first, so what zipfile writes while unwinding (the entry's descriptor, the central
    directory) never reaches S3; the caller aborts the upload."""
    try:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            now = _date_time(datetime.now(UTC))
            for directory in plan.directories:
                info = zipfile.ZipInfo(f"{directory}/", date_time=now)
                info.external_attr = _DIRECTORY
                archive.writestr(info, b"")
            for row, name in zip(plan.sources, plan.names, strict=True):
                _write_entry(archive, sink, row, name, progress, chunk_bytes)
                progress.files += 1
                progress.tick()
    except BaseException:
        sink.discard()
        raise
    progress.tick(force=True)


def _write_entry(archive: zipfile.ZipFile, sink: MultipartSink, row: Mapping[str, Any], name: str,
                 progress: _Progress, chunk_bytes: int) -> None:
    file_id = row["file_id"]
    try:
        size, etag = head(row["s3_key"])
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            raise JobFailed("source_missing", f"file {file_id}: its object is gone") from exc
        raise
    if size != int(row["size"]):
        raise JobFailed("source_changed", f"file {file_id}: {size} bytes, expected {row['size']}")
    info = zipfile.ZipInfo(name, date_time=_date_time(row["created_at"]))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size  # lets zipfile choose ZIP64 headers for entries near 4 GiB
    info.external_attr = _REGULAR_FILE
    with archive.open(info, "w") as entry:
        try:
            for chunk in read_ranges(row["s3_key"], size, etag, chunk_bytes):
                entry.write(chunk)
                progress.bytes += len(chunk)
                progress.tick()
        except BaseException as exc:
            sink.discard()  # before the entry's close writes its descriptor
            code = error_code(exc)
            if code in ("404", "NoSuchKey"):
                raise JobFailed("source_missing", f"file {file_id}: its object is gone") from exc
            if code in ("412", "PreconditionFailed"):
                raise JobFailed("source_changed", f"file {file_id}: replaced while archiving") from exc
            raise


def _fail(archive_id: uuid.UUID, attempt: int, reason: str, detail: str) -> Outcome:
    """Mark the job failed and record ``archive.failed`` with it; SUPERSEDED when this attempt had
    already lost it (deleted meanwhile)."""
    with transaction() as conn:
        row = archives_db.mark_failed(conn, archive_id, attempt, reason, detail)
        if row is None:
            return Outcome.SUPERSEDED
        events.record(conn, archives.failed_event(row))
    events.publish_now([archive_id])
    metrics.add_metric(name="ArchivesFailed", unit="Count", value=1)
    logger.warning("archive failed",
                   extra={"archive_id": str(archive_id), "reason": reason, "detail": detail})
    return Outcome.FAILED


def _plan(row: ArchiveRow) -> Plan:
    """The job's sources as its owner may read them now. A folder is walked again and the row's
    file list and totals set to what was found (Superseded if the attempt lost the job)."""
    with transaction() as conn:
        if row.folder_id is None:
            sources = archives.readable_sources(conn, row.owner_id, list(row.file_ids))
            return Plan(sources=sources, names=entry_names(sources), directories=[])
        config = settings()
        tree = archives.folder_sources(conn, row.owner_id, row.folder_id, config.archive_max_files)
        if not tree.files:
            raise Conflict("the folder holds no ready file any more", code="folder_empty")
        sources = [r for _, r in tree.files]
        total = sum(r.size for r in sources)
        archives.check_total(total, config.archive_max_bytes)
        ids = [r.file_id for r in sources]
        if not archives_db.set_sources(conn, row.archive_id, row.attempt, ids, total):
            raise Superseded()
    return Plan(sources=sources, names=entry_paths([(d, r.name) for d, r in tree.files], tree.directories),
                directories=tree.directories)


def run(archive_id: uuid.UUID, *, part_bytes: int | None = None, chunk_bytes: int = CHUNK_BYTES,
        inflight: int = 2) -> Outcome:
    """Build one archive (idempotent: see the module doc). Raises only to have the event redelivered."""
    with transaction() as conn:
        row, before = archives_db.claim(conn, archive_id, archives.STALE_AFTER_S)
    if row is None:
        logger.info("archive job not claimable", extra={
            "archive_id": str(archive_id), "status": before.status if before else None})
        return Outcome.SKIPPED
    if before is not None and before.upload_id:  # a dead attempt's parts
        storage.abort_multipart(before.s3_key, before.upload_id)
    attempt = row.attempt
    try:
        plan = _plan(row)
    except (NotFound, Conflict) as exc:
        return _fail(archive_id, attempt, "source_unavailable", exc.message)
    except TooLarge as exc:
        return _fail(archive_id, attempt, "too_large", exc.message)
    except Superseded:
        return Outcome.SUPERSEDED

    size_hint = sum(r.size for r in plan.sources)
    sink = MultipartSink(row.s3_key, inflight=inflight,
                         part_bytes=part_bytes or part_size_for(size_hint, settings().archive_part_bytes))
    progress = _Progress(archive_id, attempt)
    started = time.monotonic()
    try:
        upload_id = sink.start()
        with transaction() as conn:
            if not archives_db.set_upload_id(conn, archive_id, attempt, upload_id):
                raise Superseded()
        _write_zip(sink, plan, progress, chunk_bytes)
        size = sink.complete()
    except Superseded:
        sink.abort()
        return Outcome.SUPERSEDED
    except JobFailed as exc:
        sink.abort()
        return _fail(archive_id, attempt, exc.reason, exc.detail)
    except (ClientError, BotoCoreError) as exc:
        sink.abort()
        return _fail(archive_id, attempt, "storage_error", f"S3: {error_code(exc) or type(exc).__name__}")
    except BaseException:
        sink.abort()
        try:
            with transaction() as conn:
                archives_db.release(conn, archive_id, attempt)
        except Exception:  # the database is down too: the claim goes stale, a redelivery takes it
            logger.warning("could not release the archive job", exc_info=True)
        raise

    with transaction() as conn:
        ready = archives_db.mark_ready(conn, archive_id, attempt, size, settings().archive_ttl_s)
        if ready is not None:
            assert ready.expires_at is not None
            events.record(conn, Event(type=EventType.ZIP_READY, file_id=archive_id, owner_id=row.owner_id,
                                      data={"name": ready.name, "files": ready.files_total,
                                            "size": size, "expires_at": ready.expires_at.isoformat()}))
    if ready is None:  # deleted while it was being completed: remove what was just written
        storage.delete_objects([row.s3_key])
        return Outcome.SUPERSEDED
    events.publish_now([archive_id])
    elapsed = max(time.monotonic() - started, 1e-6)
    metrics.add_metric(name="ArchivesBuilt", unit="Count", value=1)
    metrics.add_metric(name="ArchiveBytes", unit="Bytes", value=size)
    logger.info("archive built", extra={"archive_id": str(archive_id), "files": len(plan.sources),
                                        "size": size, "mb_per_s": round(size_hint / elapsed / 1e6, 1)})
    return Outcome.BUILT
