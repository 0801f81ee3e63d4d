"""SQL the sweeper prunes with: one bounded batch per call, oldest first (migration 0011's indexes)."""

from __future__ import annotations

from typing import Any

from psycopg import Connection


def prune_published_outbox(conn: Connection[Any], retention_days: int, limit: int) -> int:
    """Delete up to ``limit`` outbox rows published more than ``retention_days`` ago (unpublished
    rows are never touched: the relay still owes them to Kafka)."""
    return conn.execute(
        "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE published_at IS NOT NULL"
        " AND published_at < now() - make_interval(days => %s) ORDER BY published_at LIMIT %s"
        " FOR UPDATE SKIP LOCKED)", (retention_days, limit)).rowcount


def prune_read_notifications(conn: Connection[Any], retention_days: int, limit: int) -> int:
    """Delete up to ``limit`` notifications read more than ``retention_days`` ago (unread ones stay)."""
    return conn.execute(
        "DELETE FROM notifications WHERE notification_id IN (SELECT notification_id FROM notifications"
        " WHERE read_at IS NOT NULL AND read_at < now() - make_interval(days => %s)"
        " ORDER BY read_at LIMIT %s FOR UPDATE SKIP LOCKED)", (retention_days, limit)).rowcount
