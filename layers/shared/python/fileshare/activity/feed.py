"""Activity: a per-file feed of what was done to a file, built from the domain event stream.

The activity consumer (``functions/activity``, its own Kafka consumer group) turns each event
that is an action on a file into one ``activity`` row (``describe``, pure): uploaded, renamed,
moved (between folders), otherwise updated, trashed, restored, deleted, shared, share revoked, link
created / revoked / downloaded (with coarse client facts, ``fileshare.links.clientinfo``). Folder
created / renamed / moved are rows of the folder's own (``file_id`` is the folder's id, ``details``
says ``folder: true``): they appear in the owner's export, not in each file's feed (a folder move
rewrites no file, so its files' feeds stay as they were; a file moved on its own shows ``moved``).
Other event types are acknowledged unread, so a type added later is never dead-lettered.

- Idempotent: the row's key is the event id (``INSERT ... ON CONFLICT DO NOTHING``); a redelivered
  event changes nothing.
- Order-insensitive: lists sort by the event's ``occurred_at`` (then its id), never by arrival.
- Secret-free: ``details`` is built field by field from what each event type may show (never a
  token, an IP address, an S3 key or a checksum).

Reading: ``GET /files/{id}/activity`` is the owner's alone (anyone else, a viewer too, gets 404:
who opened a link is the owner's business); ``GET /activity/export`` pages through everything
done to the caller's files, purged ones included (until the retention prune), as JSON or CSV.

Versions (issue 14 part 3): ``file.version_added`` (a new version became current) is
``version_added`` with the version id and size; the owner making an older version current is a
``file.updated`` with reason ``version_made_current`` and shows as ``version_made_current``; a new
version that failed its checks (``file.version_rejected``) is ``version_rejected`` with its reason.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from fileshare import access, cursor
from fileshare.activity import rows as sql
from fileshare.activity.models import ActivityAction, ActivityClient, ActivityList, ActivityOut
from fileshare.activity.rows import ActivityRow
from fileshare.adapters.observability import logger, metrics
from fileshare.consumers import wanted_event
from fileshare.db import files as files_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.errors import NotFound
from fileshare.event_types import ENVELOPE_VERSION, Event, EventType

SUPPORTED_VERSIONS = frozenset({ENVELOPE_VERSION})
MAX_DETAIL_CHARS = 300  # a string in ``details`` is cut to this (file names are at most 255)
_CLIENT_KEYS = ("browser", "os", "network", "country")


class Outcome(StrEnum):
    RECORDED = "recorded"  # a new activity row
    DUPLICATE = "duplicate"  # recorded before (a redelivery), or its owner has no account any more
    IGNORED = "ignored"  # not an action on a file


@dataclass(frozen=True)
class Entry:
    """What one event adds to its file's feed."""

    action: str
    details: dict[str, Any] = field(default_factory=dict)
    client: dict[str, str] | None = None


# ---- events -> feed entries (pure; unit tested) ----------------------------------------------------

def _text(value: Any) -> str | None:
    return value[:MAX_DETAIL_CHARS] if isinstance(value, str) else None


