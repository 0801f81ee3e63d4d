"""SQL for the ``files`` table, and ``FileRow``: what every query of a file returns.

Queries interpolate only the constant column lists below; every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db import typed
from fileshare.db.transitions import guard, set_status, status_list
from fileshare.lifecycle import LISTED, FileStatus, Trigger


@dataclass(frozen=True)
class FileRow(Mapping[str, Any]):
    """A ``files`` row. Read its fields as attributes; it is also a read-only mapping, so the pure
    helpers that take a plain dict (a cache record, a test's row) take it too."""

    file_id: UUID
    owner_id: str
    name: str
    s3_key: str
    size: int
    content_type: str
    status: str  # a ``lifecycle.FileStatus`` value (``lifecycle.State.of(row)`` reads it)
    status_before_trash: str | None
    reject_reason: str | None
    checksum_sha256: str | None
    s3_checksum: str | None
    thumbnail_key: str | None
    verified_etag: str | None
    upload_id: str | None
    part_checksum_algorithm: str | None
    tags: list[str]
    expires_at: datetime | None
    trashed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    folder_id: UUID | None  # None: at the owner's root (fileshare.folders)

    def __getitem__(self, key: str) -> Any:
        if key not in _field_set(type(self)):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return _field_names(cls)


# Once per class: ``dataclasses.fields`` on every item read was ~45 % of a 50-row list request.
@cache
def _field_names(cls: type[FileRow]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@cache
def _field_set(cls: type[FileRow]) -> frozenset[str]:
    return frozenset(_field_names(cls))


COLUMNS = ", ".join(FileRow._names())
UPDATABLE = frozenset({"name", "tags", "expires_at", "folder_id"})


def insert(conn: Connection[Any], *, file_id: UUID, owner_id: str, name: str, s3_key: str, size: int,
           content_type: str, tags: list[str], expires_at: datetime | None,
           folder_id: UUID | None = None) -> FileRow:
    row = typed.one(conn, FileRow,
        "INSERT INTO files (file_id, owner_id, name, s3_key, size, content_type, status, tags, expires_at,"
        f" folder_id) VALUES (%s, %s, %s, %s, %s, %s, '{FileStatus.PENDING.value}', %s, %s, %s)"
        f" RETURNING {COLUMNS}",
        (file_id, owner_id, name, s3_key, size, content_type, tags, expires_at, folder_id))
    assert row is not None
    return row


def get(conn: Connection[Any], file_id: UUID, *, for_update: bool = False) -> FileRow | None:
    sql = f"SELECT {COLUMNS} FROM files WHERE file_id = %s" + (" FOR UPDATE" if for_update else "")
    row = typed.one(conn, FileRow, sql, (file_id,))
    return row


def get_many(conn: Connection[Any], file_ids: list[UUID]) -> list[FileRow]:
    return typed.many(conn, FileRow, f"SELECT {COLUMNS} FROM files WHERE file_id = ANY(%s)", (file_ids,))


def list_active(conn: Connection[Any], owner_id: str, limit: int,
                after: tuple[datetime, UUID] | None) -> list[FileRow]:
    """The owner's files that are not trashed or being deleted, newest first, after a keyset position."""
    sql = f"SELECT {COLUMNS} FROM files WHERE owner_id = %s AND status IN ({status_list(LISTED)})"
    params: list[Any] = [owner_id]
    if after is not None:
        sql += " AND (created_at, file_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY created_at DESC, file_id DESC LIMIT %s"
    params.append(limit)
    return typed.many(conn, FileRow, sql, params)


def update(conn: Connection[Any], file_id: UUID, changes: dict[str, Any]) -> FileRow:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = ", ".join(f"{column} = %s" for column in changes)  # names from UPDATABLE only
    row = typed.one(conn, FileRow,
        f"UPDATE files SET {assignments}, updated_at = now() WHERE file_id = %s RETURNING {COLUMNS}",
        [*changes.values(), file_id])
    assert row is not None
    return row


def trash(conn: Connection[Any], file_id: UUID) -> FileRow | None:
    """pending|ready|rejected -> trashed, remembering the status; None when the table does not
    allow it (already trashed, being deleted, or gone)."""
    row = typed.one(conn, FileRow,
        f"UPDATE files SET {set_status(Trigger.TRASH)}, trashed_at = now(),"
        f" updated_at = now() WHERE file_id = %s AND {guard(Trigger.TRASH)} RETURNING {COLUMNS}",
        (file_id,))
    return row


def set_upload_id(conn: Connection[Any], file_id: UUID, upload_id: str,
                  part_checksum_algorithm: str | None = None) -> None:
    conn.execute("UPDATE files SET upload_id = %s, part_checksum_algorithm = %s WHERE file_id = %s",
                 (upload_id, part_checksum_algorithm, file_id))
