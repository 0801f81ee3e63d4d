"""A burst of uploads becomes one notice and one email, not one each: "250 files are ready".

Uploads that become ready less than ``UPLOAD_NOTICE_WINDOW_SECONDS`` apart belong to one burst of
their owner's (at most ``UPLOAD_NOTICE_MAX_SECONDS`` after it opened, so a steady trickle still
gets told). The burst's first upload makes the inbox row at once, as a lone upload's notice is;
each later one updates that same row ("3 files are ready: “a.txt”, “b.txt” and 1 more") and marks
it unread again. The activity feed is a consumer of its own and keeps one entry per file.

How the window closes: a burst is closed by the first event that arrives after it went quiet
(that event opens the next burst), or by the sweeper, whichever comes first. The email goes out
once, for the whole burst, when it is closed: the sweeper (every few minutes; 15 s locally) claims
the burst (``emailed_at``) and sends inside that transaction, so a failed send is retried by the
next run and a burst is mailed once (the one window is a crash between SES accepting and the
commit, as for every email here: at least once). A lone upload's email therefore comes a window
and a sweep after it is ready.

Nothing is lost when the notifier crashes mid-burst: each event's share (its row in
``notice_burst_events``, the count, the inbox text) is one transaction; a crash before the commit
leaves the record unacknowledged and Kafka delivers it again, and a redelivered event finds its
row and changes nothing. Events of one owner arrive on several partitions at once (the key is the
file id): a transaction-level advisory lock per owner serializes them.

``UPLOAD_NOTICE_WINDOW_SECONDS=0`` turns bursts off: one notice and one email per upload at once.
"""
# ruff: noqa: S608

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fileshare.adapters.observability import metrics
from fileshare.config import settings
from fileshare.db import typed
from fileshare.db.connection import transaction
from fileshare.event_types import Event, EventType
from fileshare.notifications import rows as inbox_db

COALESCED: frozenset[str] = frozenset({EventType.FILE_READY})
NAMES_KEPT = 5
_LOCK_SPACE = 0x46534E42  # "FSNB": the advisory lock's first key; the second is the owner's hash


@dataclass(frozen=True)
class Burst:
    burst_id: uuid.UUID
    user_id: str
    type: str
    notification_id: uuid.UUID
    count: int
    names: list[str]
    quiet: bool = False  # its window is over: it takes no more uploads


BURST_COLUMNS = "burst_id, user_id, type, notification_id, count, names"
# Whether a burst's window is over (params: the window, the longest span, both in seconds).
QUIET_IF = "(last_at < now() - make_interval(secs => %s) OR opened_at < now() - make_interval(secs => %s))"
_QUIET = f"{QUIET_IF} AS quiet"


def on() -> bool:
    return settings().upload_notice_window_s > 0


def text(count: int, names: list[str]) -> tuple[str, str]:
    """The subject and message of a burst of ``count`` uploads (pure)."""
    quoted = [f"“{n}”" for n in names if n.strip()] or ["a file"]
    if count == 1:
        subject = f"Your upload {quoted[0]} is ready"
        return subject, f"{subject}."
    shown = quoted[:min(len(quoted), 2 if count > 3 else 3)]
    rest = count - len(shown)
    listed = ", ".join(shown) + (f" and {rest} more" if rest else "")
    return f"{count} files are ready", f"{count} files are ready: {listed}."


def _lock(conn: Any, user_id: str) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_SPACE, user_id))


def _open(conn: Any, user_id: str, kind: str) -> Burst | None:
    """The user's open burst of ``kind`` that is still within its window (a quiet one is closed)."""
    config = settings()
    burst = typed.one(conn, Burst, f"SELECT {BURST_COLUMNS}, {_QUIET} FROM notice_bursts"
                      " WHERE user_id = %s AND type = %s AND closed_at IS NULL",
                      (config.upload_notice_window_s, config.upload_notice_max_s, user_id, kind))
    if burst is not None and burst.quiet:
        conn.execute("UPDATE notice_bursts SET closed_at = now() WHERE burst_id = %s", (burst.burst_id,))
        return None
    return burst


def deliver(event: Event, user_id: str) -> bool:
    """Count ``event`` (a ready upload of ``user_id``'s) into their burst; False if it was counted
    before (a redelivery). Raises to have the record retried."""
    name = str(event.data.get("name") or "")
    kind = event.type.value
    with transaction() as conn:
        _lock(conn, user_id)
        if conn.execute("SELECT 1 FROM notice_burst_events WHERE event_id = %s", (event.id,)).fetchone():
            return False
        burst = _open(conn, user_id, kind)
        if burst is None:
            burst = Burst(uuid.uuid4(), user_id, kind, uuid.uuid4(), 1, [name])
            _, message = text(1, burst.names)
            inbox_db.insert(conn, notification_id=burst.notification_id, user_id=user_id, event_id=event.id,
                            type=kind, file_id=event.file_id, message=message)
            conn.execute("INSERT INTO notice_bursts (burst_id, user_id, type, notification_id, count, names)"
                         " VALUES (%s, %s, %s, %s, 1, %s)",
                         (burst.burst_id, user_id, kind, burst.notification_id, burst.names))
        else:
            names = [*burst.names, name] if len(burst.names) < NAMES_KEPT else burst.names
            _, message = text(burst.count + 1, names)
            conn.execute("UPDATE notice_bursts SET count = count + 1, names = %s, last_at = now()"
                         " WHERE burst_id = %s", (names, burst.burst_id))
            conn.execute("UPDATE notifications SET message = %s, read_at = NULL WHERE notification_id = %s",
                         (message, burst.notification_id))
            metrics.add_metric(name="NotificationsCoalesced", unit="Count", value=1)
        conn.execute("INSERT INTO notice_burst_events (event_id, burst_id) VALUES (%s, %s)",
                     (event.id, burst.burst_id))
    return True


def close_quiet() -> int:
    config = settings()
    with transaction() as conn:
        conn.execute("UPDATE notice_bursts SET closed_at = coalesce(closed_at, now()), emailed_at = now()"
                     f" WHERE emailed_at IS NULL AND (closed_at IS NOT NULL OR {QUIET_IF})",
                     (config.upload_notice_window_s, config.upload_notice_max_s))
    return 0


def prune(keep_days: int = 7) -> int:
    """Mailed bursts older than ``keep_days`` (their event rows go with them)."""
    with transaction() as conn:
        deleted = conn.execute("DELETE FROM notice_bursts"
                               " WHERE emailed_at < now() - make_interval(days => %s)", (keep_days,))
    return int(deleted.rowcount)
