"""SQL for trash, purge and expiry: the ``trashed -> ready|pending|rejected`` restore, the moves to
``deleting`` (a purge on request, expiry, the end of the retention period), and the final removal.

Each guard and target comes from the lifecycle table (``db.transitions``). ``deleting`` is
terminal: no statement here moves a file out of it, so a deletion event can never destroy a file
that came back. Queries interpolate only constant column lists; values are bound.
"""
# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db import typed
from fileshare.db.files import COLUMNS, FileRow
from fileshare.db.transitions import guard, set_status
from fileshare.lifecycle import FileStatus, Trigger


def list_trashed(conn: Connection[Any], owner_id: str, limit: int,
                 after: tuple[datetime, UUID] | None) -> list[FileRow]:
    """The owner's trashed files outside any trashed folder, most recently trashed first, after a
    keyset position. A file in a trashed folder (moved there by the folder's trash, or trashed on
    its own before) is shown by its folder's row (``GET /folders?trashed=true``), at any depth."""
    sql = (f"SELECT {COLUMNS} FROM files WHERE owner_id = %s AND status = '{FileStatus.TRASHED.value}'"
           " AND (folder_id IS NULL OR NOT EXISTS"
           " (SELECT 1 FROM folder_ancestors(files.folder_id) a WHERE a.status <> 'active'))")
    params: list[Any] = [owner_id]
    if after is not None:
        sql += " AND (trashed_at, file_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY trashed_at DESC, file_id DESC LIMIT %s"
    params.append(limit)
    return typed.many(conn, FileRow, sql, params)


def restore(conn: Connection[Any], file_id: UUID) -> FileRow | None:
    """trashed -> the status it had before; None when the file is not in the trash."""
    row = typed.one(conn, FileRow,
        f"UPDATE files SET {set_status(Trigger.RESTORE)}, trashed_at = NULL, updated_at = now()"
        f" WHERE file_id = %s AND {guard(Trigger.RESTORE)} RETURNING {COLUMNS}",
        (file_id,))
    return row


def mark_deleting(conn: Connection[Any], file_id: UUID) -> FileRow | None:
    """trashed -> deleting on the owner's request (``updated_at`` records when); None when the
    table does not allow it (already deleting, not in the trash, or the row is gone)."""
    row = typed.one(conn, FileRow,
        f"UPDATE files SET {set_status(Trigger.PURGE)}, updated_at = now()"
        f" WHERE file_id = %s AND {guard(Trigger.PURGE)}"
        f" RETURNING {COLUMNS}", (file_id,))
    return row


def expire_due(conn: Connection[Any], limit: int) -> list[FileRow]:
    """Move up to ``limit`` pending/ready files whose ``expires_at`` has passed to ``deleting``.

    ``FOR UPDATE SKIP LOCKED``: two sweepers take disjoint batches, and a file a request holds
    (being renamed, trashed) is left for the next run instead of waited for.
    """
    return typed.many(conn, FileRow,
        f"WITH due AS (SELECT file_id FROM files WHERE expires_at <= now() AND {guard(Trigger.EXPIRE)}"
        " ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        f" UPDATE files f SET {set_status(Trigger.EXPIRE)}, updated_at = now() FROM due"
        " WHERE f.file_id = due.file_id"
        f" RETURNING {', '.join('f.' + c.strip() for c in COLUMNS.split(','))}", (limit,))


def purge_retention_due(conn: Connection[Any], retention_days: int, limit: int) -> list[FileRow]:
    """Move up to ``limit`` files trashed more than ``retention_days`` ago to ``deleting``."""
    return typed.many(conn, FileRow,
        f"WITH due AS (SELECT file_id FROM files WHERE {guard(Trigger.RETENTION_END)}"
        " AND trashed_at <= now() - make_interval(days => %s)"
        " ORDER BY trashed_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        f" UPDATE files f SET {set_status(Trigger.RETENTION_END)}, updated_at = now() FROM due"
        " WHERE f.file_id = due.file_id"
        f" RETURNING {', '.join('f.' + c.strip() for c in COLUMNS.split(','))}",
        (retention_days, limit))


def claim_stalled(conn: Connection[Any], stalled_after_s: int, limit: int) -> list[FileRow]:
    """Up to ``limit`` files in ``deleting`` for more than ``stalled_after_s`` seconds, claimed for a
    retry (``updated_at`` moves to now, so a concurrent sweeper does not take them too)."""
    return typed.many(conn, FileRow,
        f"WITH due AS (SELECT file_id FROM files WHERE status = '{FileStatus.DELETING.value}'"
        " AND updated_at <= now() - make_interval(secs => %s)"
        " ORDER BY updated_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        " UPDATE files f SET updated_at = now() FROM due WHERE f.file_id = due.file_id"
        f" RETURNING {', '.join('f.' + c.strip() for c in COLUMNS.split(','))}",
        (stalled_after_s, limit))


def delete_deleting(conn: Connection[Any], file_id: UUID) -> bool:
    """The last step of a purge: the file's shares, links and row, only if it is ``deleting``.
    True when a row was removed (False: already gone, or not marked for deletion)."""
    marked = conn.execute(f"SELECT 1 FROM files WHERE file_id = %s AND {guard(Trigger.REMOVE)} FOR UPDATE",
                          (file_id,)).fetchone()
    if marked is None:
        return False
    conn.execute("DELETE FROM shares WHERE file_id = %s", (file_id,))
    conn.execute("DELETE FROM links WHERE file_id = %s", (file_id,))
    conn.execute("DELETE FROM files WHERE file_id = %s", (file_id,))
    return True
