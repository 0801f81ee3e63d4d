"""Per-user API rate limit in Redis: a fixed one-minute window, one round trip per request.

Each authenticated request runs ``MULTI; INCR fs:rl:v1:<user>:<minute>; EXPIRE ...; EXEC`` (one
pipelined, atomic round trip). Above ``RATE_LIMIT_PER_MINUTE`` the request is refused with 429
``rate_limited`` and ``Retry-After`` (seconds until the window ends). API Gateway's usage-plan
throttling protects the whole API in AWS; this limit is per user, which a usage plan cannot be.

Redis being down never stops the API: the request is served unlimited, a warning is logged, and
Redis is left alone for ``DEGRADED_S`` seconds, so a dead Redis costs one failed attempt (and one
log line) per process per interval, not one per request. ``RATE_LIMIT_PER_MINUTE=0`` turns it off.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from fileshare.cache import redis_client
from fileshare.config import settings
from fileshare.errors import RateLimited
from fileshare.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

WINDOW_S = 60
DEGRADED_S = 30.0
KEY_PREFIX = "fs:rl:v1:"

_degraded_until = 0.0


def reset() -> None:
    """Forget the (shared) client and the degraded state (settings changed; tests)."""
    global _degraded_until
    redis_client.cache_clear()
    _degraded_until = 0.0


def window_key(user_id: str, window: int) -> str:
    return f"{KEY_PREFIX}{user_id}:{window}"


def retry_after_s(now: float, window_s: int = WINDOW_S) -> int:
    """Whole seconds until the current window ends (at least 1)."""
    return max(1, math.ceil((math.floor(now / window_s) + 1) * window_s - now))


def hit(user_id: str, now: float | None = None) -> tuple[int, int] | None:
    """Count one request; (count in this window, limit), or None when unlimited (off, no Redis, or
    Redis unavailable). Never raises."""
    global _degraded_until
    limit = settings().rate_limit_per_minute
    if limit <= 0 or time.monotonic() < _degraded_until:
        return None
    client = redis_client()
    if client is None:
        return None
    now = time.time() if now is None else now
    key = window_key(user_id, int(now // WINDOW_S))
    try:
        pipe = client.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, WINDOW_S + 5)  # a little beyond the window, for clock skew between callers
        count, _ = pipe.execute()
    except Exception as exc:  # any Redis or network failure: serve unlimited for a while
        _degraded_until = time.monotonic() + DEGRADED_S
        logger.warning("rate limiter unavailable; serving without limits for a while",
                       extra={"error": repr(exc), "for_seconds": DEGRADED_S})
        metrics.add_metric(name="RateLimiterUnavailable", unit="Count", value=1)
        return None
    return int(count), limit


def check(user_id: str) -> tuple[int, int] | None:
    """Count the request and raise ``RateLimited`` when it is over the limit."""
    now = time.time()
    counted = hit(user_id, now)
    if counted is not None and counted[0] > counted[1]:
        metrics.add_metric(name="RateLimited", unit="Count", value=1)
        wait = retry_after_s(now)
        raise RateLimited(f"more than {counted[1]} requests per minute; retry in {wait} s",
                          retry_after_s=wait)
    return counted


def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Powertools middleware for every route: limits callers with a user (authorizer claims)."""
    claims = app.current_event.request_context.authorizer.claims or {}
    user_id = claims.get("sub")
    counted = check(str(user_id)) if user_id else None
    response = next_middleware(app)
    if counted is not None:
        response.headers["X-RateLimit-Limit"] = str(counted[1])
        response.headers["X-RateLimit-Remaining"] = str(max(counted[1] - counted[0], 0))
    return response
