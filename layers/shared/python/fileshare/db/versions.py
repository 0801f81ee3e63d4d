"""SQL for ``file_versions``: a file's versions other than its current one (see migration 0050).

The files row is the current version; a row here is an earlier version kept (``ready``), a new
upload on the way (``pending``) or one that failed (``rejected``). Promoting a version (it became
ready, or the owner made it current) archives the files row's facts here and moves the version's
facts into the files row, in one transaction under the files row's lock.

Queries interpolate only the constant column list below; every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from fileshare.adapters import storage
from fileshare.db import typed
from fileshare.db.files import COLUMNS as FILE_COLUMNS
from fileshare.db.files import FileRow
from fileshare.lifecycle import VersionStatus


@dataclass(frozen=True)
class VersionRow:
    """A ``file_versions`` row."""

    version_id: UUID
    file_id: UUID
    owner_id: str
    name: str
    s3_key: str
    size: int
    content_type: str
    status: str  # a ``lifecycle.VersionStatus`` value
    reject_reason: str | None
    checksum_sha256: str | None
    s3_checksum: str | None
    verified_etag: str | None
    thumbnail_key: str | None
    created_at: datetime
    updated_at: datetime
    upload_id: str | None  # S3 multipart upload id, while pending
    part_checksum_algorithm: str | None

    def __getitem__(self, key: str) -> Any:  # what ``processing._verify`` reads (``row['size']``)
        return getattr(self, key)


COLUMNS = ", ".join(f.name for f in fields(VersionRow))


def current_version_id(file: FileRow) -> str:
    """The id of a file's current version: in its key for a later version, the file's own id for
    the first upload (so files from before versions need no migration of their rows)."""
    return storage.version_id_of_key(file.owner_id, file.file_id, file.s3_key) or str(file.file_id)
P, R, X = VersionStatus.PENDING.value, VersionStatus.READY.value, VersionStatus.REJECTED.value


def insert_pending(conn: Connection[Any], *, version_id: UUID, file_id: UUID, owner_id: str, name: str,
                   s3_key: str, size: int, content_type: str, upload_id: str | None = None,
                   part_checksum_algorithm: str | None = None) -> VersionRow:
    row = typed.one(conn, VersionRow,
        "INSERT INTO file_versions (version_id, file_id, owner_id, name, s3_key, size, content_type, status,"
        f" upload_id, part_checksum_algorithm) VALUES (%s, %s, %s, %s, %s, %s, %s, '{P}', %s, %s)"
        f" RETURNING {COLUMNS}",
        (version_id, file_id, owner_id, name, s3_key, size, content_type, upload_id, part_checksum_algorithm))
    assert row is not None
    return row


def get(conn: Connection[Any], file_id: UUID, version_id: UUID, *, for_update: bool = False
        ) -> VersionRow | None:
    return typed.one(conn, VersionRow,
        f"SELECT {COLUMNS} FROM file_versions WHERE file_id = %s AND version_id = %s"
        + (" FOR UPDATE" if for_update else ""), (file_id, version_id))


def get_by_key(conn: Connection[Any], s3_key: str, *, for_update: bool = False) -> VersionRow | None:
    return typed.one(conn, VersionRow, f"SELECT {COLUMNS} FROM file_versions WHERE s3_key = %s"
                     + (" FOR UPDATE" if for_update else ""), (s3_key,))


def list_for_file(conn: Connection[Any], file_id: UUID) -> list[VersionRow]:
    """Every version row of the file, newest first (a file has few; the list is not paged)."""
    return typed.many(conn, VersionRow,
        f"SELECT {COLUMNS} FROM file_versions WHERE file_id = %s ORDER BY created_at DESC, version_id DESC",
        (file_id,))


def count_for_file(conn: Connection[Any], file_id: UUID) -> int:
    row = conn.execute("SELECT count(*) AS n FROM file_versions WHERE file_id = %s", (file_id,)).fetchone()
    return int(row["n"]) if row else 0


def current_created_at(conn: Connection[Any], file_id: UUID) -> datetime | None:
    """When the file's current version was uploaded (the first upload's: the file's created_at)."""
    row = conn.execute("SELECT coalesce(version_created_at, created_at) AS at FROM files WHERE file_id = %s",
                       (file_id,)).fetchone()
    return row["at"] if row else None


