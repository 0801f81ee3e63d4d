"""The live WebSocket connections of each user, in Redis.

Why Redis and not PostgreSQL: a connection lives at most two hours (API Gateway closes it then) and
is looked up on every push by user id; it is not data anyone needs after a restart (the client
reconnects and resumes from its cursor). Redis answers the lookup for a batch of users in one round
trip, and a ``$connect``/``$disconnect`` storm (a deploy, a network blip) costs no database
connections or vacuum. Each user's connections are a sorted set scored by connect time: entries older
than the two-hour maximum are dropped on read, so a ``$disconnect`` that never came (API Gateway
sends it on a best-effort basis) leaves nothing behind for long; a gone connection found by a post
(410) is removed at once.

Keys: ``fs:push:conn:{<connection id>}`` -> user id; ``fs:push:user:{<user id>}`` -> sorted set of
connection ids. Both expire after the maximum connection time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from fileshare.adapters.cache import redis_client

if TYPE_CHECKING:
    from redis import Redis

#: API Gateway closes every WebSocket connection after two hours (infra.declaration.SOCKET_API).
MAX_CONNECTION_S = 7200
_PREFIX = "fs:push:"


class ConnectionsUnavailableError(RuntimeError):
    """Redis is not configured: nothing can be registered or looked up."""


def _conn_key(connection_id: str) -> str:
    return f"{_PREFIX}conn:{{{connection_id}}}"


def _user_key(user_id: str) -> str:
    return f"{_PREFIX}user:{{{user_id}}}"


def _redis() -> Redis:
    client = redis_client()
    if client is None:
        raise ConnectionsUnavailableError("REDIS_URL is not set: push connections live in Redis")
    return client


def register(connection_id: str, user_id: str, *, now: float | None = None) -> None:
    """Record a new connection of ``user_id``."""
    at = time.time() if now is None else now
    pipe = _redis().pipeline(transaction=False)
    pipe.set(_conn_key(connection_id), user_id, ex=MAX_CONNECTION_S)
    pipe.zadd(_user_key(user_id), {connection_id: at})
    pipe.expire(_user_key(user_id), MAX_CONNECTION_S)
    pipe.execute()


def user_of(connection_id: str) -> str | None:
    """The user a connection belongs to, or None (never registered, gone, or expired)."""
    value = _redis().get(_conn_key(connection_id))
    return str(value) if value else None


def remove(connection_id: str) -> str | None:
    """Forget a connection ($disconnect, or a post answered 410); returns its user, if known."""
    client = _redis()
    user_id = client.get(_conn_key(connection_id))
    pipe = client.pipeline(transaction=False)
    pipe.delete(_conn_key(connection_id))
    if user_id:
        pipe.zrem(_user_key(str(user_id)), connection_id)
    pipe.execute()
    return str(user_id) if user_id else None


def of_users(user_ids: Iterable[str], *, now: float | None = None) -> dict[str, list[str]]:
    """Each user's live connections (users without any are left out), in one round trip."""
    users = list(dict.fromkeys(user_ids))
    if not users:
        return {}
    oldest = (time.time() if now is None else now) - MAX_CONNECTION_S
    pipe = _redis().pipeline(transaction=False)
    for user_id in users:
        pipe.zremrangebyscore(_user_key(user_id), "-inf", f"({oldest}")
        pipe.zrange(_user_key(user_id), 0, -1)
    replies = pipe.execute()
    found = {user_id: [str(c) for c in replies[2 * i + 1]] for i, user_id in enumerate(users)}
    return {user_id: ids for user_id, ids in found.items() if ids}


def count() -> int:
    """How many connections are registered (an estimate for on-call: keys are scanned)."""
    return sum(1 for _ in _redis().scan_iter(match=f"{_PREFIX}conn:*", count=500))
