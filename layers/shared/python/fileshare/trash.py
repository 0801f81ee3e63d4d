"""Trash use cases: list the trash, restore within the retention period, purge on request; and the
search document's status, which follows trash and restore.

Only the owner may see or act on their trash; anyone else gets ``404`` (viewers lose sight of a
file the moment it is trashed: ``access`` shows them pending, ready and rejected files only; a
viewer restoring or purging a file that is not in the trash gets ``403 owner_only``, the rule of
every owner-only action in ``access``).
Every change and its outbox event share one transaction; after the commit the cache entry is
dropped, the event published inline and the search document updated.

Search and restore agree through ``fileshare.search.index``: on ``file.trashed`` the indexer marks the
document ``trashed`` (search excludes it, and re-checks every hit in PostgreSQL in the meantime);
a restore rewrites the document from the current row inline (and the indexer again on
``file.restored``), so the file is found again at once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from fileshare import access, cursor, event_types, events, folders, lifecycle
from fileshare.adapters import cache
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import trash as trash_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.deletion import Reason, deletion_event
from fileshare.errors import Conflict, Gone
from fileshare.lifecycle import State, Trigger
from fileshare.models import FileOut
from fileshare.records import file_out, to_record


class TrashedFileOut(FileOut):
    """A file in the trash: when it was trashed and when it will be purged."""

    trashed_at: datetime
    purge_at: datetime


class TrashList(BaseModel):
    items: list[TrashedFileOut]
    next_cursor: str | None = None


def purge_at(trashed_at: datetime) -> datetime:
    return trashed_at + timedelta(days=settings().trash_retention_days)


def _trashed_at(row: FileRow) -> datetime:
    """When a trashed file was trashed (set by every move to the trash)."""
    if row.trashed_at is None:
        raise ValueError(f"file {row.file_id} is {row.status} without trashed_at")
    return row.trashed_at


def _trash_cursor(row: FileRow) -> str:
    return cursor.encode([_trashed_at(row).isoformat(), str(row.file_id)])


def _trashed_out(row: FileRow) -> TrashedFileOut:
    trashed_at = _trashed_at(row)
    return TrashedFileOut.model_validate({**file_out(to_record(row)).model_dump(),
                                          "trashed_at": trashed_at, "purge_at": purge_at(trashed_at)})


def _own(conn: Any, row: FileRow | None, user_id: str) -> FileRow:
    """The caller's file (``access.require_owner``): 404 for a stranger, for any file in the trash
    that is not theirs (viewers cannot see trashed files) and for one being purged; 403
    ``owner_only`` for a viewer of a file that is not in the trash."""
    return access.require_owner(conn, row, user_id)


# ---- use cases --------------------------------------------------------------------------------

def list_trash(user_id: str, limit: int, after: str | None) -> TrashList:
    position = cursor.decode_time_id(after) if after else None
    with transaction() as conn:
        rows = trash_db.list_trashed(conn, user_id, limit + 1, position)
    page = rows[:limit]
    next_cursor = _trash_cursor(page[-1]) if len(rows) > limit else None
    return TrashList(items=[_trashed_out(r) for r in page], next_cursor=next_cursor)


def restore_file(user_id: str, file_id: uuid.UUID) -> FileOut:
    """Back to the status it had before the trash, while the retention period lasts."""
    with transaction() as conn:
        row = _own(conn, files_db.get(conn, file_id, for_update=True), user_id)
        if not lifecycle.allows(Trigger.RESTORE, State.of(row)):
            raise Conflict("the file is not in the trash", code="file_not_trashed")
        if purge_at(_trashed_at(row)) <= datetime.now(UTC):
            raise Gone("the file was in the trash longer than the retention period", code="trash_expired")
        folders.check_restore_target(conn, row)
        restored = trash_db.restore(conn, file_id)
        assert restored is not None  # the row is locked and trashed
        events.record(conn, event_types.Event(
            type=lifecycle.emits(Trigger.RESTORE), file_id=file_id, owner_id=user_id,
            data={"name": restored.name, "status": restored.status}))
    cache.invalidate_file(file_id)
    events.publish_now([file_id])
    from fileshare.search import index as search_index  # cold start: opensearch-py only when a restore syncs

    search_index.sync_quietly([file_id])
    return file_out(to_record(restored))


def purge_file(user_id: str, file_id: uuid.UUID) -> None:
    """Delete for good (from the trash only): ``deleting`` plus ``file.deleted`` in one transaction;
    the deletion consumer does the rest. Purging a file already being purged changes nothing."""
    with transaction() as conn:
        row = files_db.get(conn, file_id, for_update=True)
        if row is not None and row.owner_id == user_id and lifecycle.is_noop(Trigger.PURGE, State.of(row)):
            return
        row = _own(conn, row, user_id)
        if not lifecycle.allows(Trigger.PURGE, State.of(row)):
            raise Conflict("move the file to the trash before deleting it for good", code="file_not_trashed")
        marked = trash_db.mark_deleting(conn, file_id)
        assert marked is not None  # the row is locked and the table allows it
        events.record(conn, deletion_event(marked, lifecycle.emits(Trigger.PURGE), Reason.PURGED))
    cache.invalidate_file(file_id)
    events.publish_now([file_id])
