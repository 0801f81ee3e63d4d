"""What a reconnecting client missed: the outbox's published events after its cursor that it may
read now, oldest first; or "reload" when the outbox no longer holds the gap (published rows are
pruned after ``OUTBOX_RETENTION_DAYS``) or it is longer than ``PUSH_REPLAY_LIMIT`` events.

Only published rows are replayed: an unpublished one has not been pushed to anyone yet, and will be
when the relay publishes it. A row published while the replay runs can reach the client twice (live
and replayed); every message carries its cursor, and the page applies each cursor once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fileshare.db import users as users_db
from fileshare.event_types import Event
from fileshare.push.messages import change, may_read


@dataclass(frozen=True)
class Replay:
    """The messages to send, in cursor order; ``reload``: the gap cannot be replayed; ``cursor``: the
    newest cursor the client has once it applied them."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    reload: bool = False
    cursor: int = 0


def latest(conn: Any) -> int:
    """The newest outbox sequence (where a client with no cursor starts)."""
    row = conn.execute("SELECT coalesce(max(seq), 0) AS seq FROM outbox").fetchone()
    return int(row["seq"])


def missed(conn: Any, user_id: str, cursor: int | None, *, limit: int) -> Replay:
    """What ``user_id`` missed after ``cursor`` (None: a fresh client, nothing to replay)."""
    newest = latest(conn)
    if cursor is None or cursor >= newest:
        return Replay(cursor=newest if cursor is None else cursor)
    oldest = conn.execute("SELECT min(seq) AS seq FROM outbox").fetchone()["seq"]
    if oldest is not None and cursor < int(oldest) - 1:
        return Replay(reload=True, cursor=newest)  # pruned: the gap is older than the outbox
    rows = conn.execute(
        "SELECT o.seq, o.payload, EXISTS (SELECT 1 FROM shares s WHERE s.file_id = o.aggregate_id"
        "   AND s.grantee_id = %(user)s) AS recipient"
        " FROM outbox o WHERE o.seq > %(cursor)s AND o.published_at IS NOT NULL"
        "  AND (o.payload->>'owner_id' = %(user)s OR EXISTS (SELECT 1 FROM shares s"
        "       WHERE s.file_id = o.aggregate_id AND s.grantee_id = %(user)s))"
        " ORDER BY o.seq LIMIT %(limit)s",
        {"user": user_id, "cursor": cursor, "limit": limit + 1}).fetchall()
    if len(rows) > limit:
        return Replay(reload=True, cursor=newest)
    emails: dict[str, str | None] = {}
    messages = []
    for row in rows:
        event = Event.model_validate(row["payload"])
        if not may_read(event, user_id, recipient=bool(row["recipient"])):
            continue
        if event.owner_id not in emails:
            emails[event.owner_id] = users_db.email_of(conn, event.owner_id)
        messages.append(change(event, int(row["seq"]), reader=user_id, by=emails[event.owner_id]))
    return Replay(messages=messages, cursor=max([cursor, *(m["cursor"] for m in messages)]))
