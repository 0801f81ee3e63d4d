"""The one atomic counter every limit uses: a Redis Lua script that increments, sets the expiry
when the key has none, and decides, in a single step no concurrent caller can split.

``take(Limit(key, limit, window_s))`` counts one unit and answers whether it is within the limit;
the window starts with the first unit (its TTL) and the key always expires: a key found without
a TTL (left by an older version, or a crash between two commands elsewhere) gets one too, so no
counter can refuse forever. ``give_back`` returns a unit (a correct link password, say) so that
only failures use up a budget. Each script call touches one key, so the limits work on a Redis
cluster (ElastiCache Serverless) where keys of one request live in different slots.

Redis being unavailable never stops a request: every limit is open for ``DEGRADED_S`` seconds, a
warning is logged once per process and interval, and the caller decides what open means.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from fileshare.adapters import snapstart
from fileshare.adapters.cache import redis_client
from fileshare.adapters.observability import logger, metrics

DEGRADED_S = 30.0

# KEYS[1] the counter; ARGV[1] the limit, ARGV[2] the window in ms. Returns {allowed, count, ttl_ms}.
_TAKE = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if count > tonumber(ARGV[1]) then
  return {0, count, ttl}
end
return {1, count, ttl}
"""
# Return one unit, never below zero and never to a key that has expired meanwhile.
_GIVE_BACK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""

# A unit of work that costs ``ARGV[3]`` (files, bytes): counted only if it fits, so a refused batch
# uses up nothing. KEYS[1] the counter; ARGV[1] the limit, ARGV[2] the window in ms, ARGV[3] the cost.
_TAKE_COST = """
local cost = tonumber(ARGV[3])
local count = redis.call('INCRBY', KEYS[1], cost)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if count > tonumber(ARGV[1]) then
  redis.call('DECRBY', KEYS[1], cost)
  return {0, count - cost, ttl}
end
return {1, count, ttl}
"""
# Return ``ARGV[1]`` units, never below zero and never to a key that has expired meanwhile.
_REFUND = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local back = math.min(count, tonumber(ARGV[1]))
if back > 0 then
  return redis.call('DECRBY', KEYS[1], back)
end
return count
"""

# Per client (a new client, after settings change, starts afresh): monotonic time until which
# Redis is left alone, and the registered scripts.
_degraded_until: dict[int, float] = {}
_scripts: dict[int, tuple[Any, Any]] = {}


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window_s: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    limit: int
    retry_after_s: int  # whole seconds until the window ends (at least 1)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)


def reset() -> None:
    """Forget the degraded state and the client (settings changed; tests)."""
    _degraded_until.clear()
    _scripts.clear()
    redis_client.cache_clear()


def _client_and_scripts() -> tuple[Any, Any, Any] | None:
    client = redis_client()
    if client is None or time.monotonic() < _degraded_until.get(id(client), 0.0):
        return None
    scripts = _scripts.get(id(client))
    if scripts is None:
        scripts = (client.register_script(_TAKE), client.register_script(_GIVE_BACK))
        _scripts.clear()
        _scripts[id(client)] = scripts
    return client, scripts[0], scripts[1]


def _degrade(client: Any, exc: Exception) -> None:
    _degraded_until.clear()
    _degraded_until[id(client)] = time.monotonic() + DEGRADED_S
    logger.warning("rate limiter unavailable; serving without limits for a while",
                   extra={"error": repr(exc), "for_seconds": DEGRADED_S})
    metrics.add_metric(name="RateLimiterUnavailable", unit="Count", value=1)


def take_all(limits: list[Limit]) -> list[Decision] | None:
    """Count one unit against each limit (one EVALSHA, or one pipeline of them after a SCRIPT
    EXISTS); None when Redis is unavailable."""
    if not limits:
        return []
    found = _client_and_scripts()
    if found is None:
        return None
    client, take_script, _ = found
    try:
        if len(limits) == 1:  # EVALSHA alone: a pipeline asks SCRIPT EXISTS first, a second round trip
            replies = [take_script(keys=[limits[0].key], args=[limits[0].limit, limits[0].window_s * 1000])]
        else:
            pipe = client.pipeline(transaction=False)
            for limit in limits:
                take_script(keys=[limit.key], args=[limit.limit, limit.window_s * 1000], client=pipe)
            replies = pipe.execute()
    except Exception as exc:  # any Redis or network failure: open for a while
        _degrade(client, exc)
        return None
    return [Decision(allowed=bool(int(allowed)), count=int(count), limit=limit.limit,
                     retry_after_s=max(1, math.ceil(int(ttl_ms) / 1000)))
            for limit, (allowed, count, ttl_ms) in zip(limits, replies, strict=True)]


def take(limit: Limit) -> Decision | None:
    decisions = take_all([limit])
    return decisions[0] if decisions else None


def take_costs(costs: list[tuple[Limit, int]]) -> list[Decision] | None:
    """Count ``cost`` units against each limit, only where they fit (one pipeline); None when
    Redis is unavailable. The caller refunds the allowed ones (``refund``) if it goes no further."""
    found = _client_and_scripts()
    if found is None:
        return None
    client = found[0]
    try:
        take_cost = client.register_script(_TAKE_COST)
        pipe = client.pipeline(transaction=False)
        for limit, cost in costs:
            take_cost(keys=[limit.key], args=[limit.limit, limit.window_s * 1000, cost], client=pipe)
        replies = pipe.execute()
    except Exception as exc:
        _degrade(client, exc)
        return None
    return [Decision(allowed=bool(int(allowed)), count=int(count), limit=limit.limit,
                     retry_after_s=max(1, math.ceil(int(ttl_ms) / 1000)))
            for (limit, _), (allowed, count, ttl_ms) in zip(costs, replies, strict=True)]


def refund(costs: list[tuple[str, int]]) -> None:
    """Return ``cost`` units to each key (best effort)."""
    found = _client_and_scripts()
    if found is None or not costs:
        return
    client = found[0]
    try:
        script = client.register_script(_REFUND)
        pipe = client.pipeline(transaction=False)
        for key, cost in costs:
            script(keys=[key], args=[cost], client=pipe)
        pipe.execute()
    except Exception as exc:
        _degrade(client, exc)


def give_back(keys: list[str]) -> None:
    """Return one unit to each key (best effort: a failure only leaves the unit counted)."""
    found = _client_and_scripts()
    if found is None or not keys:
        return
    client, _, give_script = found
    try:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            give_script(keys=[key], client=pipe)
        pipe.execute()
    except Exception as exc:
        _degrade(client, exc)


@snapstart.on_restore
def _after_restore() -> list[str]:
    """Its scripts, degraded-until clocks (monotonic: not comparable after a restore) and client."""
    reset()
    return []
