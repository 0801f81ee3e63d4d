"""SQL for the ``links`` table: public links with an optional expiry, password and download limit.

The download count is decided by one atomic ``UPDATE ... WHERE downloads < max_downloads``: of any
number of concurrent requests, PostgreSQL lets exactly ``max_downloads`` increments match.
Queries interpolate only the constant column lists below; every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

Row = dict[str, Any]

_COLUMNS = ("link_id, file_id, token_hash, password_hash, expires_at, max_downloads, downloads, revoked_at,"
            " created_at")
_L_COLUMNS = ", ".join(f"l.{c.strip()}" for c in _COLUMNS.split(","))
# What opening a link needs to know about its file.
_FILE_COLUMNS = "f.owner_id, f.status, f.s3_key, f.name, f.content_type, f.size"


def insert(conn: Connection[Any], *, link_id: UUID, file_id: UUID, token_hash: str,
           password_hash: str | None, expires_at: datetime | None, max_downloads: int | None) -> Row:
    row: Row | None = conn.execute(
        "INSERT INTO links (link_id, file_id, token_hash, password_hash, expires_at, max_downloads)"
        f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (link_id, file_id, token_hash, password_hash, expires_at, max_downloads)).fetchone()
    assert row is not None
    return row


def list_active(conn: Connection[Any], file_id: UUID) -> list[Row]:
    """The file's links that are not revoked (expired and used-up ones included), oldest first."""
    return conn.execute(f"SELECT {_COLUMNS} FROM links WHERE file_id = %s AND revoked_at IS NULL"
                        " ORDER BY created_at, link_id", (file_id,)).fetchall()


def get_with_owner(conn: Connection[Any], link_id: UUID) -> Row | None:
    """The link (revoked or not) with its file's owner and status."""
    row: Row | None = conn.execute(
        f"SELECT {_L_COLUMNS}, {_FILE_COLUMNS} FROM links l JOIN files f USING (file_id)"
        " WHERE l.link_id = %s", (link_id,)).fetchone()
    return row


def by_token_hash(conn: Connection[Any], token_hash: str) -> Row | None:
    """The link with this token hash and what opening it needs from its file."""
    row: Row | None = conn.execute(
        f"SELECT {_L_COLUMNS}, {_FILE_COLUMNS} FROM links l JOIN files f USING (file_id)"
        " WHERE l.token_hash = %s", (token_hash,)).fetchone()
    return row


def revoke(conn: Connection[Any], link_id: UUID) -> Row | None:
    """Revoke now; None when it was already revoked."""
    row: Row | None = conn.execute(
        f"UPDATE links SET revoked_at = now() WHERE link_id = %s AND revoked_at IS NULL RETURNING {_COLUMNS}",
        (link_id,)).fetchone()
    return row


def count_download(conn: Connection[Any], link_id: UUID) -> int | None:
    """Take one download, atomically: the new count, or None when the link is revoked, expired or
    used up, or its file is no longer ready (the caller re-reads the row to say which)."""
    row = conn.execute(
        "UPDATE links l SET downloads = l.downloads + 1 FROM files f"
        " WHERE l.link_id = %s AND f.file_id = l.file_id AND f.status = 'ready'"
        " AND l.revoked_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > now())"
        " AND (l.max_downloads IS NULL OR l.downloads < l.max_downloads)"
        " RETURNING l.downloads", (link_id,)).fetchone()
    return int(row["downloads"]) if row else None
