"""SQL for the ``users`` table."""
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from psycopg import Connection

from fileshare.db.transitions import status_list
from fileshare.lifecycle import STORED, FileStatus

Row = dict[str, Any]


def ensure(conn: Connection[Any], user_id: str, email: str, quota_bytes: int) -> Row | None:
    """The user's row, created on first sight. None if the email already belongs to another id."""
    conn.execute(
        "INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (user_id, email, quota_bytes))
    return get(conn, user_id)


def change_email(conn: Connection[Any], user_id: str, email: str) -> Row | None:
    """Move the row to a newly verified address; None if another row holds it."""
    row: Row | None = conn.execute(
        "UPDATE users SET email = %s WHERE user_id = %s AND NOT EXISTS"
        " (SELECT 1 FROM users WHERE email = %s AND user_id <> %s)"
        " RETURNING user_id, email, quota_bytes", (email, user_id, email, user_id)).fetchone()
    return row


def get(conn: Connection[Any], user_id: str, *, for_update: bool = False) -> Row | None:
    sql = "SELECT user_id, email, quota_bytes FROM users WHERE user_id = %s"
    row: Row | None = conn.execute(sql + (" FOR UPDATE" if for_update else ""), (user_id,)).fetchone()
    return row


def usage(conn: Connection[Any], user_id: str) -> tuple[int, int]:
    """(bytes stored, bytes reserved by pending uploads). Trashed files still occupy storage."""
    row = conn.execute(
        f"SELECT coalesce(sum(size) FILTER (WHERE status IN ({status_list(STORED)})), 0) AS used,"
        f"       coalesce(sum(size) FILTER (WHERE status = '{FileStatus.PENDING.value}'), 0) AS pending"
        " FROM files WHERE owner_id = %s", (user_id,)).fetchone()
    assert row is not None
    return int(row["used"]), int(row["pending"])