def usage(conn: Connection[Any], owner_id: str, *, excluding: UUID | None = None) -> tuple[int, int]:
    """(bytes the owner's kept versions occupy, bytes pending version uploads reserve)."""
    row = conn.execute(
        f"SELECT coalesce(sum(size) FILTER (WHERE status = '{R}'), 0) AS used,"
        f"       coalesce(sum(size) FILTER (WHERE status = '{P}'), 0) AS pending"
        " FROM file_versions WHERE owner_id = %s AND status IN (%s, %s) AND version_id IS DISTINCT FROM %s",
        (owner_id, P, R, excluding)).fetchone()
    assert row is not None
    return int(row["used"]), int(row["pending"])


def mark_ready(conn: Connection[Any], version_id: UUID, *, checksum_sha256: str | None, content_type: str,
               thumbnail_key: str | None, etag: str | None, s3_checksum: str | None) -> VersionRow | None:
    """pending -> ready with what verification found (None: no longer pending)."""
    return typed.one(conn, VersionRow,
        f"UPDATE file_versions SET status = '{R}', checksum_sha256 = %s, s3_checksum = %s, content_type = %s,"
        " thumbnail_key = %s, verified_etag = %s, upload_id = NULL, updated_at = now()"
        f" WHERE version_id = %s AND status = '{P}' RETURNING {COLUMNS}",
        (checksum_sha256, s3_checksum, content_type, thumbnail_key, etag, version_id))


def mark_rejected(conn: Connection[Any], version_id: UUID, reason: str, *,
                  from_status: VersionStatus = VersionStatus.PENDING) -> VersionRow | None:
    """pending (or a kept version whose key was written again: ready) -> rejected; None when the
    row is not in ``from_status`` any more."""
    return typed.one(conn, VersionRow,
        f"UPDATE file_versions SET status = '{X}', reject_reason = %s, thumbnail_key = NULL,"
        " upload_id = NULL, updated_at = now() WHERE version_id = %s AND status = %s"
        f" RETURNING {COLUMNS}", (reason, version_id, from_status.value))


def archive_current(conn: Connection[Any], file: FileRow, version_id: UUID) -> None:
    """Keep the files row's current version as a ``ready`` version row (``version_id``: its id)."""
    conn.execute(
        "INSERT INTO file_versions (version_id, file_id, owner_id, name, s3_key, size, content_type,"
        " status, checksum_sha256, s3_checksum, verified_etag, thumbnail_key, created_at)"
        f" SELECT %s, file_id, owner_id, name, s3_key, size, content_type, '{R}', checksum_sha256,"
        " s3_checksum, verified_etag, thumbnail_key, coalesce(version_created_at, created_at)"
        " FROM files WHERE file_id = %s", (version_id, file.file_id))


def promote(conn: Connection[Any], version: VersionRow, *, name: str) -> FileRow:
    """The files row takes ``version``'s facts (the caller archived the old current first), and
    the version's row goes: it is the current one now."""
    conn.execute("DELETE FROM file_versions WHERE version_id = %s", (version.version_id,))
    row = typed.one(conn, FileRow,
        "UPDATE files SET name = %s, s3_key = %s, size = %s, content_type = %s, checksum_sha256 = %s,"
        " s3_checksum = %s, verified_etag = %s, thumbnail_key = %s, version_created_at = %s,"
        f" updated_at = now() WHERE file_id = %s RETURNING {FILE_COLUMNS}",
        (name, version.s3_key, version.size, version.content_type, version.checksum_sha256,
         version.s3_checksum, version.verified_etag, version.thumbnail_key, version.created_at,
         version.file_id))
    assert row is not None
    return row


def delete(conn: Connection[Any], version_id: UUID) -> bool:
    return conn.execute("DELETE FROM file_versions WHERE version_id = %s", (version_id,)).rowcount > 0


def abandon_pending(conn: Connection[Any], older_than_s: int, limit: int) -> list[VersionRow]:
    """Version uploads pending for more than ``older_than_s`` -> rejected (``upload_abandoned``),
    returned with the multipart ``upload_id`` they had (the caller aborts it)."""
    columns = ", ".join("due.upload_id" if f.name == "upload_id" else "v." + f.name
                        for f in fields(VersionRow))
    return typed.many(conn, VersionRow,
        f"WITH due AS (SELECT version_id, upload_id FROM file_versions WHERE status = '{P}'"
        " AND created_at <= now() - make_interval(secs => %s) ORDER BY created_at LIMIT %s"
        " FOR UPDATE SKIP LOCKED)"
        f" UPDATE file_versions v SET status = '{X}', reject_reason = 'upload_abandoned', upload_id = NULL,"
        f" updated_at = now() FROM due WHERE v.version_id = due.version_id RETURNING {columns}",
        (older_than_s, limit))
