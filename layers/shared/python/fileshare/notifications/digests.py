"""The one email of a burst of ready uploads (``fileshare.notifications.bursts`` collects them in
the inbox): the sweeper mails each burst once it went quiet or reached its longest span."""
# ruff: noqa: S608 - the SQL is built from the bursts module's constant column list and condition

from __future__ import annotations

from collections.abc import Callable

from fileshare.adapters.observability import logger, metrics
from fileshare.config import Settings, settings
from fileshare.db import typed
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.notifications import bursts
from fileshare.notifications import notices as notifications


def flush(*, has_time: Callable[[], bool] = lambda: True, limit: int = 50) -> int:
    """Close the bursts that went quiet (or reached their longest span) and email each one once;
    how many emails went out. Run by the sweeper; rows are locked and skipped by concurrent runs."""
    if not settings().email_sender:  # no sender: the inbox has everything, nothing to mail
        return bursts.close_quiet()
    config = settings()
    sent = 0
    while has_time():
        try:
            burst_sent = _mail_one(config)
        except Exception:  # SES (or the database) unreachable: the burst's row rolled back unmailed
            logger.exception("mailing an upload burst failed; the next sweep tries again")
            metrics.add_metric(name="BurstEmailsFailed", unit="Count", value=1)
            break
        if burst_sent is None:
            break
        sent += burst_sent
        if sent >= limit:
            break
    if sent:
        metrics.add_metric(name="BurstEmailsSent", unit="Count", value=sent)
    return sent


def _mail_one(config: Settings) -> int | None:
    """Claim one quiet burst and mail it in one transaction (a failed send rolls the claim back):
    1 if mailed, 0 if claimed without a mail (no address, daily cap), None if none is left."""
    with transaction() as conn:
        burst = typed.one(conn, bursts.Burst,
                          f"SELECT {bursts.BURST_COLUMNS} FROM notice_bursts WHERE emailed_at IS NULL"
                          f" AND (closed_at IS NOT NULL OR {bursts.QUIET_IF})"
                          " ORDER BY last_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                          (config.upload_notice_window_s, config.upload_notice_max_s))
        if burst is None:
            return None
        conn.execute("UPDATE notice_bursts SET emailed_at = now(), closed_at = coalesce(closed_at, now())"
                     " WHERE burst_id = %s", (burst.burst_id,))
        address = users_db.email_of(conn, burst.user_id)
        if address is None or not notifications.within_daily_cap(conn, burst.user_id):
            return 0
        subject, message = bursts.text(burst.count, burst.names)
        notifications.send_email(address, notifications.Notice(
            user_id=burst.user_id, type=burst.type, file_id=burst.notification_id, subject=subject,
            message=message))
        logger.info("upload burst mailed", extra={"count": burst.count, "burst_id": str(burst.burst_id)})
        return 1

