"""The sweeper's work: send expired files and trash past retention down the purge path, finish
purges that stalled, and give up uploads that never arrived.

- a pending or ready file whose ``expires_at`` has passed -> ``deleting`` + ``file.expired``;
- a file in the trash longer than ``TRASH_RETENTION_DAYS`` -> ``deleting`` + ``file.deleted``;
  each in bounded batches (``FOR UPDATE SKIP LOCKED``: concurrent sweepers take disjoint rows), one
  transaction per batch holding both the status changes and their outbox events;
- a file ``deleting`` for longer than ``STALLED_AFTER_S`` (its event's retries were exhausted, or it
  sat in the outbox while Kafka was down) is purged here directly, with the consumer's own
  idempotent steps, so no second event (and no second notification) is needed;
- an upload still ``pending`` after ``PENDING_UPLOAD_TTL_SECONDS`` (never at less than the presign
  lifetime plus a margin, so no valid presigned request can still deliver it) was abandoned: it
  reserves quota (``POST /files`` counts pending bytes) for nothing. Its multipart upload is
  aborted and any object deleted, then it becomes ``rejected`` (``upload_abandoned``) with a
  ``file.rejected`` event, like any upload that failed verification: the owner is told and sees
  why in their list, and a late ObjectCreated event finds a rejected row and deletes the object
  again. (Deleting the row instead would make the file vanish without a word, and a late event an
  orphan.) The S3 steps run while the batch's rows are locked, before the commit: if S3 fails, the
  rows stay pending for the next run, so nothing is marked rejected with its bytes left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fileshare import event_types, events, records
from fileshare.adapters import cache
from fileshare.adapters.observability import logger, metrics
from fileshare.adapters.storage import abort_multipart, delete_objects, thumbnail_key_for
from fileshare.config import settings
from fileshare.db import processing as processing_db
from fileshare.db import trash as trash_db
from fileshare.db import versions as versions_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.deletion import Reason, deletion_event, purge
from fileshare.lifecycle import Trigger, emits

BATCH = 100
STALLED_AFTER_S = 3600
STALLED_PER_RUN = 20
PRESIGN_MARGIN_S = 600  # an upload started just before its presigned request expired may still arrive


@dataclass
class SweepResult:
    expired: int = 0
    retention_purged: int = 0
    stalled_finished: int = 0
    stalled_failed: int = 0
    abandoned: int = 0
    abandoned_failed: int = 0


def _batch(take: Callable[[Any], list[FileRow]], event_type: event_types.EventType, reason: Reason) -> int:
    """One transaction: take a batch into ``deleting`` and record each file's event; then publish."""
    with transaction() as conn:
        rows = take(conn)
        for row in rows:
            events.record(conn, deletion_event(row, event_type, reason))
    if rows:
        events.publish_now([r.file_id for r in rows])
    return len(rows)


def expire_batch(limit: int = BATCH) -> int:
    return _batch(lambda conn: trash_db.expire_due(conn, limit), emits(Trigger.EXPIRE), Reason.EXPIRED)


def retention_batch(limit: int = BATCH) -> int:
    days = settings().trash_retention_days
    return _batch(lambda conn: trash_db.purge_retention_due(conn, days, limit),
                  emits(Trigger.RETENTION_END), Reason.TRASH_RETENTION)


def abandoned_after_s() -> int:
    """How long an upload may stay pending: the setting, but never less than a presigned request's
    lifetime plus a margin."""
    config = settings()
    return max(config.pending_upload_ttl_s, config.presign_ttl_s + PRESIGN_MARGIN_S)


def abandoned_batch(limit: int = BATCH) -> int:
    """Reject up to ``limit`` abandoned uploads (oldest first); returns how many. Raises when S3
    fails, leaving the batch pending for the next run."""
    with transaction() as conn:
        rows = processing_db.expire_abandoned(conn, abandoned_after_s(), limit)
        if not rows:
            return 0
        _discard_uploads(rows)
        for row in rows:
            events.record(conn, records.file_rejected(row))
    for row in rows:
        cache.invalidate_file(row.file_id)
    events.publish_now([r.file_id for r in rows])
    logger.info("abandoned uploads rejected", extra={"files": len(rows)})
    return len(rows)