def _pick(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The keys of ``data`` that are present, strings cut to size (only JSON scalars and tag lists)."""
    picked: dict[str, Any] = {}
    for key in keys:
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, str):
            value = value[:MAX_DETAIL_CHARS]
        elif isinstance(value, list):
            value = [str(v)[:MAX_DETAIL_CHARS] for v in value][:50]
        elif value is not None and not isinstance(value, bool | int):
            value = str(value)[:MAX_DETAIL_CHARS]
        picked[key] = value
    return picked


def _changes(event: Event, key: str = "changes") -> dict[str, Any]:
    value = event.data.get(key)
    return value if isinstance(value, dict) else {}


def _moved(event: Event, changes: dict[str, Any], parent_key: str) -> dict[str, Any]:
    """Where a file or folder went: the old and new parent's id and name (None: the root)."""
    previous = _changes(event, "previous")
    details = {"from_folder_id": _pick(previous, parent_key).get(parent_key),
               "from_folder": _text(event.data.get("from_folder")),
               "to_folder_id": _pick(changes, parent_key).get(parent_key),
               "to_folder": _text(event.data.get("to_folder"))}
    if "name" in changes:
        details["name"] = _text(changes["name"])
    return details


def _updated(event: Event) -> Entry:
    changes = _changes(event)
    if event.data.get("reason") == "object_replaced":  # the processor re-verified new bytes
        return Entry("content_replaced", _pick(changes, "content_type"))
    if "folder_id" in changes:  # moved between folders (perhaps renamed on the way)
        return Entry("moved", _moved(event, changes, "folder_id"))
    if event.data.get("reason") == "version_made_current":  # fileshare.versions.make_current
        return Entry("version_made_current", _pick(changes, "version_id", "name", "size"))
    return Entry("renamed" if "name" in changes else "updated", _pick(changes, "name", "tags", "expires_at"))


def _folder_updated(event: Event) -> Entry:
    """A folder's rename and/or move: an entry of the folder's own (its files' feeds are not
    rewritten: a move of a folder of 100 000 files would otherwise be 100 000 rows)."""
    changes = _changes(event)
    if "parent_id" in changes:
        return Entry("folder_moved", {"folder": True, **_moved(event, changes, "parent_id")})
    return Entry("folder_renamed", {"folder": True, "name": _text(changes.get("name")),
                                    "previous_name": _text(_changes(event, "previous").get("name"))})


def _link_downloaded(event: Event) -> Entry:
    raw = event.data.get("client")
    client = ({k: v[:64] for k in _CLIENT_KEYS if isinstance(v := raw.get(k), str) and v}
              if isinstance(raw, dict) else {})
    return Entry("link_downloaded", _pick(event.data, "link_id", "downloads"),
                 client if client.get("browser") and client.get("os") else None)


_DESCRIBERS: dict[str, Callable[[Event], Entry]] = {
    EventType.FILE_READY: lambda e: Entry("uploaded", _pick(e.data, "size", "content_type")),
    EventType.FILE_REJECTED: lambda e: Entry("upload_rejected", _pick(e.data, "reason")),
    EventType.FILE_UPDATED: _updated,
    EventType.FILE_TRASHED: lambda e: Entry("trashed"),
    EventType.FILE_RESTORED: lambda e: Entry("restored"),
    EventType.FILE_DELETED: lambda e: Entry("deleted", _pick(e.data, "reason")),
    EventType.FILE_EXPIRED: lambda e: Entry("expired", _pick(e.data, "expires_at")),
    # "recipient" (the grantee's address) is filled in by ``record``, which can look it up.
    EventType.SHARE_CREATED: lambda e: Entry("shared", _pick(e.data, "permission")),
    EventType.SHARE_REVOKED: lambda e: Entry("share_revoked"),
    EventType.LINK_CREATED: lambda e: Entry("link_created", _pick(e.data, "link_id", "expires_at",
                                                                   "max_downloads", "has_password")),
    EventType.LINK_REVOKED: lambda e: Entry("link_revoked", _pick(e.data, "link_id")),
    EventType.LINK_DOWNLOADED: _link_downloaded,
    # Folders (the row's file_id is the folder's id; the export shows them, a file's feed does not).
    EventType.FOLDER_CREATED: lambda e: Entry("folder_created",
                                              {"folder": True, **_pick(e.data, "parent_id")}),
    EventType.FOLDER_UPDATED: _folder_updated,
    EventType.FILE_VERSION_ADDED: lambda e: Entry("version_added", _pick(e.data, "version_id", "size")),
    EventType.FILE_VERSION_REJECTED: lambda e: Entry("version_rejected",
                                                     _pick(e.data, "version_id", "reason")),
}
ACTIVITY_EVENTS = frozenset(_DESCRIBERS)


def describe(event: Event) -> Entry | None:
    """The feed entry ``event`` gives its file; None for an event that is no action on a file."""
    describer = _DESCRIBERS.get(event.type)
    return describer(event) if describer else None


def parse(raw: bytes | str) -> Event | None:
    """The event in a record's value; None for a type the feed does not show. The type is checked
    before the envelope is validated (a type added later is acknowledged, not dead-lettered)."""
    return wanted_event(raw, ACTIVITY_EVENTS, SUPPORTED_VERSIONS)


# ---- the consumer -------------------------------------------------------------------------------------

def handle(raw: bytes | str) -> Outcome:
    """Record one Kafka record's event in its file's feed (idempotent). Raises to be retried."""
    event = parse(raw)
    if event is None:
        return Outcome.IGNORED
    return record(event)


def record(event: Event) -> Outcome:
    entry = describe(event)
    if entry is None:
        return Outcome.IGNORED
    details = dict(entry.details)
    if entry.client:
        details["client"] = entry.client
    with transaction() as conn:
        if event.type in (EventType.SHARE_CREATED, EventType.SHARE_REVOKED):
            grantee = event.data.get("recipient_id")
            details["recipient"] = users_db.email_of(conn, grantee) if isinstance(grantee, str) else None
        name = _text(event.data.get("name")) or _text(details.get("name"))
        if name is None:  # e.g. a retag: the event names no file, the row (if any) does
            row = files_db.get(conn, event.file_id)
            name = str(row["name"]) if row else ""
        inserted = sql.insert(conn, event_id=event.id, owner_id=event.owner_id, file_id=event.file_id,
                              action=entry.action, event_type=event.type.value,
                              occurred_at=event.occurred_at, file_name=name, details=details)
    # Not inserted: written before, or the owner's account is gone (its activity went with it).
    outcome = Outcome.RECORDED if inserted else Outcome.DUPLICATE
    metrics.add_metric(name="ActivityRecorded" if inserted else "ActivityDuplicates", unit="Count", value=1)
    logger.debug("activity handled", extra={"event_id": str(event.id), "action": entry.action,
                                            "outcome": outcome.value})
    return outcome


# ---- reading --------------------------------------------------------------------------------------------

def _out(row: ActivityRow) -> ActivityOut:
    details = dict(row.details or {})
    client = details.pop("client", None)
    return ActivityOut(activity_id=row.event_id, file_id=row.file_id, file_name=row.file_name,
                       action=cast(ActivityAction, row.action),  # what ``describe`` wrote (validated)
                       event_type=row.event_type, occurred_at=row.occurred_at,
                       details=details,
                       client=ActivityClient.model_validate(client) if isinstance(client, dict) else None)


def _page(rows: list[ActivityRow], limit: int) -> ActivityList:
    page = rows[:limit]
    next_cursor = (cursor.encode([page[-1].occurred_at.isoformat(), str(page[-1].event_id)])
                   if len(rows) > limit else None)
    return ActivityList(items=[_out(r) for r in page], next_cursor=next_cursor)


def file_activity(user_id: str, file_id: uuid.UUID, *, limit: int, after: str | None) -> ActivityList:
    """The file's activity, newest first: its owner's only. A viewer, another user or a file that
    does not exist (any more) is ``404 file_not_found`` alike."""
    position = cursor.decode_time_id(after) if after else None
    with transaction() as conn:
        row = files_db.get(conn, file_id)
        if row is None or not access.is_owner(row, user_id):
            raise NotFound("file not found", code="file_not_found")
        rows = sql.for_file(conn, file_id, limit=limit + 1, after=position)
    return _page(rows, limit)


def export_page(user_id: str, *, limit: int, after: str | None) -> ActivityList:
    """One page of everything done to the caller's files, oldest first (purged files included)."""
    position = cursor.decode_time_id(after) if after else None
    with transaction() as conn:
        rows = sql.for_owner(conn, user_id, limit=limit + 1, after=position)
    return _page(rows, limit)


# ---- CSV ------------------------------------------------------------------------------------------------

CSV_COLUMNS = ("occurred_at", "action", "file_name", "file_id", "event_type", "activity_id",
               "client_browser", "client_os", "client_network", "client_country", "details")
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"):
# such a cell is prefixed with an apostrophe, which spreadsheets show as text and do not evaluate.
# The full-width forms (U+FF1D = , U+FF0B + , U+FF0D - , U+FF20 @) are read as formulas too.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> str:
    """One CSV cell that no spreadsheet evaluates (see ``_FORMULA_STARTS``)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _csv_row(item: ActivityOut) -> list[str]:
    client = item.client
    return [safe_cell(v) for v in (
        item.occurred_at.isoformat(), item.action, item.file_name, item.file_id, item.event_type,
        item.activity_id, client.browser if client else "", client.os if client else "",
        (client.network or "") if client else "", (client.country or "") if client else "",
        json.dumps(item.details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if item.details else "")]


def to_csv(items: Iterable[ActivityOut]) -> str:
    """A CSV document (RFC 4180: CRLF line ends, every cell quoted) with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(item) for item in items)
    return out.getvalue()
