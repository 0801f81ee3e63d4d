"""What a reader is sent about one event: the change itself and its resume cursor.

``{"type": "change", "cursor": <outbox seq>, "event": "file.ready", "event_id", "file_id", "status",
"name", "version", "notice", "by", "at"}``: ``name`` the file's (new) name when the event says it,
``status`` is the file's (or archive's) status after the
change (``None`` when the event does not change it), ``version`` the version id a version event is
about, ``notice`` the text the notification service puts in this reader's inbox (only for the
notice's recipient), ``by`` who did it (the owner's address; ``"a public link"`` for a link
download). Nothing else from the event's data goes out: a viewer sees what the file's row shows them.

Who reads an event (``audience``): the owner, plus the file's current share recipients for the file
events a viewer can see (a viewer's list and previews change with them). Link, folder, archive and
rejected-version events are the owner's alone.
"""

from __future__ import annotations

from typing import Any

from fileshare.db import shares as shares_db
from fileshare.event_types import Event, EventType
from fileshare.notifications.notices import compose  # the notice text the inbox gets: one rule

#: The status a file (or an archive) has after each event; absent: the event does not change it.
STATUS_AFTER: dict[str, str] = {
    EventType.FILE_READY: "ready", EventType.FILE_REJECTED: "rejected",
    EventType.FILE_VERSION_ADDED: "ready", EventType.FILE_TRASHED: "trashed",
    EventType.FILE_RESTORED: "ready", EventType.FILE_DELETED: "deleted", EventType.FILE_EXPIRED: "deleted",
    EventType.SHARE_CREATED: "shared", EventType.SHARE_REVOKED: "unshared",
    EventType.ARCHIVE_REQUESTED: "queued", EventType.ZIP_READY: "ready", EventType.ARCHIVE_FAILED: "failed",
}
#: Events only the owner is sent (they describe the owner's links, folders, archives, rejected versions).
OWNER_ONLY: frozenset[str] = frozenset({
    EventType.LINK_CREATED, EventType.LINK_DOWNLOADED, EventType.LINK_REVOKED,
    EventType.FOLDER_CREATED, EventType.FOLDER_UPDATED, EventType.ARCHIVE_REQUESTED, EventType.ZIP_READY,
    EventType.ARCHIVE_FAILED, EventType.FILE_VERSION_REJECTED,
})
#: Every event type that is pushed.
PUSHED: frozenset[str] = frozenset(t.value for t in EventType)


def audience(conn: Any, event: Event) -> list[str]:
    """The users ``event`` is pushed to: the owner first, then the file's current share recipients."""
    if event.type in OWNER_ONLY:
        return [event.owner_id]
    readers = shares_db.readers_for(conn, event.file_id)  # empty once the row is gone (a purge)
    return list(dict.fromkeys([event.owner_id, *readers]))


def may_read(event: Event, user_id: str, *, recipient: bool) -> bool:
    """Whether ``user_id`` is sent ``event`` (``recipient``: the file is shared with them now)."""
    return event.owner_id == user_id or (recipient and event.type not in OWNER_ONLY)


def change(event: Event, cursor: int, *, reader: str, by: str | None) -> dict[str, Any]:
    """The message ``reader`` is sent about ``event`` (outbox ``cursor``); ``by``: the owner's address."""
    notice = compose(event, actor_email=by)
    version = event.data.get("version_id")
    changes = event.data.get("changes")
    name = event.data.get("name") or (changes.get("name") if isinstance(changes, dict) else None)
    return {
        "type": "change",
        "cursor": cursor,
        "event": event.type.value,
        "event_id": str(event.id),
        "file_id": str(event.file_id),
        "status": STATUS_AFTER.get(event.type),
        "name": name if isinstance(name, str) else None,
        "version": str(version) if version else None,
        "notice": notice.message if notice is not None and notice.user_id == reader else None,
        "by": "a public link" if event.type == EventType.LINK_DOWNLOADED else by,
        "at": event.occurred_at.isoformat(),
    }