def abandoned_versions_batch(limit: int = BATCH) -> int:
    """Reject up to ``limit`` version uploads that never arrived (they reserve quota while pending),
    deleting any bytes in the same transaction; returns how many. Each tells its owner
    (``file.version_rejected``, ``upload_abandoned``); the file itself is unchanged."""
    with transaction() as conn:
        rows = versions_db.abandon_pending(conn, abandoned_after_s(), limit)
        for row in rows:
            if row.upload_id:
                abort_multipart(row.s3_key, row.upload_id)
        if rows:
            delete_objects([k for r in rows for k in (r.s3_key, thumbnail_key_for(r.owner_id, r.file_id,
                                                                                  r.s3_key))])
        for row in rows:
            events.record(conn, records.version_rejected(row))
    if rows:
        events.publish_now([r.file_id for r in rows])
        logger.info("abandoned version uploads rejected", extra={"versions": len(rows)})
    return len(rows)


def _discard_uploads(rows: list[FileRow]) -> None:
    """Abort the rows' multipart uploads (one already gone is fine) and delete any objects."""
    for row in rows:
        if row.upload_id:
            abort_multipart(row.s3_key, row.upload_id)
    delete_objects([r.s3_key for r in rows])


def finish_stalled(limit: int = STALLED_PER_RUN, stalled_after_s: int = STALLED_AFTER_S) -> tuple[int, int]:
    """Purge files stuck in ``deleting``; returns (finished, failed). A failure waits for a later run."""
    with transaction() as conn:
        rows = trash_db.claim_stalled(conn, stalled_after_s, limit)
    finished = failed = 0
    for row in rows:
        try:
            purge(row.file_id, row.owner_id)
            finished += 1
        except Exception:  # S3 or OpenSearch down: the row stays deleting; a later run retries it
            failed += 1
            logger.exception("could not finish a stalled purge", extra={"file_id": str(row.file_id)})
    return finished, failed


def sweep(has_time: Callable[[], bool] = lambda: True, batch: int = BATCH) -> SweepResult:
    """Run batches until nothing is due or ``has_time()`` says to stop."""
    result = SweepResult()
    while has_time():
        n = expire_batch(batch)
        result.expired += n
        if n < batch:
            break
    while has_time():
        n = retention_batch(batch)
        result.retention_purged += n
        if n < batch:
            break
    while has_time():
        try:
            n = abandoned_batch(batch)
        except Exception:  # S3 down: the rows stay pending; the other steps still run
            logger.exception("could not reject abandoned uploads")
            result.abandoned_failed += 1
            break
        result.abandoned += n
        if n < batch:
            break
    while has_time():
        try:
            n = abandoned_versions_batch(batch)
        except Exception:  # S3 down: the versions stay pending for the next run
            logger.exception("could not reject abandoned version uploads")
            result.abandoned_failed += 1
            break
        result.abandoned += n
        if n < batch:
            break
    if has_time():
        result.stalled_finished, result.stalled_failed = finish_stalled()
    metrics.add_metric(name="FilesExpired", unit="Count", value=result.expired)
    metrics.add_metric(name="TrashRetentionPurges", unit="Count", value=result.retention_purged)
    metrics.add_metric(name="StalledPurgesFinished", unit="Count", value=result.stalled_finished)
    if result.stalled_failed:
        metrics.add_metric(name="StalledPurgesFailed", unit="Count", value=result.stalled_failed)
    metrics.add_metric(name="AbandonedUploadsRejected", unit="Count", value=result.abandoned)
    if result.abandoned_failed:
        metrics.add_metric(name="AbandonedUploadsFailed", unit="Count", value=result.abandoned_failed)
    return result
