"""The sweeper's housekeeping: tables that only grow are pruned, and held-back emails go out.

- published outbox rows older than ``OUTBOX_RETENTION_DAYS`` (unpublished ones are never pruned);
- notifications read more than ``NOTIFICATION_RETENTION_DAYS`` ago (unread ones stay);
- activity that happened more than ``ACTIVITY_RETENTION_DAYS`` ago (feeds and the export);
- per-day email counts older than two days;
- link-download digests whose period is over and which hold unreported downloads are emailed.

Each prune deletes in batches of ``BATCH`` rows, one short transaction each, at most
``MAX_BATCHES`` per table and run, and stops when ``has_time()`` says so: a backlog is worked
off over several runs without long locks or a timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fileshare.activity import rows as activity_db
from fileshare.adapters.observability import logger, metrics
from fileshare.config import settings
from fileshare.db import email_limits as limits_db
from fileshare.db import housekeeping as sql
from fileshare.db.connection import transaction
from fileshare.notifications import notices as notifications

BATCH = 1000
MAX_BATCHES = 20


@dataclass
class HousekeepingResult:
    outbox_pruned: int = 0
    notifications_pruned: int = 0
    activity_pruned: int = 0
    digest_emails: int = 0


def _prune(step: Callable[[Any, int], int], has_time: Callable[[], bool], batch: int) -> int:
    total = 0
    for _ in range(MAX_BATCHES):
        if not has_time():
            break
        with transaction() as conn:
            n = step(conn, batch)
        total += n
        if n < batch:
            break
    return total


def run(has_time: Callable[[], bool] = lambda: True, batch: int = BATCH) -> HousekeepingResult:
    config = settings()
    result = HousekeepingResult()
    result.outbox_pruned = _prune(
        lambda conn, n: sql.prune_published_outbox(conn, config.outbox_retention_days, n), has_time, batch)
    result.notifications_pruned = _prune(
        lambda conn, n: sql.prune_read_notifications(conn, config.notification_retention_days, n),
        has_time, batch)
    result.activity_pruned = _prune(
        lambda conn, n: activity_db.prune(conn, config.activity_retention_days, n), has_time, batch)
    if has_time():
        with transaction() as conn:
            limits_db.prune_daily_counts(conn)
    if has_time():
        try:
            result.digest_emails = notifications.flush_digests()
        except Exception:  # SES down: the digests stay pending for the next run
            logger.exception("could not send link download digests")
    metrics.add_metric(name="OutboxRowsPruned", unit="Count", value=result.outbox_pruned)
    metrics.add_metric(name="NotificationsPruned", unit="Count", value=result.notifications_pruned)
    metrics.add_metric(name="ActivityPruned", unit="Count", value=result.activity_pruned)
    return result
