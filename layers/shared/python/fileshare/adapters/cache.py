"""Read-through cache of file records in Redis (ElastiCache in AWS).

Keys are ``fs:file:v1:{<file_id>}``: one entry per file, shared by every reader, holding the record
including ``owner_id``. The cache never decides access: callers authorize the record they get,
whether it came from here or from PostgreSQL. Redis being down is never an error: reads fall
through to PostgreSQL, and it is logged.

Read-through caches have a race: a reader misses, reads the old row, a writer commits and deletes
the key, then the reader puts the old row back, stale for a whole TTL. So each file also has a
generation counter: writers bump it when they invalidate; a reader notes it (in the same round
trip as its miss) before reading PostgreSQL and stores its record only if the generation is still
the one it saw (one Lua script, atomic). The braces are a hash tag: both keys live in one slot, as
ElastiCache Serverless (cluster mode) requires for a script touching both.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fileshare.adapters import snapstart
from fileshare.adapters.observability import logger, metrics
from fileshare.config import settings
from fileshare.timeouts import REDIS_TIMEOUT_S

if TYPE_CHECKING:
    from redis import Redis

KEY_PREFIX = "fs:file:v1:"
GENERATION_TTL_S = 86_400  # far longer than any read; an expired counter only skips one fill

# Store the record only if no write bumped the generation since the reader looked it up.
_FILL_IF_UNCHANGED = """
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


def file_key(file_id: object) -> str:
    return f"{KEY_PREFIX}{{{file_id}}}"


def generation_key(file_id: object) -> str:
    return f"{file_key(file_id)}:gen"


class Lookup:
    """What a read found: the cached record, or a miss with the generation to fill against."""

    __slots__ = ("generation", "record")

    def __init__(self, record: dict[str, Any] | None, generation: str) -> None:
        self.record = record
        self.generation = generation


@lru_cache(maxsize=1)
def redis_client() -> Redis | None:
    """The process's one Redis client (cache, rate limits, link password limits); None without
    ``REDIS_URL``. Short timeouts: Redis being slow or down must never stall a request."""
    url = settings().redis_url
    if not url:
        return None
    import redis  # cold start: only functions that use Redis pay for the import

    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S,
                                health_check_interval=30, decode_responses=True)


def get_file(file_id: object) -> Lookup:
    client = redis_client()
    if client is None:
        return Lookup(None, "")
    try:
        raw, generation = client.mget(file_key(file_id), generation_key(file_id))
    except Exception as exc:  # any Redis/network failure: serve from PostgreSQL
        logger.warning("cache read failed; serving from the database", extra={"error": repr(exc)})
        metrics.add_metric(name="CacheErrors", unit="Count", value=1)
        return Lookup(None, "")
    metrics.add_metric(name="CacheHits" if raw is not None else "CacheMisses", unit="Count", value=1)
    return Lookup(json.loads(raw) if isinstance(raw, str) else None, str(generation or ""))


def put_file(file_id: object, record: dict[str, Any], lookup: Lookup) -> bool:
    """Cache ``record`` read after ``lookup`` missed, unless a write happened since. True if stored."""
    client = redis_client()
    if client is None:
        return False
    try:
        stored = client.eval(_FILL_IF_UNCHANGED, 2, file_key(file_id), generation_key(file_id),
                             lookup.generation, json.dumps(record, default=str), settings().cache_ttl_s)
    except Exception as exc:
        logger.warning("cache write failed", extra={"error": repr(exc)})
        return False
    return bool(stored)


def invalidate_file(file_id: object) -> None:
    """Drop the cached record (after the write committed). A failure is logged; the TTL bounds it."""
    client = redis_client()
    if client is None:
        return
    try:
        pipeline = client.pipeline(transaction=True)
        pipeline.incr(generation_key(file_id))
        pipeline.expire(generation_key(file_id), GENERATION_TTL_S)
        pipeline.delete(file_key(file_id))
        pipeline.execute()
    except Exception as exc:
        logger.warning("cache invalidation failed", extra={"error": repr(exc), "file_id": str(file_id)})
        metrics.add_metric(name="CacheErrors", unit="Count", value=1)


@snapstart.on_restore
def _after_restore() -> list[str]:
    """The Redis client's connections must not outlive the snapshot."""
    if not redis_client.cache_info().currsize:
        return []
    client = redis_client()
    if client is not None:
        snapstart.quietly(lambda: client.connection_pool.disconnect(inuse_connections=True))
    redis_client.cache_clear()
    return ["redis"]
