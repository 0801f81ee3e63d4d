"""SQL for the ``files`` table.

Queries interpolate only the constant column lists below; every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db.transitions import guard, set_status, status_list
from fileshare.lifecycle import LISTED, FileStatus, Trigger

Row = dict[str, Any]

COLUMNS = ("file_id, owner_id, name, s3_key, size, content_type, status, reject_reason, checksum_sha256,"
           " s3_checksum, thumbnail_key, upload_id, part_checksum_algorithm, tags, expires_at, trashed_at,"
           " created_at, updated_at")
UPDATABLE = frozenset({"name", "tags", "expires_at"})


def insert(conn: Connection[Any], *, file_id: UUID, owner_id: str, name: str, s3_key: str, size: int,
           content_type: str, tags: list[str], expires_at: datetime | None) -> Row:
    row: Row | None = conn.execute(
        "INSERT INTO files (file_id, owner_id, name, s3_key, size, content_type, status, tags, expires_at)"
        f" VALUES (%s, %s, %s, %s, %s, %s, '{FileStatus.PENDING.value}', %s, %s) RETURNING {COLUMNS}",
        (file_id, owner_id, name, s3_key, size, content_type, tags, expires_at)).fetchone()
    assert row is not None
    return row


def get(conn: Connection[Any], file_id: UUID, *, for_update: bool = False) -> Row | None:
    sql = f"SELECT {COLUMNS} FROM files WHERE file_id = %s" + (" FOR UPDATE" if for_update else "")
    row: Row | None = conn.execute(sql, (file_id,)).fetchone()
    return row


def get_many(conn: Connection[Any], file_ids: list[UUID]) -> list[Row]:
    return conn.execute(f"SELECT {COLUMNS} FROM files WHERE file_id = ANY(%s)", (file_ids,)).fetchall()


def list_active(conn: Connection[Any], owner_id: str, limit: int,
                after: tuple[datetime, UUID] | None) -> list[Row]:
    """The owner's files that are not trashed or being deleted, newest first, after a keyset position."""
    sql = f"SELECT {COLUMNS} FROM files WHERE owner_id = %s AND status IN ({status_list(LISTED)})"
    params: list[Any] = [owner_id]
    if after is not None:
        sql += " AND (created_at, file_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY created_at DESC, file_id DESC LIMIT %s"
    params.append(limit)
    return conn.execute(sql, params).fetchall()


def update(conn: Connection[Any], file_id: UUID, changes: dict[str, Any]) -> Row:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = ", ".join(f"{column} = %s" for column in changes)  # names from UPDATABLE only
    row: Row | None = conn.execute(
        f"UPDATE files SET {assignments}, updated_at = now() WHERE file_id = %s RETURNING {COLUMNS}",
        [*changes.values(), file_id]).fetchone()
    assert row is not None
    return row


def trash(conn: Connection[Any], file_id: UUID) -> Row | None:
    """pending|ready|rejected -> trashed, remembering the status; None when the table does not
    allow it (already trashed, being deleted, or gone)."""
    row: Row | None = conn.execute(
        f"UPDATE files SET {set_status(Trigger.TRASH)}, trashed_at = now(),"
        f" updated_at = now() WHERE file_id = %s AND {guard(Trigger.TRASH)} RETURNING {COLUMNS}",
        (file_id,)).fetchone()
    return row


def set_upload_id(conn: Connection[Any], file_id: UUID, upload_id: str,
                  part_checksum_algorithm: str | None = None) -> None:
    conn.execute("UPDATE files SET upload_id = %s, part_checksum_algorithm = %s WHERE file_id = %s",
                 (upload_id, part_checksum_algorithm, file_id))
