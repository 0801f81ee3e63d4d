"""Read-through cache of file records in Redis (ElastiCache in AWS).

Keys are ``fs:file:v1:<file_id>``: one entry per file, shared by every reader, holding the record
including ``owner_id``. The cache never decides access: callers authorize the record they get,
whether it came from here or from PostgreSQL. Every write deletes the key after its commit.
Redis being down is never an error: reads fall through to PostgreSQL, and it is logged.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fileshare.config import settings
from fileshare.observability import logger, metrics

if TYPE_CHECKING:
    from redis import Redis

KEY_PREFIX = "fs:file:v1:"


def file_key(file_id: object) -> str:
    return f"{KEY_PREFIX}{file_id}"


@lru_cache(maxsize=1)
def _redis() -> Redis | None:
    url = settings().redis_url
    if not url:
        return None
    import redis  # lazy: only functions that cache pay for the import

    return redis.Redis.from_url(url, socket_connect_timeout=0.25, socket_timeout=0.25,
                                health_check_interval=30, decode_responses=True)


def get_file(file_id: object) -> dict[str, Any] | None:
    client = _redis()
    if client is None:
        return None
    try:
        raw = client.get(file_key(file_id))
    except Exception as exc:  # any Redis/network failure: serve from PostgreSQL
        logger.warning("cache read failed; serving from the database", extra={"error": repr(exc)})
        metrics.add_metric(name="CacheErrors", unit="Count", value=1)
        return None
    metrics.add_metric(name="CacheHits" if raw is not None else "CacheMisses", unit="Count", value=1)
    return json.loads(raw) if isinstance(raw, str) else None


def put_file(file_id: object, record: dict[str, Any]) -> None:
    client = _redis()
    if client is None:
        return
    try:
        client.set(file_key(file_id), json.dumps(record, default=str), ex=settings().cache_ttl_s)
    except Exception as exc:
        logger.warning("cache write failed", extra={"error": repr(exc)})


def invalidate_file(file_id: object) -> None:
    """Drop the cached record (after the write committed). A failure is logged; the TTL bounds it."""
    client = _redis()
    if client is None:
        return
    try:
        client.delete(file_key(file_id))
    except Exception as exc:
        logger.warning("cache invalidation failed", extra={"error": repr(exc), "file_id": str(file_id)})
        metrics.add_metric(name="CacheErrors", unit="Count", value=1)
