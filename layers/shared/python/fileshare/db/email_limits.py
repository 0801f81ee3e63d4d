"""SQL for the email flood limits (migration 0010): link-download digests and daily caps."""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db import typed


@dataclass(frozen=True)
class DigestRow:
    """A link's download digest; ``due`` (from ``add_download``): an email goes out now."""

    link_id: UUID
    user_id: str
    file_id: UUID
    name: str
    pending: int
    total: int
    last_sent_at: datetime | None
    due: bool = False


_DIGEST = "link_id, user_id, file_id, name, pending, total, last_sent_at"


def count_email(conn: Connection[Any], user_id: str, cap: int) -> int | None:
    """Count one email to ``user_id`` today (UTC); None when ``cap`` were already sent today. The
    row stays locked until the caller commits, so concurrent senders cannot both take the last one."""
    row = conn.execute(
        "INSERT INTO email_daily_counts (user_id, day, sent) VALUES (%s, (now() AT TIME ZONE 'UTC')::date, 1)"
        " ON CONFLICT (user_id, day) DO UPDATE SET sent = email_daily_counts.sent + 1"
        " WHERE email_daily_counts.sent < %s RETURNING sent", (user_id, cap)).fetchone()
    return int(row["sent"]) if row else None


def add_download(conn: Connection[Any], *, link_id: UUID, user_id: str, file_id: UUID, name: str,
                 total: int, period_s: int) -> DigestRow:
    """Count one download into the link's digest (row locked until commit); ``due``: whether the
    period since the last email is over (or none was sent), so an email goes out now."""
    row = typed.one(
        conn, DigestRow,
        "INSERT INTO link_email_digests (link_id, user_id, file_id, name, pending, total)"
        " VALUES (%s, %s, %s, %s, 1, %s)"
        " ON CONFLICT (link_id) DO UPDATE SET pending = link_email_digests.pending + 1,"
        "   total = greatest(link_email_digests.total, EXCLUDED.total), name = EXCLUDED.name"
        f" RETURNING {_DIGEST}, (last_sent_at IS NULL"
        "   OR last_sent_at <= now() - make_interval(secs => %s)) AS due",
        (link_id, user_id, file_id, name, total, period_s))
    assert row is not None  # an upsert always returns its row
    return row


def mark_sent(conn: Connection[Any], link_id: UUID) -> None:
    conn.execute("UPDATE link_email_digests SET pending = 0, last_sent_at = now() WHERE link_id = %s",
                 (link_id,))


def due(conn: Connection[Any], period_s: int, limit: int) -> list[DigestRow]:
    """Digests with unreported downloads whose period is over, locked (others skip them)."""
    return typed.many(
        conn, DigestRow, f"SELECT {_DIGEST} FROM link_email_digests WHERE pending > 0"
        " AND last_sent_at <= now() - make_interval(secs => %s)"
        " ORDER BY last_sent_at LIMIT %s FOR UPDATE SKIP LOCKED", (period_s, limit))


def prune_daily_counts(conn: Connection[Any], keep_days: int = 2) -> int:
    return conn.execute("DELETE FROM email_daily_counts WHERE day < (now() AT TIME ZONE 'UTC')::date - %s",
                        (keep_days,)).rowcount
