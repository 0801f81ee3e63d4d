"""SQL for the ``archives`` table (ZIP jobs), and ``ArchiveRow``: what every query of a job returns.

Every write of a running job names its ``attempt``: a claim bumps it, so an attempt that lost its
claim (a redelivered job message, the sweeper failing a stalled job, DELETE) changes nothing.
"""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db import typed


@dataclass(frozen=True)
class ArchiveRow:
    """An ``archives`` row (migrations 0040, 0055)."""

    archive_id: UUID
    owner_id: str
    name: str
    status: str  # queued | running | ready | failed | expired | deleted
    file_ids: list[UUID]  # a selection in the caller's order; a folder job's files as last resolved
    files_total: int
    bytes_total: int
    files_done: int
    bytes_done: int
    s3_key: str
    upload_id: str | None  # the running attempt's multipart upload
    size: int | None  # the ZIP's size once ready
    attempt: int
    heartbeat_at: datetime | None
    failure_reason: str | None
    failure_detail: str | None
    created_at: datetime
    updated_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    folder_id: UUID | None  # the folder zipped (None: a selection of files)


COLUMNS = ", ".join(f.name for f in fields(ArchiveRow))
ACTIVE = ("queued", "running")


def insert(conn: Connection[Any], *, archive_id: UUID, owner_id: str, name: str, file_ids: list[UUID],
           bytes_total: int, s3_key: str, folder_id: UUID | None = None) -> ArchiveRow:
    row = typed.one(conn, ArchiveRow,
        "INSERT INTO archives"
        " (archive_id, owner_id, name, status, file_ids, files_total, bytes_total, s3_key, folder_id)"
        f" VALUES (%s, %s, %s, 'queued', %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
        (archive_id, owner_id, name, file_ids, len(file_ids), bytes_total, s3_key, folder_id))
    assert row is not None
    return row


def get(conn: Connection[Any], archive_id: UUID, *, for_update: bool = False) -> ArchiveRow | None:
    sql = f"SELECT {COLUMNS} FROM archives WHERE archive_id = %s" + (" FOR UPDATE" if for_update else "")
    return typed.one(conn, ArchiveRow, sql, (archive_id,))


def page(conn: Connection[Any], owner_id: str, *, limit: int,
         after: tuple[datetime, UUID] | None) -> list[ArchiveRow]:
    """The owner's jobs, newest first, after a keyset position (deleted ones are gone for good)."""
    sql = f"SELECT {COLUMNS} FROM archives WHERE owner_id = %s AND status <> 'deleted'"
    params: list[Any] = [owner_id]
    if after is not None:
        sql += " AND (created_at, archive_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY created_at DESC, archive_id DESC LIMIT %s"
    return typed.many(conn, ArchiveRow, sql, [*params, limit])


def set_sources(conn: Connection[Any], archive_id: UUID, attempt: int, file_ids: list[UUID],
                bytes_total: int) -> bool:
    """A folder job's files as the running attempt resolved them; False when it lost the job."""
    return conn.execute(
        "UPDATE archives SET file_ids = %s, files_total = %s, bytes_total = %s, heartbeat_at = now(),"
        " updated_at = now() WHERE archive_id = %s AND attempt = %s AND status = 'running'",
        (file_ids, len(file_ids), bytes_total, archive_id, attempt)).rowcount == 1


def count_active(conn: Connection[Any], owner_id: str) -> int:
    row = conn.execute("SELECT count(*) AS n FROM archives"
                       " WHERE owner_id = %s AND status IN ('queued', 'running')", (owner_id,)).fetchone()
    assert row is not None
    return int(row["n"])


def claim(conn: Connection[Any], archive_id: UUID, stale_after_s: int
          ) -> tuple[ArchiveRow | None, ArchiveRow | None]:
    """(the claimed row, the row as it was before) — claimed when queued, or running with a heartbeat
    older than ``stale_after_s`` (its worker is gone). Not claimed: (None, current row or None)."""
    before = get(conn, archive_id, for_update=True)
    if before is None:
        return None, None
    stale = conn.execute("SELECT coalesce(%s < now() - make_interval(secs => %s), true) AS stale",
                         (before.heartbeat_at, stale_after_s)).fetchone()
    assert stale is not None
    if not (before.status == "queued" or (before.status == "running" and stale["stale"])):
        return None, before
    row = typed.one(conn, ArchiveRow,
        "UPDATE archives SET status = 'running', attempt = attempt + 1, heartbeat_at = now(), files_done = 0,"
        " bytes_done = 0, upload_id = NULL, updated_at = now()"
        f" WHERE archive_id = %s RETURNING {COLUMNS}", (archive_id,))
    return row, before


