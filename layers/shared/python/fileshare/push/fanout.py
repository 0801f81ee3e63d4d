"""The pusher's work on one event: its readers' connections, each sent the change."""

from __future__ import annotations

from enum import StrEnum

from fileshare.adapters import telemetry
from fileshare.adapters.observability import metrics
from fileshare.consumers import wanted_event
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.event_types import ENVELOPE_VERSION, Event
from fileshare.push import connections, delivery
from fileshare.push.messages import PUSHED, audience, change

PUSH_DELIVERY = "PushDeliveryMs"  # the event's occurred_at -> posted to the reader's connection


class Outcome(StrEnum):
    PUSHED = "pushed"  # posted to at least one connection
    NOBODY = "nobody"  # no reader is connected
    IGNORED = "ignored"  # not an event, or no cursor


def handle(raw: bytes | str, seq: int | None) -> Outcome:
    """Push one Kafka record (``seq``: its ``outbox-seq`` header; without one, nothing to resume
    from, so nothing is pushed)."""
    event = wanted_event(raw, PUSHED, {ENVELOPE_VERSION})
    if event is None or seq is None:
        return Outcome.IGNORED
    return push(event, seq)


def push(event: Event, seq: int) -> Outcome:
    with transaction() as conn:
        readers = audience(conn, event)
        live = connections.of_users(readers)
        by = users_db.email_of(conn, event.owner_id) if live else None
    if not live:
        return Outcome.NOBODY
    pairs = [(connection_id, change(event, seq, reader=user_id, by=by))
             for user_id, ids in live.items() for connection_id in ids]
    result = delivery.send(pairs)
    if result.sent:
        metrics.add_metric(name=PUSH_DELIVERY, unit="Milliseconds",
                           value=telemetry.ms_since(event.occurred_at.timestamp()))
    return Outcome.PUSHED if result.sent else Outcome.NOBODY
