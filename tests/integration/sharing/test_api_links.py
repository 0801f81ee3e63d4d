"""Public links (functions/sharing for the owner, functions/public_link for anyone) against the real
PostgreSQL, Redis and LocalStack S3: redirects, passwords and their attempt limits, expiry,
download limits under concurrency, revocation."""

from __future__ import annotations

import hashlib
import multiprocessing
import secrets
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fileshare.adapters import cache
from fileshare.config import settings
from tests.integration.conftest import User
from tests.support.apigw import Reply
from tests.support.sharing import TEXT, World, random_ip


def token_of(link: dict[str, Any]) -> str:
    prefix = settings().public_base_url.rstrip("/") + "/s/"
    assert link["url"].startswith(prefix), link["url"]
    return str(link["url"][len(prefix):])


def downloads(world: World, link_id: str) -> int:
    row = world.db.execute("SELECT downloads FROM links WHERE link_id = %s", (link_id,)).fetchone()
    return int(row["downloads"])


def assert_error(reply: Reply, status: int, code: str) -> None:
    assert (reply.status, reply.error_code) == (status, code), reply.body


def test_a_link_stores_only_hashes_and_is_listed_without_its_url(world: World, alice: User) -> None:
    file_id = world.ready_file(alice, index=False)
    link = world.link(alice, file_id, expires_in=3600, password="correct horse", max_downloads=3)

    assert set(link) == {"link_id", "file_id", "url", "expires_at", "max_downloads", "downloads",
                         "has_password", "created_at"}
    assert link["file_id"] == file_id and link["max_downloads"] == 3 and link["downloads"] == 0
    assert link["expires_at"] and link["has_password"] is True
    token = token_of(link)
    assert len(token) == 43
    row = world.db.execute("SELECT * FROM links WHERE link_id = %s", (link["link_id"],)).fetchone()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["password_hash"].startswith("scrypt$")
    stored = " ".join(str(v) for v in row.values())
    assert token not in stored and "correct horse" not in stored
    created = [e for e in world.outbox(file_id) if e["type"] == "link.created"]
    assert len(created) == 1 and created[0]["payload"]["data"]["link_id"] == link["link_id"]
    assert "correct horse" not in str(created[0]["payload"])

    listed = world.sharing(alice)("GET", f"/files/{file_id}/links")
    assert listed.status == 200
    assert listed.body["items"] == [{**link, "url": None}]


def test_opening_a_link_redirects_to_a_one_minute_presigned_get(world: World, alice: User, ip: str) -> None:
    file_id = world.ready_file(alice, "Report for everyone.txt", index=False)
    link = world.link(alice, file_id)

    reply = world.open(token_of(link), ip=ip)

    assert reply.status == 302, reply.body
    location = reply.headers["location"]
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["60"]
    assert reply.headers["cache-control"] == "no-store"
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == TEXT
    assert "Report for everyone.txt" in fetched.headers["Content-Disposition"]
    assert downloads(world, link["link_id"]) == 1
    downloaded = [e for e in world.outbox(file_id) if e["type"] == "link.downloaded"]
    assert len(downloaded) == 1
    assert downloaded[0]["payload"]["owner_id"] == alice.user_id
    assert downloaded[0]["payload"]["data"]["recipient_id"] == alice.user_id
    assert downloaded[0]["payload"]["data"]["downloads"] == 1


def test_a_password_link_needs_the_right_password(world: World, alice: User, ip: str) -> None:
    link = world.link(alice, world.ready_file(alice, index=False), password="s3cret pass")
    token = token_of(link)
    assert_error(world.open(token, ip=ip), 401, "password_required")
    assert_error(world.open(token, password="", ip=ip), 401, "password_required")
    assert_error(world.open(token, password="S3cret pass", ip=ip), 401, "wrong_password")
    assert downloads(world, link["link_id"]) == 0
    assert world.open(token, password="s3cret pass", ip=ip).status == 302
    assert downloads(world, link["link_id"]) == 1


