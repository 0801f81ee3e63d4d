"""SQL of the upload processor: find a file by its object key and record what verification found.

Every transition is guarded by the lifecycle table (``db.transitions.guard``): out of ``pending``
(or, for a file trashed while its upload was on the way, ``status_before_trash = 'pending'``), and a
re-verification of a ready file also by the ETag it read (``verified_etag IS NOT DISTINCT FROM`` the
old one). When two workers finish the same object at once, PostgreSQL lets exactly one UPDATE match
and the other gets no row back.

A trashed file keeps ``status = 'trashed'``; its outcome goes to ``status_before_trash``, so a
restore lands on what verification decided. Queries interpolate only constant column lists and
clauses; every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.db import typed
from fileshare.db.files import COLUMNS as _COLUMNS
from fileshare.db.files import FileRow
from fileshare.db.transitions import guard, set_status, status_list
from fileshare.lifecycle import STORED, Trigger


def get_by_key(conn: Connection[Any], s3_key: str) -> FileRow | None:
    return typed.one(conn, FileRow, f"SELECT {_COLUMNS} FROM files WHERE s3_key = %s", (s3_key,))


def lock_owner_quota(conn: Connection[Any], owner_id: str) -> int | None:
    """Lock the owner's row (serializing quota decisions for that owner); return their quota."""
    row = conn.execute("SELECT quota_bytes FROM users WHERE user_id = %s FOR UPDATE",
                       (owner_id,)).fetchone()
    return int(row["quota_bytes"]) if row else None


def stored_bytes(conn: Connection[Any], owner_id: str, *, excluding: UUID | None) -> int:
    """Bytes the owner's other files occupy in storage (ready, trashed or being deleted), plus
    every kept version (``file_versions`` rows that are ready).

    Same definition as ``db.users.usage``'s first value: pending uploads of other files reserve
    nothing here, so an abandoned upload cannot get a real one rejected.
    """
    row = conn.execute(
        "SELECT (SELECT coalesce(sum(size), 0) FROM files"
        f"  WHERE owner_id = %s AND file_id IS DISTINCT FROM %s AND status IN ({status_list(STORED)}))"
        " + (SELECT coalesce(sum(size), 0) FROM file_versions WHERE owner_id = %s AND status = 'ready')"
        " AS used", (owner_id, excluding, owner_id)).fetchone()
    return int(row["used"]) if row else 0


def mark_ready(conn: Connection[Any], file_id: UUID, *, checksum_sha256: str | None, content_type: str,
               thumbnail_key: str | None, etag: str | None, s3_checksum: str | None = None) -> FileRow | None:
    """pending -> ready; None when the file was no longer pending (another worker won)."""
    row = typed.one(conn, FileRow,
        f"UPDATE files SET {set_status(Trigger.VERIFY)}, checksum_sha256 = %s, s3_checksum = %s,"
        " content_type = %s, thumbnail_key = %s, verified_etag = %s, upload_id = NULL, reject_reason = NULL,"
        " updated_at = now()"
        f" WHERE file_id = %s AND {guard(Trigger.VERIFY)} RETURNING {_COLUMNS}",
        (checksum_sha256, s3_checksum, content_type, thumbnail_key, etag, file_id))
    return row


def mark_rejected(conn: Connection[Any], file_id: UUID, reason: str,
                  trigger: Trigger = Trigger.REJECT) -> FileRow | None:
    """pending -> rejected with a machine-readable reason (``trigger``: REJECT by the processor,
    ABORT by the owner); None when the table does not allow it (no longer pending)."""
    if trigger not in (Trigger.REJECT, Trigger.ABORT):
        raise ValueError(f"mark_rejected is not for {trigger.value}")
    row = typed.one(conn, FileRow,
        f"UPDATE files SET {set_status(trigger)}, reject_reason = %s, upload_id = NULL,"
        f" updated_at = now() WHERE file_id = %s AND {guard(trigger)} RETURNING {_COLUMNS}",
        (reason, file_id))
    return row


def mark_reverified(conn: Connection[Any], file_id: UUID, *, old_etag: str | None, etag: str | None,
                    checksum_sha256: str | None, content_type: str, thumbnail_key: str | None,
                    s3_checksum: str | None = None) -> FileRow | None:
    """A ready file's object was replaced and the new bytes passed: record them. None when the row
    changed since ``old_etag`` was read (another worker re-verified, or the file left ``ready``)."""
    row = typed.one(conn, FileRow,
        "UPDATE files SET checksum_sha256 = %s, s3_checksum = %s, content_type = %s, thumbnail_key = %s,"
        f" verified_etag = %s, updated_at = now() WHERE file_id = %s AND {guard(Trigger.REVERIFY)}"
        f" AND verified_etag IS NOT DISTINCT FROM %s RETURNING {_COLUMNS}",
        (checksum_sha256, s3_checksum, content_type, thumbnail_key, etag, file_id, old_etag))
    return row


def mark_replaced_rejected(conn: Connection[Any], file_id: UUID, *, old_etag: str | None,
                           reason: str) -> FileRow | None:
    """A ready file's object was replaced by bytes that fail verification: ready -> rejected (the
    verified facts are cleared). None when the row changed since ``old_etag`` was read."""
    row = typed.one(conn, FileRow,
        f"UPDATE files SET {set_status(Trigger.REJECT_REPLACED)}, reject_reason = %s, checksum_sha256 = NULL,"
        " s3_checksum = NULL, thumbnail_key = NULL, verified_etag = NULL, updated_at = now()"
        f" WHERE file_id = %s AND {guard(Trigger.REJECT_REPLACED)}"
        f" AND verified_etag IS NOT DISTINCT FROM %s RETURNING {_COLUMNS}",
        (reason, file_id, old_etag))
    return row


def expire_abandoned(conn: Connection[Any], older_than_s: int, limit: int) -> list[FileRow]:
    """Up to ``limit`` uploads pending for more than ``older_than_s`` seconds -> rejected
    (``upload_abandoned``), oldest first. Returns the rows with the multipart ``upload_id`` they had.

    ``FOR UPDATE SKIP LOCKED``: concurrent sweepers take disjoint rows, and a row a request or the
    processor holds is left for the next run. The caller's transaction keeps the rows locked until
    the objects are cleaned up, so a failure there leaves them pending for the next run.
    """
    columns = ", ".join("due.upload_id" if c.strip() == "upload_id" else "f." + c.strip()
                        for c in _COLUMNS.split(","))
    return typed.many(conn, FileRow,
        f"WITH due AS (SELECT file_id, upload_id FROM files WHERE {guard(Trigger.ABANDON)}"
        " AND created_at <= now() - make_interval(secs => %s)"
        " ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        f" UPDATE files f SET {set_status(Trigger.ABANDON)}, reject_reason = 'upload_abandoned',"
        " upload_id = NULL, updated_at = now() FROM due WHERE f.file_id = due.file_id"
        f" RETURNING {columns}", (older_than_s, limit))
