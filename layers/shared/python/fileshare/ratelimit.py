"""Request rate limits in Redis, fixed one-minute windows, one atomic round trip per request.

- Per user, on every route with a caller (authorizer claims): ``RATE_LIMIT_PER_MINUTE`` requests
  that may change something (every method but GET and HEAD), and apart from them
  ``READ_RATE_LIMIT_PER_MINUTE`` reads (GET, HEAD), so a page polling the status of the files it
  just uploaded never uses up the budget its next uploads need, nor the other way round. What an
  upload costs is counted by ``fileshare.upload_budget`` (files and bytes per hour): a batch of
  500 uploads is one request here.
- Per source IP and route, on every route without a caller (register, login, confirm, forgot,
  refresh, ``/s/{token}``, and any public route added later: the key is the route's resource
  path): ``IP_RATE_LIMIT_PER_MINUTE`` requests.

Each request runs the shared limiter script (``fileshare.adapters.limiter``: INCR, the expiry when the key
is new, the decision) on ``fs:rl:v1:<user>:<minute>`` (reads: ``fs:rlr:v1:<user>:<minute>``) or
``fs:rlip:v1:<route>:<ip>:<minute>``.
Over the limit the request is refused with 429 ``rate_limited`` and ``Retry-After`` (seconds until
the window ends). API Gateway's usage-plan throttling and, in prod, WAF's per-IP rule protect the
whole API in AWS; these limits are per user and per route, which those cannot be.

Redis being down never stops the API: the request is served unlimited, a warning is logged, and
Redis is left alone for a while (``fileshare.adapters.limiter``). Redis not configured at all (a function
without ``Uses.CACHE``) is a configuration error instead: the function fails at cold start
(``fileshare.config.check_rate_limit_store``), since such a limiter would count nothing, forever,
without a word. A limit of 0 turns that limit off.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from fileshare.adapters import limiter
from fileshare.adapters.observability import metrics
from fileshare.config import settings
from fileshare.errors import RateLimited

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

WINDOW_S = 60
KEY_PREFIX = "fs:rl:v1:"
READ_KEY_PREFIX = "fs:rlr:v1:"
READS = frozenset({"GET", "HEAD"})
IP_KEY_PREFIX = "fs:rlip:v1:"


def reset() -> None:
    """Forget the (shared) client and the degraded state (settings changed; tests)."""
    limiter.reset()


def window_key(user_id: str, window: int) -> str:
    return f"{KEY_PREFIX}{user_id}:{window}"


def read_window_key(user_id: str, window: int) -> str:
    return f"{READ_KEY_PREFIX}{user_id}:{window}"


def ip_window_key(route: str, source_ip: str, window: int) -> str:
    return f"{IP_KEY_PREFIX}{route}:{source_ip}:{window}"


def retry_after_s(now: float, window_s: int = WINDOW_S) -> int:
    """Whole seconds until the current window ends (at least 1)."""
    return max(1, math.ceil((math.floor(now / window_s) + 1) * window_s - now))


def _count(key: str, limit: int) -> limiter.Decision | None:
    if limit <= 0:
        return None
    return limiter.take(limiter.Limit(key, limit, WINDOW_S + 5))  # + clock skew between callers


def hit(user_id: str, now: float | None = None, *, read: bool = False) -> tuple[int, int] | None:
    """Count one request (``read``: against the read budget); (count in this window, limit), or
    None when unlimited (off, no Redis, or Redis unavailable). Never raises."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_S)
    decision = (_count(read_window_key(user_id, window), settings().read_rate_limit_per_minute) if read
                else _count(window_key(user_id, window), settings().rate_limit_per_minute))
    return None if decision is None else (decision.count, decision.limit)


def _refuse(counted: tuple[int, int] | None, now: float, what: str) -> None:
    if counted is not None and counted[0] > counted[1]:
        metrics.add_metric(name="RateLimited", unit="Count", value=1)
        wait = retry_after_s(now)
        raise RateLimited(f"more than {counted[1]} requests per minute{what}; retry in {wait} s",
                          retry_after_s=wait)


def check(user_id: str, *, read: bool = False) -> tuple[int, int] | None:
    """Count the request and raise ``RateLimited`` when it is over the limit."""
    now = time.time()
    counted = hit(user_id, now, read=read)
    _refuse(counted, now, " that read" if read else "")
    return counted


def check_ip(route: str, source_ip: str) -> tuple[int, int] | None:
    """The per-IP limit of a public route (``route``: its resource path, e.g. ``POST /auth/login``)."""
    now = time.time()
    decision = _count(ip_window_key(route, source_ip, int(now // WINDOW_S)),
                      settings().ip_rate_limit_per_minute)
    counted = None if decision is None else (decision.count, decision.limit)
    _refuse(counted, now, " from this address")
    return counted


def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Powertools middleware for every route: callers with a user (authorizer claims) are limited
    per user; requests without one (public routes) per source IP and route."""
    event = app.current_event
    user_id = (event.request_context.authorizer.claims or {}).get("sub")
    if user_id:
        counted = check(str(user_id), read=event.http_method.upper() in READS)
    else:
        source_ip = event.request_context.identity.source_ip or "unknown"
        counted = check_ip(f"{event.http_method} {event.resource}", source_ip)
    response = next_middleware(app)
    if counted is not None:
        response.headers["X-RateLimit-Limit"] = str(counted[1])
        response.headers["X-RateLimit-Remaining"] = str(max(counted[1] - counted[0], 0))
    return response