def set_upload_id(conn: Connection[Any], archive_id: UUID, attempt: int, upload_id: str) -> bool:
    return conn.execute(
        "UPDATE archives SET upload_id = %s, heartbeat_at = now() WHERE archive_id = %s AND attempt = %s"
        " AND status = 'running'", (upload_id, archive_id, attempt)).rowcount == 1


def progress(conn: Connection[Any], archive_id: UUID, attempt: int, files_done: int, bytes_done: int) -> bool:
    """Record progress and the heartbeat; False when this attempt no longer owns the job (stop)."""
    return conn.execute(
        "UPDATE archives SET files_done = %s, bytes_done = %s, heartbeat_at = now(), updated_at = now()"
        " WHERE archive_id = %s AND attempt = %s AND status = 'running'",
        (files_done, bytes_done, archive_id, attempt)).rowcount == 1


def mark_ready(conn: Connection[Any], archive_id: UUID, attempt: int, size: int, ttl_s: int
               ) -> ArchiveRow | None:
    return typed.one(conn, ArchiveRow,
        "UPDATE archives SET status = 'ready', size = %s, upload_id = NULL, files_done = files_total,"
        " bytes_done = bytes_total, ready_at = now(), expires_at = now() + make_interval(secs => %s),"
        " updated_at = now() WHERE archive_id = %s AND attempt = %s AND status = 'running'"
        f" RETURNING {COLUMNS}",
        (size, ttl_s, archive_id, attempt))


def mark_failed(conn: Connection[Any], archive_id: UUID, attempt: int | None, reason: str, detail: str
                ) -> ArchiveRow | None:
    """Fail a queued or running job (``attempt`` None: whichever attempt holds it)."""
    sql = ("UPDATE archives SET status = 'failed', failure_reason = %s, failure_detail = %s,"
           " upload_id = NULL, updated_at = now() WHERE archive_id = %s AND status IN ('queued', 'running')")
    params: list[Any] = [reason, detail[:500], archive_id]
    if attempt is not None:
        sql += " AND attempt = %s"
        params.append(attempt)
    return typed.one(conn, ArchiveRow, sql + f" RETURNING {COLUMNS}", params)


def mark_gone(conn: Connection[Any], archive_id: UUID, status: str) -> ArchiveRow | None:
    """``expired`` or ``deleted``: the object is (being) removed; a running attempt stops at its next
    write (the bumped ``attempt`` no longer matches)."""
    return typed.one(conn, ArchiveRow,
        "UPDATE archives SET status = %s, upload_id = NULL, attempt = attempt + 1, updated_at = now()"
        f" WHERE archive_id = %s RETURNING {COLUMNS}", (status, archive_id))


def due_for_expiry(conn: Connection[Any], limit: int) -> list[ArchiveRow]:
    return typed.many(conn, ArchiveRow,
        f"SELECT {COLUMNS} FROM archives WHERE status = 'ready' AND expires_at <= now()"
        " ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED", (limit,))


def stalled(conn: Connection[Any], stale_after_s: int, limit: int) -> list[ArchiveRow]:
    return typed.many(conn, ArchiveRow,
        f"SELECT {COLUMNS} FROM archives WHERE status = 'running'"
        " AND heartbeat_at < now() - make_interval(secs => %s)"
        " ORDER BY heartbeat_at LIMIT %s FOR UPDATE SKIP LOCKED", (stale_after_s, limit))


def release(conn: Connection[Any], archive_id: UUID, attempt: int) -> bool:
    """Give a claimed job back (``queued``) after an unexpected error, so the redelivery claims it."""
    return conn.execute(
        "UPDATE archives SET status = 'queued', upload_id = NULL, heartbeat_at = NULL, updated_at = now()"
        " WHERE archive_id = %s AND attempt = %s AND status = 'running'", (archive_id, attempt)).rowcount == 1


def waiting(conn: Connection[Any], older_than_s: int, limit: int) -> list[ArchiveRow]:
    """Queued jobs nobody claimed for ``older_than_s`` (their event was not consumed); touched, so the
    next sweep waits again."""
    return typed.many(conn, ArchiveRow,
        "UPDATE archives SET updated_at = now() WHERE archive_id IN (SELECT archive_id FROM archives"
        " WHERE status = 'queued' AND updated_at < now() - make_interval(secs => %s)"
        f" ORDER BY updated_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}",
        (older_than_s, limit))
