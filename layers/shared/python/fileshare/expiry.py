"""The sweeper's work: send expired files and trash past retention down the purge path, and finish
purges that stalled.

- a pending or ready file whose ``expires_at`` has passed -> ``deleting`` + ``file.expired``;
- a file in the trash longer than ``TRASH_RETENTION_DAYS`` -> ``deleting`` + ``file.deleted``;
  each in bounded batches (``FOR UPDATE SKIP LOCKED``: concurrent sweepers take disjoint rows), one
  transaction per batch holding both the status changes and their outbox events;
- a file ``deleting`` for longer than ``STALLED_AFTER_S`` (its event's retries were exhausted, or it
  sat in the outbox while Kafka was down) is purged here directly, with the consumer's own
  idempotent steps, so no second event (and no second notification) is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fileshare import events
from fileshare.config import settings
from fileshare.db import trash as trash_db
from fileshare.db.connection import transaction
from fileshare.deletion import Reason, deletion_event, purge
from fileshare.observability import logger, metrics

BATCH = 100
STALLED_AFTER_S = 3600
STALLED_PER_RUN = 20


@dataclass
class SweepResult:
    expired: int = 0
    retention_purged: int = 0
    stalled_finished: int = 0
    stalled_failed: int = 0


def _batch(take: Callable[[Any], list[dict[str, Any]]], event_type: events.EventType, reason: Reason) -> int:
    """One transaction: take a batch into ``deleting`` and record each file's event; then publish."""
    with transaction() as conn:
        rows = take(conn)
        for row in rows:
            events.record(conn, deletion_event(row, event_type, reason))
    if rows:
        events.publish_now([r["file_id"] for r in rows])
    return len(rows)


def expire_batch(limit: int = BATCH) -> int:
    return _batch(lambda conn: trash_db.expire_due(conn, limit), events.EventType.FILE_EXPIRED,
                  Reason.EXPIRED)


def retention_batch(limit: int = BATCH) -> int:
    days = settings().trash_retention_days
    return _batch(lambda conn: trash_db.purge_retention_due(conn, days, limit),
                  events.EventType.FILE_DELETED, Reason.TRASH_RETENTION)


def finish_stalled(limit: int = STALLED_PER_RUN, stalled_after_s: int = STALLED_AFTER_S) -> tuple[int, int]:
    """Purge files stuck in ``deleting``; returns (finished, failed). A failure waits for a later run."""
    with transaction() as conn:
        rows = trash_db.claim_stalled(conn, stalled_after_s, limit)
    finished = failed = 0
    for row in rows:
        try:
            purge(row["file_id"], row["owner_id"])
            finished += 1
        except Exception:  # S3 or OpenSearch down: the row stays deleting; a later run retries it
            failed += 1
            logger.exception("could not finish a stalled purge", extra={"file_id": str(row["file_id"])})
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
    if has_time():
        result.stalled_finished, result.stalled_failed = finish_stalled()
    metrics.add_metric(name="FilesExpired", unit="Count", value=result.expired)
    metrics.add_metric(name="TrashRetentionPurges", unit="Count", value=result.retention_purged)
    metrics.add_metric(name="StalledPurgesFinished", unit="Count", value=result.stalled_finished)
    if result.stalled_failed:
        metrics.add_metric(name="StalledPurgesFailed", unit="Count", value=result.stalled_failed)
    return result