def test_wrong_passwords_are_limited_per_link(world: World, alice: User, redis_client: Any) -> None:
    link = world.link(alice, world.ready_file(alice, index=False), password="right")
    token = token_of(link)
    for attempt in range(5):  # from five different addresses: the limit is the link's
        assert_error(world.open(token, password=f"wrong {attempt}", ip=random_ip()), 401, "wrong_password")

    # The sixth try is refused before the password is even checked, from any address
    limited = world.open(token, password="right", ip=random_ip())
    assert_error(limited, 429, "too_many_attempts")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert 0 < redis_client.ttl(f"fs:linkpw:v1:link:{link['link_id']}") <= 60
    assert downloads(world, link["link_id"]) == 0

    # When the window is over (here: its key expires now), the right password works again
    redis_client.delete(f"fs:linkpw:v1:link:{link['link_id']}")
    assert world.open(token, password="right", ip=random_ip()).status == 302


def test_wrong_passwords_are_limited_per_source_ip(world: World, alice: User, ip: str) -> None:
    file_id = world.ready_file(alice, index=False)
    tokens = [token_of(world.link(alice, file_id, password="right")) for _ in range(6)]
    for token in tokens[:5]:  # 4 wrong each: under the per-link limit, 20 from this address
        for _ in range(4):
            assert_error(world.open(token, password="wrong", ip=ip), 401, "wrong_password")
    assert_error(world.open(tokens[5], password="right", ip=ip), 429, "too_many_attempts")
    assert world.open(tokens[5], password="right", ip=random_ip()).status == 302


