"""SQL of the upload processor: find a file by its object key and move it out of ``pending`` once.

Every transition is guarded by ``WHERE status = 'pending'``: when two workers finish the same
object at once, PostgreSQL lets exactly one UPDATE match and the other gets no row back.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection

Row = dict[str, Any]

_COLUMNS = ("file_id, owner_id, name, s3_key, size, content_type, status, reject_reason, checksum_sha256,"
            " thumbnail_key, tags, expires_at, created_at, updated_at")


def get_by_key(conn: Connection[Any], s3_key: str) -> Row | None:
    row: Row | None = conn.execute(f"SELECT {_COLUMNS} FROM files WHERE s3_key = %s",  # noqa: S608
                                   (s3_key,)).fetchone()
    return row


def lock_owner_quota(conn: Connection[Any], owner_id: str) -> int | None:
    """Lock the owner's row (serializing quota decisions for that owner); return their quota."""
    row = conn.execute("SELECT quota_bytes FROM users WHERE user_id = %s FOR UPDATE",
                       (owner_id,)).fetchone()
    return int(row["quota_bytes"]) if row else None


def stored_bytes(conn: Connection[Any], owner_id: str, *, excluding: UUID) -> int:
    """Bytes the owner's other files occupy in storage (ready, trashed or being deleted).

    Same definition as ``db.users.usage``'s first value: pending uploads of other files reserve
    nothing here, so an abandoned upload cannot get a real one rejected.
    """
    row = conn.execute(
        "SELECT coalesce(sum(size), 0) AS used FROM files"
        " WHERE owner_id = %s AND file_id <> %s AND status IN ('ready', 'trashed', 'deleting')",
        (owner_id, excluding)).fetchone()
    return int(row["used"]) if row else 0


def mark_ready(conn: Connection[Any], file_id: UUID, *, checksum_sha256: str, content_type: str,
               thumbnail_key: str | None) -> Row | None:
    """pending -> ready; None when the file was no longer pending (another worker won)."""
    row: Row | None = conn.execute(
        "UPDATE files SET status = 'ready', checksum_sha256 = %s, content_type = %s, thumbnail_key = %s,"
        " upload_id = NULL, reject_reason = NULL, updated_at = now()"
        " WHERE file_id = %s AND status = 'pending'"
        " RETURNING file_id, owner_id, name, s3_key, size, content_type, status, reject_reason,"
        " checksum_sha256, thumbnail_key, tags, expires_at, created_at, updated_at",
        (checksum_sha256, content_type, thumbnail_key, file_id)).fetchone()
    return row


def mark_rejected(conn: Connection[Any], file_id: UUID, reason: str) -> Row | None:
    """pending -> rejected with a machine-readable reason; None when no longer pending."""
    row: Row | None = conn.execute(
        "UPDATE files SET status = 'rejected', reject_reason = %s, upload_id = NULL, updated_at = now()"
        " WHERE file_id = %s AND status = 'pending'"
        " RETURNING file_id, owner_id, name, s3_key, size, content_type, status, reject_reason,"
        " checksum_sha256, thumbnail_key, tags, expires_at, created_at, updated_at",
        (reason, file_id)).fetchone()
    return row


def readers(conn: Connection[Any], file_id: UUID, owner_id: str) -> list[str]:
    """Who may find the file in search: the owner and every user it is shared with."""
    rows = conn.execute("SELECT grantee_id FROM shares WHERE file_id = %s ORDER BY grantee_id",
                        (file_id,)).fetchall()
    return [owner_id, *(r["grantee_id"] for r in rows if r["grantee_id"] != owner_id)]
