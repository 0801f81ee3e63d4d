"""SQL for the ``activity`` table (migration 0045): the per-file feed the activity consumer writes.

The event id is the primary key: writing an event twice is a no-op (``ON CONFLICT DO NOTHING``),
and lists sort by the event's ``occurred_at`` (then its id), so the order deliveries arrived in
never shows.
"""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

from fileshare.db import typed


@dataclass(frozen=True)
class ActivityRow:
    """An ``activity`` row as the feed and the export read it."""

    event_id: UUID
    owner_id: str
    file_id: UUID  # the folder's id for folder_* actions
    action: str
    event_type: str
    occurred_at: datetime
    file_name: str
    details: dict[str, Any]


COLUMNS = ", ".join(f.name for f in fields(ActivityRow))


def insert(conn: Connection[Any], *, event_id: UUID, owner_id: str, file_id: UUID, action: str,
           event_type: str, occurred_at: datetime, file_name: str, details: dict[str, Any]) -> bool:
    """Write one activity row; False when the event was written before or its owner has no account
    (a deleted account's history went with it)."""
    return conn.execute(
        "INSERT INTO activity (event_id, owner_id, file_id, action, event_type, occurred_at, file_name,"
        " details) SELECT %s, %s, %s, %s, %s, %s, %s, %s"
        " WHERE EXISTS (SELECT 1 FROM users WHERE user_id = %s)"
        " ON CONFLICT (event_id) DO NOTHING",
        (event_id, owner_id, file_id, action, event_type, occurred_at, file_name, Jsonb(details),
         owner_id)).rowcount == 1


def for_file(conn: Connection[Any], file_id: UUID, *, limit: int,
             after: tuple[datetime, UUID] | None) -> list[ActivityRow]:
    """One file's activity, newest first, after a keyset position."""
    sql = f"SELECT {COLUMNS} FROM activity WHERE file_id = %s"
    params: list[Any] = [file_id]
    if after is not None:
        sql += " AND (occurred_at, event_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY occurred_at DESC, event_id DESC LIMIT %s"
    params.append(limit)
    return typed.many(conn, ActivityRow, sql, params)


def for_owner(conn: Connection[Any], owner_id: str, *, limit: int,
              after: tuple[datetime, UUID] | None) -> list[ActivityRow]:
    """Everything done to the owner's files, oldest first (the export), after a keyset position."""
    sql = f"SELECT {COLUMNS} FROM activity WHERE owner_id = %s"
    params: list[Any] = [owner_id]
    if after is not None:
        sql += " AND (occurred_at, event_id) > (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY occurred_at, event_id LIMIT %s"
    params.append(limit)
    return typed.many(conn, ActivityRow, sql, params)


def prune(conn: Connection[Any], retention_days: int, limit: int) -> int:
    """Delete up to ``limit`` activity rows that happened more than ``retention_days`` ago, oldest
    first (the sweeper's housekeeping, one bounded batch per call)."""
    return conn.execute(
        "DELETE FROM activity WHERE event_id IN (SELECT event_id FROM activity"
        " WHERE occurred_at < now() - make_interval(days => %s) ORDER BY occurred_at LIMIT %s"
        " FOR UPDATE SKIP LOCKED)", (retention_days, limit)).rowcount
