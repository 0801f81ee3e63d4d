"""SQL for the ``users`` table."""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import Connection

from fileshare.db import typed, versions
from fileshare.db.transitions import status_list
from fileshare.lifecycle import STORED, FileStatus


@dataclass(frozen=True)
class UserRow:
    user_id: str
    email: str
    quota_bytes: int


_COLUMNS = "user_id, email, quota_bytes"


def ensure(conn: Connection[Any], user_id: str, email: str, quota_bytes: int) -> UserRow | None:
    """The user's row, created on first sight. None if the email already belongs to another id."""
    conn.execute(
        "INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (user_id, email, quota_bytes))
    return get(conn, user_id)


def change_email(conn: Connection[Any], user_id: str, email: str) -> UserRow | None:
    """Move the row to a newly verified address; None if another row holds it."""
    return typed.one(conn, UserRow,
                     "UPDATE users SET email = %s WHERE user_id = %s AND NOT EXISTS"
                     " (SELECT 1 FROM users WHERE email = %s AND user_id <> %s)"
                     f" RETURNING {_COLUMNS}", (email, user_id, email, user_id))


def get(conn: Connection[Any], user_id: str, *, for_update: bool = False) -> UserRow | None:
    sql = f"SELECT {_COLUMNS} FROM users WHERE user_id = %s" + (" FOR UPDATE" if for_update else "")
    return typed.one(conn, UserRow, sql, (user_id,))


def email_of(conn: Connection[Any], user_id: str) -> str | None:
    """The account's address; None when there is no such account (any more)."""
    row = conn.execute("SELECT email FROM users WHERE user_id = %s", (user_id,)).fetchone()
    return str(row["email"]) if row else None


def usage(conn: Connection[Any], user_id: str) -> tuple[int, int]:
    """(bytes stored, bytes reserved by pending uploads). Trashed files still occupy storage, and
    so does every kept version of a file (``file_versions``: ready ones stored, pending reserved)."""
    row = conn.execute(
        f"SELECT coalesce(sum(size) FILTER (WHERE status IN ({status_list(STORED)})), 0) AS used,"
        f"       coalesce(sum(size) FILTER (WHERE status = '{FileStatus.PENDING.value}'), 0) AS pending"
        " FROM files WHERE owner_id = %s", (user_id,)).fetchone()
    assert row is not None
    kept, reserved = versions.usage(conn, user_id)
    return int(row["used"]) + kept, int(row["pending"]) + reserved
