"""SQL for the ``archives`` table (ZIP jobs).

Every write of a running job names its ``attempt``: a claim bumps it, so an attempt that lost its
claim (a redelivered job message, the sweeper failing a stalled job, DELETE) changes nothing.
"""
# ruff: noqa: S608

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection

Row = dict[str, Any]

COLUMNS = ("archive_id, owner_id, name, status, file_ids, files_total, bytes_total, files_done, bytes_done,"
           " s3_key, upload_id, size, attempt, heartbeat_at, failure_reason, failure_detail, created_at,"
           " updated_at, ready_at, expires_at")
ACTIVE = ("queued", "running")


def insert(conn: Connection[Any], *, archive_id: UUID, owner_id: str, name: str, file_ids: list[UUID],
           bytes_total: int, s3_key: str) -> Row:
    row: Row | None = conn.execute(
        "INSERT INTO archives"
        " (archive_id, owner_id, name, status, file_ids, files_total, bytes_total, s3_key)"
        f" VALUES (%s, %s, %s, 'queued', %s, %s, %s, %s) RETURNING {COLUMNS}",
        (archive_id, owner_id, name, file_ids, len(file_ids), bytes_total, s3_key)).fetchone()
    assert row is not None
    return row


def get(conn: Connection[Any], archive_id: UUID, *, for_update: bool = False) -> Row | None:
    sql = f"SELECT {COLUMNS} FROM archives WHERE archive_id = %s" + (" FOR UPDATE" if for_update else "")
    row: Row | None = conn.execute(sql, (archive_id,)).fetchone()
    return row


def count_active(conn: Connection[Any], owner_id: str) -> int:
    row = conn.execute("SELECT count(*) AS n FROM archives"
                       " WHERE owner_id = %s AND status IN ('queued', 'running')", (owner_id,)).fetchone()
    assert row is not None
    return int(row["n"])


def claim(conn: Connection[Any], archive_id: UUID, stale_after_s: int) -> tuple[Row | None, Row | None]:
    """(the claimed row, the row as it was before) — claimed when queued, or running with a heartbeat
    older than ``stale_after_s`` (its worker is gone). Not claimed: (None, current row or None)."""
    before = get(conn, archive_id, for_update=True)
    if before is None:
        return None, None
    stale = conn.execute("SELECT coalesce(%s < now() - make_interval(secs => %s), true) AS stale",
                         (before["heartbeat_at"], stale_after_s)).fetchone()
    assert stale is not None
    if not (before["status"] == "queued" or (before["status"] == "running" and stale["stale"])):
        return None, before
    row: Row | None = conn.execute(
        "UPDATE archives SET status = 'running', attempt = attempt + 1, heartbeat_at = now(), files_done = 0,"
        " bytes_done = 0, upload_id = NULL, updated_at = now()"
        f" WHERE archive_id = %s RETURNING {COLUMNS}", (archive_id,)).fetchone()
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


def mark_ready(conn: Connection[Any], archive_id: UUID, attempt: int, size: int, ttl_s: int) -> Row | None:
    row: Row | None = conn.execute(
        "UPDATE archives SET status = 'ready', size = %s, upload_id = NULL, files_done = files_total,"
        " bytes_done = bytes_total, ready_at = now(), expires_at = now() + make_interval(secs => %s),"
        " updated_at = now() WHERE archive_id = %s AND attempt = %s AND status = 'running'"
        f" RETURNING {COLUMNS}",
        (size, ttl_s, archive_id, attempt)).fetchone()
    return row


def mark_failed(conn: Connection[Any], archive_id: UUID, attempt: int | None, reason: str, detail: str
                ) -> Row | None:
    """Fail a queued or running job (``attempt`` None: whichever attempt holds it)."""
    sql = ("UPDATE archives SET status = 'failed', failure_reason = %s, failure_detail = %s,"
           " upload_id = NULL, updated_at = now() WHERE archive_id = %s AND status IN ('queued', 'running')")
    params: list[Any] = [reason, detail[:500], archive_id]
    if attempt is not None:
        sql += " AND attempt = %s"
        params.append(attempt)
    row: Row | None = conn.execute(sql + f" RETURNING {COLUMNS}", params).fetchone()
    return row


def mark_gone(conn: Connection[Any], archive_id: UUID, status: str) -> Row | None:
    """``expired`` or ``deleted``: the object is (being) removed; a running attempt stops at its next
    write (the bumped ``attempt`` no longer matches)."""
    row: Row | None = conn.execute(
        "UPDATE archives SET status = %s, upload_id = NULL, attempt = attempt + 1, updated_at = now()"
        f" WHERE archive_id = %s RETURNING {COLUMNS}", (status, archive_id)).fetchone()
    return row


def due_for_expiry(conn: Connection[Any], limit: int) -> list[Row]:
    return conn.execute(
        f"SELECT {COLUMNS} FROM archives WHERE status = 'ready' AND expires_at <= now()"
        " ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED", (limit,)).fetchall()


def stalled(conn: Connection[Any], stale_after_s: int, limit: int) -> list[Row]:
    return conn.execute(
        f"SELECT {COLUMNS} FROM archives WHERE status = 'running'"
        " AND heartbeat_at < now() - make_interval(secs => %s)"
        " ORDER BY heartbeat_at LIMIT %s FOR UPDATE SKIP LOCKED", (stale_after_s, limit)).fetchall()


def release(conn: Connection[Any], archive_id: UUID, attempt: int) -> bool:
    """Give a claimed job back (``queued``) after an unexpected error, so the redelivery claims it."""
    return conn.execute(
        "UPDATE archives SET status = 'queued', upload_id = NULL, heartbeat_at = NULL, updated_at = now()"
        " WHERE archive_id = %s AND attempt = %s AND status = 'running'", (archive_id, attempt)).rowcount == 1


def waiting(conn: Connection[Any], older_than_s: int, limit: int) -> list[Row]:
    """Queued jobs nobody claimed for ``older_than_s`` (their event was not consumed); touched, so the
    next sweep waits again."""
    return conn.execute(
        "UPDATE archives SET updated_at = now() WHERE archive_id IN (SELECT archive_id FROM archives"
        " WHERE status = 'queued' AND updated_at < now() - make_interval(secs => %s)"
        f" ORDER BY updated_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}",
        (older_than_s, limit)).fetchall()