def test_without_redis_password_checks_fail_open(world: World, alice: User, ip: str,
                                                 override_settings: Any) -> None:
    link = world.link(alice, world.ready_file(alice, index=False), password="right")
    token = token_of(link)
    override_settings(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    cache.redis_client.cache_clear()
    try:
        for _ in range(7):
            assert_error(world.open(token, password="wrong", ip=ip), 401, "wrong_password")
        assert world.open(token, password="right", ip=ip).status == 302
    finally:
        cache.redis_client.cache_clear()


def test_an_expired_link_is_410(world: World, alice: User, ip: str) -> None:
    link = world.link(alice, world.ready_file(alice, index=False), expires_in=60)
    assert world.open(token_of(link), ip=ip).status == 302
    world.db.execute("UPDATE links SET expires_at = now() - interval '1 second' WHERE link_id = %s",
                     (link["link_id"],))
    assert_error(world.open(token_of(link), ip=ip), 410, "link_expired")


def test_a_used_up_link_is_410(world: World, alice: User, ip: str) -> None:
    link = world.link(alice, world.ready_file(alice, index=False), max_downloads=2)
    assert [world.open(token_of(link), ip=ip).status for _ in range(2)] == [302, 302]
    assert_error(world.open(token_of(link), ip=ip), 410, "link_used_up")
    assert downloads(world, link["link_id"]) == 2


def test_20_parallel_opens_of_a_5_download_link_give_exactly_5_redirects(world: World, alice: User,
                                                                          ip: str) -> None:
    import importlib.util

    from tests.integration.conftest import REPO_ROOT
    from tests.support.apigw import call, event

    file_id = world.ready_file(alice, index=False)
    link = world.link(alice, file_id, max_downloads=5)
    token = token_of(link)
    start = threading.Barrier(20)
    replies: list[Reply] = []
    lock = threading.Lock()

    def open_once(n: int) -> None:
        # Each thread its own handler module (its own resolver), as each Lambda environment has:
        # a Powertools resolver serves one request at a time and keeps per-request state on itself.
        spec = importlib.util.spec_from_file_location(f"fn_public_link_thread_{n}",
                                                      REPO_ROOT / "functions" / "public_link" / "handler.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ev = event("GET", f"/s/{token}", resource="/s/{token}", path_parameters={"token": token})
        ev["requestContext"]["identity"]["sourceIp"] = ip
        start.wait()
        reply = call(module.lambda_handler, ev)
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=open_once, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status for r in replies)
    assert statuses == [302] * 5 + [410] * 15, [(r.status, r.body) for r in replies]
    assert {r.error_code for r in replies if r.status == 410} == {"link_used_up"}
    assert downloads(world, link["link_id"]) == 5
    assert [e["type"] for e in world.outbox(file_id)].count("link.downloaded") == 5


def _open_in_own_process(token: str, ip: str, start: Any) -> tuple[int, str | None]:
    """One Lambda execution environment: its own process, handler and database connection."""
    from tests.integration.conftest import _load_handler
    from tests.support.apigw import call, event

    handler = _load_handler("public_link").lambda_handler
    ev = event("GET", f"/s/{token}", resource="/s/{token}", path_parameters={"token": token})
    ev["requestContext"]["identity"]["sourceIp"] = ip
    start.wait(timeout=120)
    reply = call(handler, ev)
    return reply.status, reply.error_code


def test_20_processes_opening_a_5_download_link_get_exactly_5_redirects(world: World, alice: User,
                                                                       ip: str) -> None:
    # Like 20 concurrent Lambda environments: 20 processes, 20 connections, released together
    file_id = world.ready_file(alice, index=False)
    link = world.link(alice, file_id, max_downloads=5)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(20) as pool:
        start = manager.Barrier(20)
        results = pool.starmap(_open_in_own_process, [(token_of(link), ip, start)] * 20, chunksize=1)
    assert sorted(results) == [(302, None)] * 5 + [(410, "link_used_up")] * 15, results
    assert downloads(world, link["link_id"]) == 5
    assert [e["type"] for e in world.outbox(file_id)].count("link.downloaded") == 5


def test_a_revoked_link_is_404_at_once(world: World, alice: User, ip: str) -> None:
    file_id = world.ready_file(alice, index=False)
    link, other = world.link(alice, file_id), world.link(alice, file_id)
    assert world.open(token_of(link), ip=ip).status == 302

    assert world.sharing(alice)("DELETE", f"/links/{link['link_id']}").status == 204

    assert_error(world.open(token_of(link), ip=ip), 404, "link_not_found")
    assert world.open(token_of(other), ip=ip).status == 302  # only that link
    assert_error(world.sharing(alice)("DELETE", f"/links/{link['link_id']}"), 404, "link_not_found")
    listed = world.sharing(alice)("GET", f"/files/{file_id}/links").body["items"]
    assert [item["link_id"] for item in listed] == [other["link_id"]]
    assert [e["type"] for e in world.outbox(file_id)].count("link.revoked") == 1


def test_unknown_or_malformed_tokens_are_404(world: World, ip: str) -> None:
    for token in (secrets.token_urlsafe(32), "short", "x" * 43 + "y", "a" * 42 + "!"):
        assert_error(world.open(token, ip=ip), 404, "link_not_found")


def test_a_link_to_a_file_that_is_not_ready_is_404(world: World, alice: User, ip: str) -> None:
    pending = world.link(alice, world.pending_file(alice))
    assert_error(world.open(token_of(pending), ip=ip), 404, "link_not_found")

    file_id = world.ready_file(alice, index=False)
    ready = world.link(alice, file_id)
    assert world.files(alice)("DELETE", f"/files/{file_id}").status == 204
    assert_error(world.open(token_of(ready), ip=ip), 404, "link_not_found")
    # and a trashed file gets no new link
    assert_error(world.sharing(alice)("POST", f"/files/{file_id}/links", body={}), 409, "file_trashed")


@pytest.mark.parametrize("body", [{"expires_in": 59}, {"expires_in": 10**9}, {"max_downloads": 0},
                                  {"password": ""}, {"password": "x" * 257}, {"url": "mine"}])
def test_bad_link_options_are_422(world: World, alice: User, body: dict[str, Any]) -> None:
    file_id = world.pending_file(alice)
    assert_error(world.sharing(alice)("POST", f"/files/{file_id}/links", body=body), 422, "validation_failed")
    assert world.sharing(alice)("GET", f"/files/{file_id}/links").body == {"items": []}


def test_a_rejected_file_gets_no_link(world: World, alice: User) -> None:
    file_id = world.pending_file(alice)
    world.db.execute("UPDATE files SET status = 'rejected' WHERE file_id = %s", (file_id,))
    assert_error(world.sharing(alice)("POST", f"/files/{file_id}/links", body={}), 409, "file_rejected")
