"""Abuse resistance against the real Redis: the one atomic limiter (``fileshare.adapters.limiter``), link
passwords limited BEFORE scrypt, and per-IP limits on public routes (``fileshare.ratelimit``).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from fileshare import ratelimit
from fileshare.adapters import limiter
from fileshare.errors import DomainError
from fileshare.links import links
from tests.integration.conftest import User
from tests.support.apigw import call, event
from tests.support.sharing import World, random_ip


@pytest.fixture(autouse=True)
def _fresh_limiter() -> Any:
    limiter.reset()
    yield
    limiter.reset()


def test_the_script_sets_an_expiry_when_the_key_is_new_and_decides(redis_client: Any) -> None:
    key = f"fs:test:limiter:{uuid.uuid4()}"
    decisions = [limiter.take(limiter.Limit(key, 3, 60)) for _ in range(5)]
    assert [d.allowed for d in decisions if d] == [True, True, True, False, False]
    assert [d.count for d in decisions if d] == [1, 2, 3, 4, 5]
    assert 0 < redis_client.ttl(key) <= 60
    assert all(d and 1 <= d.retry_after_s <= 60 for d in decisions)


def test_a_counter_left_without_an_expiry_gets_one(redis_client: Any) -> None:
    """The old SET NX EX + INCR pair could leave a counter with no TTL (a 429 forever)."""
    key = f"fs:test:limiter:{uuid.uuid4()}"
    redis_client.set(key, 99)  # no expiry
    assert redis_client.ttl(key) == -1
    decision = limiter.take(limiter.Limit(key, 5, 60))
    assert decision is not None and not decision.allowed
    assert 0 < redis_client.ttl(key) <= 60


def test_giving_back_never_goes_below_zero_nor_revives_a_key(redis_client: Any) -> None:
    key = f"fs:test:limiter:{uuid.uuid4()}"
    limiter.give_back([key])
    assert redis_client.exists(key) == 0
    limiter.take(limiter.Limit(key, 5, 60))
    limiter.give_back([key])
    limiter.give_back([key])
    assert redis_client.get(key) == "0"


def test_20_parallel_wrong_passwords_run_scrypt_at_most_the_limit(
        world: World, alice: User, redis_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    link = world.link(alice, world.ready_file(alice, index=False), password="the right one")
    token = link["url"].rsplit("/", 1)[1]
    runs = 0
    lock = threading.Lock()
    real_verify = links.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        nonlocal runs
        with lock:
            runs += 1
        return real_verify(password, stored)

    monkeypatch.setattr(links, "verify_password", counting_verify)
    start = threading.Barrier(20)
    ips = [random_ip() for _ in range(20)]  # different addresses: the per-link limit decides

    def guess(index: int) -> tuple[int, str | None]:
        """The domain call the public_link handler makes (threads: Lambda never runs two invocations
        in one process, and Powertools' metrics are per process, so the handler is not shared)."""
        start.wait()
        try:
            links.open_link(token, f"guess {index}", ips[index])
        except DomainError as exc:
            return exc.status, exc.code
        return 302, None

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(guess, range(20)))

    wrong = [r for r in results if r == (401, "wrong_password")]
    limited = [r for r in results if r == (429, "too_many_attempts")]
    assert len(wrong) + len(limited) == 20, results
    assert runs == len(wrong) <= links.PASSWORD_ATTEMPTS_PER_LINK
    assert len(limited) >= 20 - links.PASSWORD_ATTEMPTS_PER_LINK
    keys = [f"fs:linkpw:v1:link:{link['link_id']}", *(f"fs:linkpw:v1:ip:{ip}" for ip in ips)]
    ttls = [redis_client.ttl(key) for key in keys]
    assert all(0 < ttl <= links.ATTEMPT_WINDOW_S for ttl in ttls), ttls  # no counter without a TTL


def test_a_right_password_gives_its_attempt_back(world: World, alice: User, redis_client: Any) -> None:
    link = world.link(alice, world.ready_file(alice, index=False), password="right")
    token = link["url"].rsplit("/", 1)[1]
    for _ in range(links.PASSWORD_ATTEMPTS_PER_LINK + 3):  # more right answers than the wrong budget
        assert world.open(token, password="right", ip=random_ip()).status == 302
    assert redis_client.get(f"fs:linkpw:v1:link:{link['link_id']}") == "0"


def _public(module: Any, method: str, path: str, ip: str, body: Any = None) -> Any:
    ev = event(method, path, body=body)
    ev["requestContext"]["identity"]["sourceIp"] = ip
    return call(module.lambda_handler, ev)


def test_public_routes_are_limited_per_source_ip_and_route(auth_module: Any, override_settings: Any) -> None:
    override_settings(IP_RATE_LIMIT_PER_MINUTE="3")
    ip, other_ip = random_ip(), random_ip()
    body = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "Wrong-password-1"}
    statuses = [_public(auth_module, "POST", "/auth/login", ip, body).status for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = _public(auth_module, "POST", "/auth/login", ip, body)
    assert limited.error_code == "rate_limited" and 1 <= int(limited.headers["retry-after"]) <= 60
    assert _public(auth_module, "POST", "/auth/login", other_ip, body).status == 401  # another address
    refresh = _public(auth_module, "POST", "/auth/refresh", ip, {"refresh_token": "x"})
    assert refresh.status == 401  # another route from the same address has its own budget


def test_the_ip_limit_keys_on_the_route_so_new_public_routes_get_it(redis_client: Any,
                                                                    override_settings: Any) -> None:
    override_settings(IP_RATE_LIMIT_PER_MINUTE="2")
    ip = random_ip()
    assert ratelimit.check_ip("POST /auth/forgot", ip) == (1, 2)
    assert ratelimit.check_ip("POST /auth/forgot", ip) == (2, 2)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check_ip("POST /auth/forgot", ip)
    assert ratelimit.check_ip("POST /auth/confirm", ip) == (1, 2)


def test_the_ip_limit_can_be_turned_off(auth_module: Any, override_settings: Any) -> None:
    override_settings(IP_RATE_LIMIT_PER_MINUTE="0")
    ip = random_ip()
    body = {"email": "nobody@example.com", "password": "x"}
    assert {_public(auth_module, "POST", "/auth/login", ip, body).status for _ in range(5)} == {401}


def test_links_per_file_are_capped(world: World, alice: User, override_settings: Any) -> None:
    override_settings(MAX_LINKS_PER_FILE="2")
    file_id = world.ready_file(alice, index=False)
    first = world.link(alice, file_id)
    world.link(alice, file_id)
    refused = world.sharing(alice)("POST", f"/files/{file_id}/links", body={})
    assert (refused.status, refused.error_code) == (409, "too_many_links"), refused.body
    assert world.sharing(alice)("DELETE", f"/links/{first['link_id']}").status == 204
    world.link(alice, file_id)  # a revoked link frees its place


def test_shares_per_file_are_capped(world: World, alice: User, new_user: Any,
                                    override_settings: Any) -> None:
    override_settings(MAX_SHARES_PER_FILE="1")
    file_id = world.ready_file(alice, index=False)
    bob, carol = world.register(new_user()), world.register(new_user())
    world.share(alice, file_id, bob)
    refused = world.sharing(alice)("POST", f"/files/{file_id}/shares", body={"email": carol.email})
    assert (refused.status, refused.error_code) == (409, "too_many_shares"), refused.body
