"""Purging files: the events that start a purge and the deletion consumer's steps.

A purge starts in one transaction: the file moves to ``deleting`` and a ``file.deleted`` (purged
from the trash on request, or at the end of the retention period) or ``file.expired`` event goes to
the outbox. The deletion consumer (``functions/deleter``) then removes, in this order: the original
and derived objects in S3, the search document, the cache entry, and last, in one transaction, the
file's shares, links and row.

Idempotency is natural, with no record of handled events: every step drives something towards
"absent" and treats "already absent" as done (S3 DeleteObjects of a missing key succeeds, a missing
search document is a 404 we ignore, the row delete is guarded by ``status = 'deleting'``). So a
duplicate event repeats harmless no-ops, and a purge that crashed midway finishes when the event is
redelivered: the row goes last, so as long as anything remains the row (and the retry) remains.
Marking events as processed would not help here: the mark could only be written at the very end,
which is exactly when the natural guards already make a replay a no-op. ``deleting`` is terminal,
so an event can never destroy a file that was restored; a stale event for a file that is not
``deleting`` is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any
from uuid import UUID

from fileshare.adapters import cache
from fileshare.adapters.observability import logger, metrics
from fileshare.adapters.storage import abort_multipart, delete_objects, thumbnail_key, thumbnail_key_for
from fileshare.db import files as files_db
from fileshare.db import trash as trash_db
from fileshare.db import versions as versions_db
from fileshare.db.connection import transaction
from fileshare.event_types import Event, EventType
from fileshare.lifecycle import FileStatus

PURGE_EVENTS = frozenset({EventType.FILE_DELETED, EventType.FILE_EXPIRED})  # see lifecycle
SUPPORTED_VERSIONS = frozenset({1})


class Reason(StrEnum):
    """Why a file is purged (``data.reason`` of its deletion event)."""

    PURGED = "purged"  # DELETE /trash/{id}
    TRASH_RETENTION = "trash_retention"  # in the trash longer than the retention period
    EXPIRED = "expired"  # its expires_at passed


class Outcome(StrEnum):
    PURGED = "purged"  # this run removed the row
    ALREADY_GONE = "already_gone"  # a duplicate: the row was removed before (leftovers re-checked)
    NOT_MARKED = "not_marked"  # the file is not ``deleting``: a stale or stray event, ignored


class UnsupportedEventError(ValueError):
    """A deletion event this code cannot read (unknown data version): it goes to the failure queue."""


def deletion_event(row: Mapping[str, Any], event_type: EventType, reason: Reason) -> Event:
    """The event announcing a purge; ``data`` names the file for notifications and its objects."""
    data: dict[str, Any] = {"name": row["name"], "size": int(row["size"]), "reason": reason.value,
                            "s3_key": row["s3_key"], "thumbnail_key": row.get("thumbnail_key")}
    if row.get("expires_at") is not None:
        data["expires_at"] = row["expires_at"]
    return Event(type=event_type, file_id=row["file_id"], owner_id=row["owner_id"], data=data)


def object_keys(file_id: UUID, owner_id: str, row: Mapping[str, Any] | None,
                hinted_key: Any = None, version_keys: Sequence[str] = ()) -> list[str]:
    """Every S3 key the file may occupy: the original (``u/<owner>/<file_id>/<name>``) and the
    thumbnail the processor writes (``t/<owner>/<file_id>.webp``), and for every other version
    (``version_keys``: each version row's object) that object and its thumbnail. Without the row
    (a replay after the purge), the event's ``s3_key`` is used only if it lies under this file's
    own prefix."""
    keys = [thumbnail_key(owner_id, file_id)]
    if row is not None:
        keys += [k for k in (row["s3_key"], row.get("thumbnail_key")) if k]
        keys.append(thumbnail_key_for(owner_id, file_id, row["s3_key"]))
    elif isinstance(hinted_key, str) and hinted_key.startswith(f"u/{owner_id}/{file_id}/"):
        keys += [hinted_key, thumbnail_key_for(owner_id, file_id, hinted_key)]
    for key in version_keys:
        keys += [key, thumbnail_key_for(owner_id, file_id, key)]
    return sorted(set(keys))


def handle_event(event: Event) -> Outcome | None:
    """Purge the file a ``file.deleted``/``file.expired`` event names; None for other events."""
    if event.type not in PURGE_EVENTS:
        return None
    if event.version not in SUPPORTED_VERSIONS:
        raise UnsupportedEventError(f"{event.type} version {event.version} is not supported")
    return purge(event.file_id, event.owner_id, hinted_key=event.data.get("s3_key"))


def purge(file_id: UUID, owner_id: str, *, hinted_key: Any = None) -> Outcome:
    """Remove everything of a ``deleting`` file, each step tolerant of being already done.
    Raises (so the event is retried) when S3 or OpenSearch fail."""
    with transaction() as conn:
        row = files_db.get(conn, file_id)
        versions = versions_db.list_for_file(conn, file_id) if row is not None else []
    if row is not None and row.status != FileStatus.DELETING:  # REMOVE's only source
        logger.warning("deletion event for a file that is not being deleted; ignored",
                       extra={"file_id": str(file_id), "status": row.status})
        metrics.add_metric(name="DeletionEventsIgnored", unit="Count", value=1)
        return Outcome.NOT_MARKED
    owner = row.owner_id if row is not None else owner_id
    if row is not None and row.upload_id:  # purged before its multipart upload completed
        abort_multipart(row.s3_key, row.upload_id)
    for version in versions:  # ... or a new version's
        if version.upload_id:
            abort_multipart(version.s3_key, version.upload_id)
    # Every version's bytes go before the row (its version rows cascade with it), so a crash
    # leaves the row, and the retry finds the versions again. One request holds up to 1000 keys.
    keys = object_keys(file_id, owner, row, hinted_key, [v.s3_key for v in versions])
    for start in range(0, len(keys), 1000):
        delete_objects(keys[start:start + 1000])
    from fileshare.search import index as search_index  # cold start: opensearch-py only when a file is purged

    search_index.delete_document(file_id)
    cache.invalidate_file(file_id)  # never raises; the TTL bounds a failed invalidation
    with transaction() as conn:
        removed = trash_db.delete_deleting(conn, file_id)
    metrics.add_metric(name="FilesPurged" if removed else "PurgeReplays", unit="Count", value=1)
    logger.info("file purged" if removed else "purge replayed: the row was already gone",
                extra={"file_id": str(file_id)})
    return Outcome.PURGED if removed else Outcome.ALREADY_GONE
