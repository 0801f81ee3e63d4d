"""Sharing with users (functions/sharing) against the real PostgreSQL, Redis, OpenSearch and S3.

The access matrix of the sharing routes and of the file routes a viewer uses: owner / viewer /
other user / anonymous, and search never returning a file the caller may not see.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests

from fileshare.adapters.cache import file_key
from tests.integration.conftest import User
from tests.support.sharing import TEXT, World


def search_ids(world: World, user: User, q: str) -> list[str]:
    reply = world.search(user)("GET", "/search", query={"q": q})
    assert reply.status == 200, reply.body
    return [item["file_id"] for item in reply.body["items"]]


def shared_ids(world: World, user: User) -> list[str]:
    reply = world.sharing(user)("GET", "/shared-with-me")
    assert reply.status == 200, reply.body
    return [item["file_id"] for item in reply.body["items"]]


def event_types(world: World, file_id: str) -> list[str]:
    return [e["type"] for e in world.outbox(file_id)]


def test_a_viewer_reads_downloads_and_finds_a_shared_file(world: World, alice: User, bob: User) -> None:
    # Given alice's ready, indexed file and bob with an account
    file_id = world.ready_file(alice, "Budget zebra 2026.txt")
    world.register(bob)
    viewer = world.files(bob)
    # Before sharing, bob cannot see it anywhere
    assert viewer("GET", f"/files/{file_id}").status == 404
    assert viewer("GET", f"/files/{file_id}/download").status == 404
    assert search_ids(world, bob, "zebra") == [] and file_id not in shared_ids(world, bob)

    # When alice shares it with bob (email in another case)
    reply = world.sharing(alice)("POST", f"/files/{file_id}/shares",
                                 body={"email": bob.email.upper(), "permission": "viewer"})

    # Then the share is returned and announced in the outbox with bob as recipient
    assert reply.status == 201, reply.body
    share = reply.body
    assert set(share) == {"share_id", "file_id", "email", "permission", "created_at"}
    assert share["file_id"] == file_id and share["email"] == bob.email and share["permission"] == "viewer"
    created = [e for e in world.outbox(file_id) if e["type"] == "share.created"]
    assert len(created) == 1 and created[0]["payload"]["data"]["recipient_id"] == bob.user_id
    assert created[0]["payload"]["data"]["share_id"] == share["share_id"]

    # And bob reads the metadata, downloads the bytes, finds it in search and in his shared list
    meta = viewer("GET", f"/files/{file_id}")
    assert meta.status == 200 and meta.body["owner_id"] == alice.user_id
    download = viewer("GET", f"/files/{file_id}/download")
    assert download.status == 200, download.body
    assert requests.get(download.body["url"], timeout=10).content == TEXT
    assert world.readers(file_id) == [alice.user_id, bob.user_id]
    assert search_ids(world, bob, "zebra") == [file_id]
    assert search_ids(world, alice, "zebra") == [file_id]
    assert shared_ids(world, bob) == [file_id]
    assert shared_ids(world, alice) == []

    # And alice lists the file's shares
    listed = world.sharing(alice)("GET", f"/files/{file_id}/shares")
    assert listed.status == 200 and listed.body == {"items": [share]}


def test_revoking_removes_search_hit_cache_and_shared_list_at_once(world: World, alice: User, bob: User,
                                                                  redis_client: Any) -> None:
    file_id = world.ready_file(alice, "Revocable quokka.txt")
    world.register(bob)
    share = world.share(alice, file_id, bob)
    viewer = world.files(bob)
    assert viewer("GET", f"/files/{file_id}").status == 200  # fills the cache
    assert redis_client.exists(file_key(file_id))
    assert search_ids(world, bob, "quokka") == [file_id]

    # When alice revokes the share
    reply = world.sharing(alice)("DELETE", f"/files/{file_id}/shares/{share['share_id']}")

    # Then, in that request: the ACL in OpenSearch, the cache entry and the share are gone
    assert reply.status == 204, reply.body
    assert world.readers(file_id) == [alice.user_id]
    assert not redis_client.exists(file_key(file_id))
    assert viewer("GET", f"/files/{file_id}").status == 404
    assert viewer("GET", f"/files/{file_id}/download").status == 404
    assert search_ids(world, bob, "quokka") == []
    assert shared_ids(world, bob) == []
    assert world.sharing(alice)("GET", f"/files/{file_id}/shares").body == {"items": []}
    revoked = [e for e in world.outbox(file_id) if e["type"] == "share.revoked"]
    assert len(revoked) == 1 and revoked[0]["payload"]["data"]["recipient_id"] == bob.user_id

    # And revoking again is a 404, with no second event
    again = world.sharing(alice)("DELETE", f"/files/{file_id}/shares/{share['share_id']}")
    assert again.status == 404 and again.error_code == "share_not_found"
    assert event_types(world, file_id).count("share.revoked") == 1


def test_postgresql_decides_even_when_search_and_cache_are_stale(world: World, alice: User, bob: User,
                                                                  db: Any, redis_client: Any) -> None:
    # Given a share bob has used (the file's record is cached) whose row then disappears behind
    # the API's back: OpenSearch still lists bob as a reader and Redis still holds the record
    file_id = world.ready_file(alice, "Stale acl ocelot.txt")
    world.register(bob)
    world.share(alice, file_id, bob)
    assert world.files(bob)("GET", f"/files/{file_id}").status == 200
    db.execute("DELETE FROM shares WHERE file_id = %s", (file_id,))
    assert bob.user_id in world.readers(file_id) and redis_client.exists(file_key(file_id))

    # Then bob sees nothing: reads and search hits are re-checked against PostgreSQL
    assert world.files(bob)("GET", f"/files/{file_id}").status == 404
    assert world.files(bob)("GET", f"/files/{file_id}/download").status == 404
    assert search_ids(world, bob, "ocelot") == []
    assert search_ids(world, alice, "ocelot") == [file_id]


def test_share_rules_give_clear_errors_and_write_nothing(world: World, alice: User, bob: User) -> None:
    file_id = world.ready_file(alice, index=False)
    world.register(bob)
    api = world.sharing(alice)
    cases = [
        ({"email": "nobody-here@example.com"}, 422, "unknown_recipient"),
        ({"email": alice.email.upper()}, 422, "cannot_share_with_self"),
        ({"email": bob.email, "permission": "editor"}, 422, "validation_failed"),
        ({"email": "not an email"}, 422, "validation_failed"),
        ({"email": bob.email, "owner_id": "x"}, 422, "validation_failed"),
        ({}, 422, "validation_failed"),
    ]
    for body, status, code in cases:
        reply = api("POST", f"/files/{file_id}/shares", body=body)
        assert (reply.status, reply.error_code) == (status, code), (body, reply.body)
    assert api("GET", f"/files/{file_id}/shares").body == {"items": []}

    # permission defaults to viewer; sharing twice with the same user is a 409, not a second share
    first = api("POST", f"/files/{file_id}/shares", body={"email": bob.email})
    assert first.status == 201 and first.body["permission"] == "viewer"
    twice = api("POST", f"/files/{file_id}/shares", body={"email": bob.email})
    assert twice.status == 409 and twice.error_code == "already_shared"
    assert len(api("GET", f"/files/{file_id}/shares").body["items"]) == 1
    assert event_types(world, file_id).count("share.created") == 1

    # a trashed file cannot be shared (restore it first)
    assert world.files(alice)("DELETE", f"/files/{file_id}").status == 204
    carol_like = world.register(User(str(uuid.uuid4()), f"c-{uuid.uuid4().hex[:8]}@example.com"))
    trashed = api("POST", f"/files/{file_id}/shares", body={"email": carol_like.email})
    assert trashed.status == 409 and trashed.error_code == "file_trashed"


def test_a_viewer_gets_403_owner_only_on_every_owner_action(world: World, alice: User, bob: User,
                                                           db: Any) -> None:
    file_id = world.ready_file(alice, "Owner only.txt", index=False)
    world.register(bob)
    share = world.share(alice, file_id, bob)
    link = world.link(alice, file_id)
    files, sharing = world.files(bob), world.sharing(bob)
    attempts = [
        (files, "PATCH", f"/files/{file_id}", {"name": "mine now.txt"}),
        (files, "DELETE", f"/files/{file_id}", None),
        (files, "POST", f"/files/{file_id}/complete", {"parts": [{"part_number": 1, "etag": "x"}]}),
        (sharing, "POST", f"/files/{file_id}/shares", {"email": alice.email}),
        (sharing, "GET", f"/files/{file_id}/shares", None),
        (sharing, "DELETE", f"/files/{file_id}/shares/{share['share_id']}", None),
        (sharing, "POST", f"/files/{file_id}/links", {}),
        (sharing, "GET", f"/files/{file_id}/links", None),
        (sharing, "DELETE", f"/links/{link['link_id']}", None),
    ]
    for api, method, path, body in attempts:
        reply = api(method, path, body=body)
        assert (reply.status, reply.error_code) == (403, "owner_only"), (method, path, reply.body)
    row = db.execute("SELECT name, status FROM files WHERE file_id = %s", (file_id,)).fetchone()
    assert row == {"name": "Owner only.txt", "status": "ready"}
    assert db.execute("SELECT count(*) AS n FROM shares WHERE file_id = %s", (file_id,)).fetchone()["n"] == 1
    assert db.execute("SELECT revoked_at FROM links WHERE link_id = %s",
                      (link["link_id"],)).fetchone()["revoked_at"] is None


def test_another_user_gets_404_on_every_route(world: World, alice: User, bob: User, carol: User) -> None:
    file_id = world.ready_file(alice, "Private pangolin.txt")
    world.register(bob)
    world.register(carol)
    share = world.share(alice, file_id, bob)
    link = world.link(alice, file_id)
    files, sharing = world.files(carol), world.sharing(carol)
    attempts = [
        (files, "GET", f"/files/{file_id}", None, "file_not_found"),
        (files, "GET", f"/files/{file_id}/download", None, "file_not_found"),
        (files, "PATCH", f"/files/{file_id}", {"name": "x.txt"}, "file_not_found"),
        (files, "DELETE", f"/files/{file_id}", None, "file_not_found"),
        (sharing, "POST", f"/files/{file_id}/shares", {"email": carol.email}, "file_not_found"),
        (sharing, "GET", f"/files/{file_id}/shares", None, "file_not_found"),
        (sharing, "DELETE", f"/files/{file_id}/shares/{share['share_id']}", None, "file_not_found"),
        (sharing, "POST", f"/files/{file_id}/links", {}, "file_not_found"),
        (sharing, "GET", f"/files/{file_id}/links", None, "file_not_found"),
        (sharing, "DELETE", f"/links/{link['link_id']}", None, "link_not_found"),
    ]
    for api, method, path, body, code in attempts:
        reply = api(method, path, body=body)
        assert (reply.status, reply.error_code) == (404, code), (method, path, reply.body)
    assert search_ids(world, carol, "pangolin") == [] and shared_ids(world, carol) == []

    # the owner gets 404 for things that do not exist
    owner = world.sharing(alice)
    assert owner("GET", f"/files/{uuid.uuid4()}/shares").error_code == "file_not_found"
    missing_share = owner("DELETE", f"/files/{file_id}/shares/{uuid.uuid4()}")
    assert (missing_share.status, missing_share.error_code) == (404, "share_not_found")
    assert owner("DELETE", f"/links/{uuid.uuid4()}").error_code == "link_not_found"
    # a share id of another file is not found under this file
    other = world.ready_file(alice, index=False)
    assert owner("DELETE", f"/files/{other}/shares/{share['share_id']}").error_code == "share_not_found"


def test_anonymous_callers_get_401_on_every_protected_sharing_route(world: World) -> None:
    file_id, some_id = uuid.uuid4(), uuid.uuid4()
    anonymous = world.sharing(None)
    for method, path in (("POST", f"/files/{file_id}/shares"), ("GET", f"/files/{file_id}/shares"),
                         ("DELETE", f"/files/{file_id}/shares/{some_id}"), ("GET", "/shared-with-me"),
                         ("POST", f"/files/{file_id}/links"), ("GET", f"/files/{file_id}/links"),
                         ("DELETE", f"/links/{some_id}")):
        body = {"email": "x@example.com"} if path.endswith("shares") and method == "POST" else (
            {} if method == "POST" else None)
        reply = anonymous(method, path, body=body)
        assert (reply.status, reply.error_code) == (401, "unauthorized"), (method, path, reply.body)


def test_shared_with_me_pages_newest_share_first_and_hides_trashed(world: World, alice: User,
                                                                    bob: User) -> None:
    world.register(bob)
    made = [world.ready_file(alice, f"Paged wombat {i}.txt") for i in range(3)]
    for file_id in made:
        world.share(alice, file_id, bob)
    api = world.sharing(bob)
    first = api("GET", "/shared-with-me", query={"limit": "2"})
    assert first.status == 200 and first.body["next_cursor"]
    second = api("GET", "/shared-with-me", query={"limit": "2", "cursor": first.body["next_cursor"]})
    assert second.status == 200 and second.body["next_cursor"] is None
    seen = [i["file_id"] for i in first.body["items"] + second.body["items"]]
    assert seen == list(reversed(made))
    assert api("GET", "/shared-with-me", query={"cursor": "bm9wZQ"}).error_code == "invalid_cursor"

    # When alice trashes one, it leaves bob's list, his reads and his search at once
    assert world.files(alice)("DELETE", f"/files/{made[1]}").status == 204
    assert shared_ids(world, bob) == [made[2], made[0]]
    assert world.files(bob)("GET", f"/files/{made[1]}").status == 404
    assert made[1] not in search_ids(world, bob, "wombat")
    assert set(search_ids(world, bob, "wombat")) == {made[0], made[2]}


def test_a_file_shared_before_indexing_is_indexed_with_its_viewers(world: World, alice: User,
                                                                   bob: User) -> None:
    # Given a share of a file that has no search document yet (still pending)
    from fileshare.db.shares import readers_for

    file_id = world.pending_file(alice, "Early share yak.txt")
    world.register(bob)
    world.share(alice, file_id, bob)
    assert readers_for(world.db, uuid.UUID(file_id)) == [alice.user_id, bob.user_id]

    # When it becomes ready and is indexed with readers_for (as the processor does)
    world.db.execute("UPDATE files SET status = 'ready' WHERE file_id = %s", (file_id,))
    world.index(file_id)

    # Then bob finds it
    assert world.readers(file_id) == [alice.user_id, bob.user_id]
    assert search_ids(world, bob, "yak") == [file_id]
