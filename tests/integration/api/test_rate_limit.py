"""The per-user rate limit (``fileshare.ratelimit``, a middleware every API function gets from
``create_app``) against the real Redis, and without it (Redis pointed at a port nothing listens on).

The clock the limiter reads is pinned for a test, so a minute boundary can never fall between the
requests of a test and reset the window (no timing in the assertions).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from fileshare import ratelimit
from tests.integration.conftest import Api, User
from tests.support.pipeline import free_port


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    """A fresh limiter (client, degraded state) and a pinned clock; reset again afterwards."""
    now = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now, monotonic=time.monotonic))
    ratelimit.reset()
    yield now
    ratelimit.reset()


def test_the_request_over_the_limit_is_429_with_retry_after(
        files_api: Api, files_module: Any, bob: User, override_settings: Any, fresh_limiter: float) -> None:
    override_settings(READ_RATE_LIMIT_PER_MINUTE="3")  # reads (GET) have their own budget
    ratelimit.reset()
    replies = [files_api("GET", "/files") for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in replies] == ["2", "1", "0"]

    limited = files_api("GET", "/files")
    assert limited.status == 429 and limited.error_code == "rate_limited", limited.body
    assert limited.headers["retry-after"] == str(ratelimit.retry_after_s(fresh_limiter))
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert files_api("GET", "/me").status == 429  # the limit is per user, across routes

    assert Api(files_module, bob.claims)("GET", "/files").status == 200  # another user is not limited


def test_writes_are_limited_apart_from_reads(files_api: Api, override_settings: Any,
                                             fresh_limiter: float) -> None:
    override_settings(RATE_LIMIT_PER_MINUTE="2", READ_RATE_LIMIT_PER_MINUTE="2")
    ratelimit.reset()
    body = {"name": "n.txt", "size": 3, "content_type": "text/plain"}
    assert [files_api("POST", "/files", body=body).status for _ in range(3)] == [201, 201, 429]
    assert [files_api("GET", "/files").status for _ in range(3)] == [200, 200, 429]
    limited = files_api("POST", "/files", body=body)
    assert limited.error_code == "rate_limited" and limited.headers["retry-after"].isdigit()


def test_the_limit_counts_in_redis_with_an_expiry(files_api: Api, alice: User, redis_client: Any,
                                                  override_settings: Any, fresh_limiter: float) -> None:
    override_settings(READ_RATE_LIMIT_PER_MINUTE="50")
    ratelimit.reset()
    for _ in range(2):
        assert files_api("GET", "/files").status == 200
    key = ratelimit.read_window_key(alice.user_id, int(fresh_limiter // ratelimit.WINDOW_S))
    assert redis_client.get(key) == "2"
    assert 0 < redis_client.ttl(key) <= ratelimit.WINDOW_S + 5


def test_requests_without_a_caller_are_not_counted(files_api: Api, override_settings: Any) -> None:
    override_settings(READ_RATE_LIMIT_PER_MINUTE="1")
    ratelimit.reset()
    anonymous = files_api.as_user(None)
    assert [anonymous("GET", "/files").status for _ in range(3)] == [401, 401, 401]
    assert files_api("GET", "/files").status == 200


def test_with_redis_down_requests_are_served_and_warned_about_once(
        files_api: Api, override_settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    from fileshare.adapters import cache

    override_settings(READ_RATE_LIMIT_PER_MINUTE="2", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    ratelimit.reset()
    cache.redis_client.cache_clear()
    try:
        statuses = [files_api("GET", "/files").status for _ in range(5)]
    finally:
        cache.redis_client.cache_clear()
    assert statuses == [200] * 5
    warnings = [r for r in caplog.records if "rate limiter unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once per degraded interval, not once per request
