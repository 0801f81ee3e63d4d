"""The per-IP rate limit on the public /auth/* routes, through the local gateway: real HTTP from
distinct source addresses (Linux answers on all of 127.0.0.0/8), the auth function in a worker
process with exactly its declared environment, its limiter counting in the test namespace's Redis.

Before ``auth`` declared ``Uses.CACHE`` its worker had no ``REDIS_URL``, and the limiter allowed
every request without a word (62 password resets from one address in a minute, no 429). A function
whose limiter has no store now fails at cold start, naming the setting.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.declaration import Uses, by_name
from lambdarun.auth import CognitoAuthorizer, CognitoSettings
from lambdarun.gateway import Gateway
from lambdarun.runtime import Runtime
from tests.support.runtime import load_test_env

LIMIT = 5


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


def post(gateway: Gateway, source_ip: str, path: str, body: dict[str, Any]) -> Reply:
    """One request from ``source_ip`` (the TCP peer the gateway turns into ``sourceIp``)."""
    host, port = gateway.server.server_address[0], gateway.server.server_address[1]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=30, source_address=(source_ip, 0))
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     json.loads(raw) if raw else {})
    finally:
        conn.close()


def fresh_addresses(count: int) -> list[str]:
    """Loopback addresses no other run is likely to use this minute (the counters live in a shared
    Redis, keyed by route, address and minute)."""
    rng = random.Random(uuid.uuid4().int)
    return [f"127.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(2, 254)}" for _ in range(count)]


def in_one_window[T](burst: Callable[[], T]) -> T:
    """``burst()``'s result from a run whose requests all fell in one fixed minute window (the
    limiter counts per ``time() // 60`` on this machine's clock): a run that straddled a boundary
    (its counts split over two windows) is run again, from fresh addresses, instead of waiting for
    a minute to start. Nothing is timed; a burst takes seconds, so the second run fits."""
    for _ in range(2):
        window = int(time.time() // 60)
        result = burst()
        if int(time.time() // 60) == window:
            return result
    raise AssertionError("two bursts in a row straddled a minute boundary")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    env = load_test_env()
    if not env:
        pytest.fail("the local stack is not up (.local/test.env is missing): run `make up`")
    runtime = Runtime([by_name("auth")], base_env={**env, "IP_RATE_LIMIT_PER_MINUTE": str(LIMIT)},
                      log_dir=tmp_path / "logs", max_concurrency=1)
    gw = Gateway(runtime, authorizer=CognitoAuthorizer(CognitoSettings.from_env(env)), port=0,
                 web_dir=tmp_path)
    gw.start()
    yield gw
    gw.close()
    runtime.close()


def test_auth_requests_over_the_per_ip_limit_get_429_and_another_address_does_not(gateway: Gateway) -> None:
    login = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "Wrong-Passw0rd!x"}

    def burst() -> tuple[list[Reply], Reply, Reply, Reply]:
        limited_ip, other_ip = fresh_addresses(2)
        replies = [post(gateway, limited_ip, "/auth/login", login) for _ in range(LIMIT)]
        over = post(gateway, limited_ip, "/auth/login", login)
        return (replies, over, post(gateway, limited_ip, "/auth/login", login),
                post(gateway, other_ip, "/auth/login", login))

    replies, over, again, other = in_one_window(burst)
    assert [r.status for r in replies] == [401] * LIMIT, [r.body for r in replies]  # unknown user
    assert over.status == 429, over.body
    assert over.body["error"]["code"] == "rate_limited"
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert again.status == 429  # and it stays refused
    assert other.status == 401  # another address: not limited


def test_password_resets_from_one_address_are_limited(gateway: Gateway) -> None:
    """The reported abuse: resets (each one a mail) from one address, 62 in a minute before."""
    email = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com"}

    def burst() -> list[int]:
        (address,) = fresh_addresses(1)
        return [post(gateway, address, "/auth/forgot", email).status for _ in range(LIMIT + 2)]

    assert in_one_window(burst) == [202] * LIMIT + [429, 429]


def test_a_limiter_without_its_store_fails_at_cold_start(tmp_path: Path) -> None:
    """``auth`` as it was declared (no ``Uses.CACHE``): the worker's import fails naming REDIS_URL,
    where it used to start and count nothing; the gateway answers API Gateway's 502."""
    without_cache = dataclasses.replace(by_name("auth"), uses=by_name("auth").uses - {Uses.CACHE})
    env = load_test_env()
    runtime = Runtime([without_cache], base_env=env, log_dir=tmp_path / "logs", max_concurrency=1)
    gw = Gateway(runtime, authorizer=CognitoAuthorizer(CognitoSettings.from_env(env)), port=0,
                 web_dir=tmp_path)
    gw.start()
    try:
        (address,) = fresh_addresses(1)
        reply = post(gw, address, "/auth/forgot", {"email": "nobody@example.com"})
        assert reply.status == 502
        failed = runtime.invoke("auth", {"httpMethod": "POST", "path": "/auth/forgot"})
        assert not failed.ok and failed.error is not None
        assert "REDIS_URL" in failed.error["errorMessage"] and "Uses.CACHE" in failed.error["errorMessage"]
    finally:
        gw.close()
        runtime.close()
