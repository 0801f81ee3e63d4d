"""SQL for the ``links`` table: public links with an optional expiry, password and download limit.

The download count is decided by one atomic ``UPDATE ... WHERE downloads < max_downloads``: of any
number of concurrent requests, PostgreSQL lets exactly ``max_downloads`` increments match.
Queries interpolate only the constant column lists below; every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db import typed
from fileshare.lifecycle import FileStatus


@dataclass(frozen=True)
class LinkRow:
    link_id: UUID
    file_id: UUID
    token_hash: str
    password_hash: str | None
    expires_at: datetime | None
    max_downloads: int | None
    downloads: int
    revoked_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class LinkWithFile(LinkRow):
    """A link and what opening it needs to know about its file."""

    owner_id: str
    status: str
    s3_key: str
    name: str
    content_type: str
    size: int


_COLUMNS = ("link_id, file_id, token_hash, password_hash, expires_at, max_downloads, downloads, revoked_at,"
            " created_at")
_L_COLUMNS = ", ".join(f"l.{c.strip()}" for c in _COLUMNS.split(","))
# What opening a link needs to know about its file.
_FILE_COLUMNS = "f.owner_id, f.status, f.s3_key, f.name, f.content_type, f.size"


def insert(conn: Connection[Any], *, link_id: UUID, file_id: UUID, token_hash: str,
           password_hash: str | None, expires_at: datetime | None, max_downloads: int | None) -> LinkRow:
    row = typed.one(
        conn, LinkRow,
        "INSERT INTO links (link_id, file_id, token_hash, password_hash, expires_at, max_downloads)"
        f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (link_id, file_id, token_hash, password_hash, expires_at, max_downloads))
    assert row is not None
    return row


def count_active(conn: Connection[Any], file_id: UUID) -> int:
    """Links not revoked (expired and used-up ones count until revoked: they still show in the list)."""
    row = conn.execute("SELECT count(*) AS n FROM links WHERE file_id = %s AND revoked_at IS NULL",
                       (file_id,)).fetchone()
    return int(row["n"]) if row else 0


def list_active(conn: Connection[Any], file_id: UUID) -> list[LinkRow]:
    """The file's links that are not revoked (expired and used-up ones included), oldest first."""
    return typed.many(conn, LinkRow, f"SELECT {_COLUMNS} FROM links WHERE file_id = %s AND revoked_at IS NULL"
                      " ORDER BY created_at, link_id", (file_id,))


def get_with_owner(conn: Connection[Any], link_id: UUID) -> LinkWithFile | None:
    """The link (revoked or not) with its file's owner and status."""
    return typed.one(conn, LinkWithFile,
                     f"SELECT {_L_COLUMNS}, {_FILE_COLUMNS} FROM links l JOIN files f USING (file_id)"
                     " WHERE l.link_id = %s", (link_id,))


def by_token_hash(conn: Connection[Any], token_hash: str) -> LinkWithFile | None:
    """The link with this token hash and what opening it needs from its file."""
    return typed.one(conn, LinkWithFile,
                     f"SELECT {_L_COLUMNS}, {_FILE_COLUMNS} FROM links l JOIN files f USING (file_id)"
                     " WHERE l.token_hash = %s", (token_hash,))


def revoke(conn: Connection[Any], link_id: UUID) -> LinkRow | None:
    """Revoke now; None when it was already revoked."""
    return typed.one(conn, LinkRow,
                     "UPDATE links SET revoked_at = now() WHERE link_id = %s AND revoked_at IS NULL"
                     f" RETURNING {_COLUMNS}", (link_id,))


def count_download(conn: Connection[Any], link_id: UUID) -> int | None:
    """Take one download, atomically: the new count, or None when the link is revoked, expired or
    used up, or its file is no longer ready (the caller re-reads the row to say which)."""
    row = conn.execute(
        "UPDATE links l SET downloads = l.downloads + 1 FROM files f"
        f" WHERE l.link_id = %s AND f.file_id = l.file_id AND f.status = '{FileStatus.READY.value}'"
        " AND l.revoked_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > now())"
        " AND (l.max_downloads IS NULL OR l.downloads < l.max_downloads)"
        " RETURNING l.downloads", (link_id,)).fetchone()
    return int(row["downloads"]) if row else None
