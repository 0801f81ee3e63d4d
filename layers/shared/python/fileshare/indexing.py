"""Keeps the search index in step with PostgreSQL after metadata changes (the indexer consumer).

For every event that can change what a file's search document should say (renamed, retagged,
new expiry, trashed, restored, shared, unshared, deleted) the indexer does not apply the event's
delta: it re-reads the file's *current* row and readers and writes the whole document (or deletes
it). That makes it idempotent (a redelivery writes the same document) and order-insensitive (an
old event processed late still writes today's state).

Concurrent writers: sharing rewrites ``readers`` right after a share change, the processor creates
the document when a file becomes ready. The indexer reads and writes while holding the file row's
``FOR NO KEY UPDATE`` lock, the lock sharing holds for the same purpose (and that every UPDATE of
the row takes), so whichever writer goes last read the latest state. The processor only ever
*creates* (``op_type=create``), so it never overwrites what the indexer wrote.

Which files have a document: ready ones, and trashed ones that were ready before (kept with
``status: trashed``, which search excludes, so a restore only flips the status back). Pending,
rejected, deleting and vanished files have none: the indexer deletes any it finds. It never
creates a document for a pending file: that is the processor's job once the file is verified.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from enum import StrEnum
from typing import Any
from uuid import UUID

from fileshare.config import settings
from fileshare.consumers import MalformedEventError, envelope
from fileshare.db import shares as shares_db
from fileshare.db import typed
from fileshare.db.connection import transaction
from fileshare.db.files import COLUMNS, FileRow
from fileshare.errors import DependencyUnavailable
from fileshare.events import EventType
from fileshare.lifecycle import FileStatus
from fileshare.observability import logger, metrics
from fileshare.search_index import search_document

SYNCING: frozenset[str] = frozenset({
    EventType.FILE_UPDATED, EventType.FILE_VERSION_ADDED, EventType.FILE_TRASHED, EventType.FILE_RESTORED,
    EventType.FILE_DELETED, EventType.FILE_EXPIRED, EventType.SHARE_CREATED, EventType.SHARE_REVOKED,
})


class Action(StrEnum):
    INDEXED = "indexed"  # the document was written from the current row
    REMOVED = "removed"  # the file should have no document; any there was deleted
    IGNORED = "ignored"  # not an event that changes a document


def wants_document(row: Mapping[str, Any] | None) -> bool:
    """Whether a file in this state has a search document (pure)."""
    if row is None:
        return False
    if row["status"] == FileStatus.READY:
        return True
    return row["status"] == FileStatus.TRASHED and row.get("status_before_trash") == FileStatus.READY


def file_id_of(raw: bytes | str) -> UUID | None:
    """The file a record is about, if its type affects the index; None to acknowledge it unread.

    Only ``type`` and ``file_id`` are read: the current state comes from PostgreSQL, so the data
    (and its version) does not matter here.
    """
    payload = envelope(raw)
    if payload["type"] not in SYNCING:
        return None
    try:
        return UUID(str(payload.get("file_id")))
    except ValueError as exc:
        raise MalformedEventError(f"{payload['type']} without a valid file_id") from exc


def handle(raw: bytes | str) -> Action:
    file_id = file_id_of(raw)
    return Action.IGNORED if file_id is None else sync_file(file_id)


def sync_file(file_id: UUID) -> Action:
    """Make the file's search document match PostgreSQL now. Raises when OpenSearch fails."""
    from opensearchpy.exceptions import NotFoundError, OpenSearchException

    from fileshare.search_client import client

    alias = settings().search_alias
    try:
        with transaction() as conn:
            row = typed.one(conn, FileRow,
                            f"SELECT {COLUMNS} FROM files WHERE file_id = %s FOR NO KEY UPDATE",  # noqa: S608
                            (file_id,))
            if wants_document(row):
                assert row is not None
                readers = shares_db.readers_for(conn, file_id)
                client().index(index=alias, id=str(file_id), body=search_document(row, readers))
                action = Action.INDEXED
            else:
                with suppress(NotFoundError):  # no document: nothing to remove
                    client().delete(index=alias, id=str(file_id))
                action = Action.REMOVED
    except OpenSearchException as exc:  # the record fails and is retried; the row stays as it is
        metrics.add_metric(name="IndexSyncFailed", unit="Count", value=1)
        raise DependencyUnavailable(f"search index update failed: {exc!r}") from exc
    metrics.add_metric(name="IndexSynced", unit="Count", value=1)
    logger.info("search document synced", extra={"file_id": str(file_id), "action": action.value})
    return action
