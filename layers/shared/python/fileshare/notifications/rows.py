"""SQL for the ``notifications`` table (the in-app inbox) and the reads the notifier needs.

One row per (user, event, type): the table's unique key is what makes delivering an event twice
harmless. ``email_sent_at`` (migration 0003) records that the email for the row went out.
"""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db import typed


@dataclass(frozen=True)
class NotificationRow:
    notification_id: UUID
    user_id: str
    event_id: UUID
    type: str
    file_id: UUID | None
    message: str
    created_at: datetime
    read_at: datetime | None
    email_sent_at: datetime | None


COLUMNS = "notification_id, user_id, event_id, type, file_id, message, created_at, read_at, email_sent_at"


def insert(conn: Connection[Any], *, notification_id: UUID, user_id: str, event_id: UUID, type: str,
           file_id: UUID | None, message: str) -> NotificationRow | None:
    """The new inbox row (``created_at``: now, when it reached the inbox); None when this
    (user, event, type) already has one (a redelivery)."""
    return typed.one(conn, NotificationRow,
                     "INSERT INTO notifications (notification_id, user_id, event_id, type, file_id, message)"
                     " VALUES (%s, %s, %s, %s, %s, %s)"
                     f" ON CONFLICT (user_id, event_id, type) DO NOTHING RETURNING {COLUMNS}",
                     (notification_id, user_id, event_id, type, file_id, message))


def claim_email(conn: Connection[Any], user_id: str, event_id: UUID, type: str) -> NotificationRow | None:
    """Set ``email_sent_at`` on the row for (user, event, type) if it is still NULL; the row if so.

    The caller sends the email before committing: the UPDATE's row lock makes a concurrent delivery
    of the same event wait, then find ``email_sent_at`` set (no second email); a failed send rolls
    the claim back (the retry sends).
    """
    return typed.one(conn, NotificationRow,
                     "UPDATE notifications SET email_sent_at = now()"
                     " WHERE user_id = %s AND event_id = %s AND type = %s AND email_sent_at IS NULL"
                     f" RETURNING {COLUMNS}", (user_id, event_id, type))


def page(conn: Connection[Any], user_id: str, *, unread_only: bool, limit: int,
         after: tuple[datetime, UUID] | None) -> list[NotificationRow]:
    """The user's notifications, newest first, after a keyset position."""
    sql = f"SELECT {COLUMNS} FROM notifications WHERE user_id = %s"
    params: list[Any] = [user_id]
    if unread_only:
        sql += " AND read_at IS NULL"
    if after is not None:
        sql += " AND (created_at, notification_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY created_at DESC, notification_id DESC LIMIT %s"
    params.append(limit)
    return typed.many(conn, NotificationRow, sql, params)


def mark_read(conn: Connection[Any], user_id: str, notification_id: UUID) -> NotificationRow | None:
    """Mark the user's notification read (the first read time is kept); None if not theirs."""
    return typed.one(conn, NotificationRow,
                     "UPDATE notifications SET read_at = coalesce(read_at, now())"
                     f" WHERE notification_id = %s AND user_id = %s RETURNING {COLUMNS}",
                     (notification_id, user_id))
