"""SQL for the ``shares`` table (a file shared with a user as a viewer) and the reads sharing needs.

Queries interpolate only the constant column list of ``db.files``; every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db import typed
from fileshare.db.files import COLUMNS as FILE_COLUMNS
from fileshare.db.files import FileRow
from fileshare.lifecycle import VIEWER_VISIBLE

# A viewer sees the file while it is in one of these states (not trashed, not being deleted).
VIEWABLE_STATUSES = tuple(sorted(s.value for s in VIEWER_VISIBLE))
_SHARE_COLUMNS = "s.share_id, s.file_id, s.grantee_id, u.email, s.permission, s.created_at"


@dataclass(frozen=True)
class SharedFileRow(FileRow):
    """A file shared with the caller, and when it was shared."""

    shared_at: datetime


@dataclass(frozen=True)
class ShareRow:
    """A share with its grantee's email."""

    share_id: UUID
    file_id: UUID
    grantee_id: str
    email: str
    permission: str
    created_at: datetime


@dataclass(frozen=True)
class RemovedShare:
    share_id: UUID
    file_id: UUID
    grantee_id: str


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str


def lock_file(conn: Connection[Any], file_id: UUID) -> FileRow | None:
    """The file's row, locked for this transaction (``FOR NO KEY UPDATE``: the lock an UPDATE
    takes). Every share or link change of a file takes it first, so they serialize per file and
    the outbox's order of a file's events is their commit order."""
    row = typed.one(conn, FileRow, f"SELECT {FILE_COLUMNS} FROM files WHERE file_id = %s FOR NO KEY UPDATE",
                                   (file_id,))
    return row


def user_by_email(conn: Connection[Any], email: str) -> Account | None:
    return typed.one(conn, Account, "SELECT user_id, email FROM users WHERE lower(email) = lower(%s)",
                     (email,))


def insert(conn: Connection[Any], *, share_id: UUID, file_id: UUID, grantee_id: str,
           permission: str) -> ShareRow | None:
    """The new share with the grantee's email; None when the file is already shared with them."""
    return typed.one(
        conn, ShareRow,
        "WITH s AS (INSERT INTO shares (share_id, file_id, grantee_id, permission) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (file_id, grantee_id) DO NOTHING RETURNING *)"
        f" SELECT {_SHARE_COLUMNS} FROM s JOIN users u ON u.user_id = s.grantee_id",
        (share_id, file_id, grantee_id, permission))


def count_for_file(conn: Connection[Any], file_id: UUID) -> int:
    row = conn.execute("SELECT count(*) AS n FROM shares WHERE file_id = %s", (file_id,)).fetchone()
    return int(row["n"]) if row else 0


def list_for_file(conn: Connection[Any], file_id: UUID) -> list[ShareRow]:
    return typed.many(
        conn, ShareRow, f"SELECT {_SHARE_COLUMNS} FROM shares s JOIN users u ON u.user_id = s.grantee_id"
        " WHERE s.file_id = %s ORDER BY s.created_at, s.share_id", (file_id,))


def delete(conn: Connection[Any], file_id: UUID, share_id: UUID) -> RemovedShare | None:
    """Remove one share of this file; None when the file has no such share."""
    return typed.one(
        conn, RemovedShare,
        "DELETE FROM shares WHERE share_id = %s AND file_id = %s RETURNING share_id, file_id, grantee_id",
        (share_id, file_id))


def is_viewer(conn: Connection[Any], file_id: UUID | str, user_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM shares WHERE file_id = %s AND grantee_id = %s",
                       (file_id, user_id)).fetchone()
    return row is not None


def shared_among(conn: Connection[Any], user_id: str, file_ids: list[UUID]) -> set[UUID]:
    """Which of ``file_ids`` are shared with ``user_id`` (for re-checking search hits)."""
    if not file_ids:
        return set()
    rows = conn.execute("SELECT file_id FROM shares WHERE grantee_id = %s AND file_id = ANY(%s)",
                        (user_id, file_ids)).fetchall()
    return {r["file_id"] for r in rows}


def readers_for(conn: Connection[Any], file_id: UUID) -> list[str]:
    """The search ACL of a file: its owner first, then every viewer (empty if the file is gone).

    The processor calls this (or its own equivalent) when it indexes a file, and sharing calls it
    after every share change, so a document's ``readers`` always come from this one query.
    """
    rows = conn.execute(
        "SELECT f.owner_id AS user_id, 0 AS o FROM files f WHERE f.file_id = %(id)s"
        " UNION ALL SELECT s.grantee_id, 1 FROM shares s JOIN files f USING (file_id)"
        " WHERE s.file_id = %(id)s AND s.grantee_id <> f.owner_id"
        " ORDER BY o, user_id", {"id": file_id}).fetchall()
    return [r["user_id"] for r in rows]


def shared_with(conn: Connection[Any], user_id: str, limit: int,
                after: tuple[datetime, UUID] | None) -> list[SharedFileRow]:
    """Files shared with the user that a viewer may see, most recently shared first; each row is
    the file's columns plus ``shared_at``."""
    columns = ", ".join(f"f.{c.strip()}" for c in FILE_COLUMNS.split(","))
    sql = (f"SELECT {columns}, s.created_at AS shared_at FROM shares s JOIN files f USING (file_id)"
           " WHERE s.grantee_id = %s AND f.status = ANY(%s)")
    params: list[Any] = [user_id, list(VIEWABLE_STATUSES)]
    if after is not None:
        sql += " AND (s.created_at, s.file_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY s.created_at DESC, s.file_id DESC LIMIT %s"
    params.append(limit)
    return typed.many(conn, SharedFileRow, sql, params)
