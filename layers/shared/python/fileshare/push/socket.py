"""The WebSocket API's routes, as domain calls: connect, disconnect, and what a client sends.

A client sends ``{"action": "resume", "cursor": <last cursor or null>}`` after connecting (and after
every reconnect) and ``{"action": "ping"}`` at most every nine minutes (API Gateway closes a
connection idle for ten). The answers come through ``@connections`` like every push: the missed
changes, then ``{"type": "resumed", "cursor": N}``, or ``{"type": "reload", "cursor": N}`` when the
gap cannot be replayed (the page then reloads its lists and goes on from ``N``).
"""

from __future__ import annotations

import json
from typing import Any

from fileshare.adapters.observability import metrics
from fileshare.config import settings
from fileshare.db.connection import transaction
from fileshare.errors import Unauthorized, ValidationFailed
from fileshare.push import connections, delivery, replay, tokens


def connect(connection_id: str, token: str | None) -> str:
    """Authenticate the id token and register the connection; returns the caller's user id."""
    caller = tokens.verify(token)
    connections.register(connection_id, caller.user_id)
    metrics.add_metric(name="PushConnects", unit="Count", value=1)
    return caller.user_id


def disconnect(connection_id: str) -> None:
    connections.remove(connection_id)


def parse(body: str | None) -> tuple[str, dict[str, Any]]:
    """(action, message) of a client's frame; 422 for anything else than a JSON object."""
    try:
        message = json.loads(body or "")
    except ValueError as exc:
        raise ValidationFailed("a message is a JSON object with an action", code="invalid_message") from exc
    if not isinstance(message, dict) or not isinstance(message.get("action"), str):
        raise ValidationFailed("a message is a JSON object with an action", code="invalid_message")
    return message["action"], message


def receive(connection_id: str, body: str | None) -> None:
    """Handle one client message (``resume`` or ``ping``); errors go back as ``{"type": "error"}``."""
    user_id = connections.user_of(connection_id)
    if user_id is None:
        raise Unauthorized("this connection is not registered; reconnect", code="unknown_connection")
    action, message = parse(body)
    if action == "ping":
        delivery.post(connection_id, {"type": "pong"})
    elif action == "resume":
        cursor = message.get("cursor")
        if cursor is not None and (not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0):
            raise ValidationFailed("cursor is a non-negative integer or null", code="invalid_cursor")
        resume(connection_id, user_id, cursor)
    else:
        raise ValidationFailed(f"unknown action {action[:40]!r}; use resume or ping", code="unknown_action")


def resume(connection_id: str, user_id: str, cursor: int | None) -> replay.Replay:
    """Send ``user_id``'s missed changes after ``cursor`` to the connection, then where it stands."""
    with transaction() as conn:
        found = replay.missed(conn, user_id, cursor, limit=settings().push_replay_limit)
    sent = delivery.Delivery()
    for message in found.messages:
        if not delivery.post(connection_id, message, sent):
            break  # gone or failing: the client resumes again from what it has
    delivery.post(connection_id, {"type": "reload" if found.reload else "resumed", "cursor": found.cursor},
                  sent)
    delivery.record(sent)
    metrics.add_metric(name="PushReplayed", unit="Count", value=len(found.messages))
    return found


def error_message(exc: Exception) -> dict[str, Any]:
    code = getattr(exc, "code", "bad_request")
    return {"type": "error", "error": {"code": code, "message": getattr(exc, "message", str(exc))}}
