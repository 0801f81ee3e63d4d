"""Push over the local WebSocket API: the real pusher in worker processes behind the socket gateway,
real Cognito id tokens, the real @connections API, Redis and PostgreSQL.

Given users connected with their id tokens, when their files change (the actions write the outbox,
the pusher is handed those rows as Kafka records), then each reader's sockets get the change with
its cursor, nobody gets another user's changes, a revoked viewer gets nothing more, a socket that
dropped resumes from its cursor with exactly what it missed, and a gone connection is removed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from fileshare.push import connections
from tests.support.apigw import FakeContext
from tests.support.sharing import World

from .conftest import Client, Person, PushStack, kafka_event, newest_seq, outbox_after


def push(pusher: ModuleType, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The pusher's Kafka handler on these outbox rows; returns its partial-batch response."""
    return dict(pusher.lambda_handler(kafka_event(rows), FakeContext("pusher")))


def _rename(world: World, person: Person, file_id: str, name: str) -> None:
    reply = world.files(person.user)("PATCH", f"/files/{file_id}", body={"name": name})
    assert reply.status == 200, reply.body


def _changes(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == "change"]


def test_connect_needs_a_valid_id_token(push_stack: PushStack, person: Callable[[], Person]) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{push_stack.sockets.url}/", open_timeout=10)
    assert refused.value.response.status_code == 401
    token = person().token
    with pytest.raises(InvalidStatus) as tampered:
        connect(f"{push_stack.sockets.url}/?token={token[:-4]}AAAA", open_timeout=10)
    assert tampered.value.response.status_code == 401


def test_two_users_see_only_their_own_changes(world: World, person: Callable[[], Person], db: Any,
                                              pusher: ModuleType, open_socket: Callable[..., Client]) -> None:
    alice, bob = person(), person()
    alice_file, bob_file = world.ready_file(alice.user, "a.txt"), world.ready_file(bob.user, "b.txt")
    alice_socket, bob_socket = open_socket(alice.token), open_socket(bob.token)
    since = newest_seq(db)

    _rename(world, alice, alice_file, "alice-renamed.txt")
    _rename(world, bob, bob_file, "bob-renamed.txt")
    rows = outbox_after(db, since, alice_file, bob_file)
    assert push(pusher, rows) == {"batchItemFailures": []}

    got_alice = alice_socket.next()
    got_bob = bob_socket.next()
    assert (got_alice["file_id"], got_alice["name"], got_alice["event"]) == (alice_file, "alice-renamed.txt",
                                                                              "file.updated")
    assert (got_bob["file_id"], got_bob["name"]) == (bob_file, "bob-renamed.txt")
    assert got_alice["cursor"] == next(r["seq"] for r in rows if str(r["aggregate_id"]) == alice_file)
    assert got_alice["by"] == alice.user.email
    assert alice_socket.settled() == [] and bob_socket.settled() == []


def test_a_viewer_hears_until_the_share_is_revoked(world: World, person: Callable[[], Person], db: Any,
                                                   pusher: ModuleType,
                                                   open_socket: Callable[..., Client]) -> None:
    owner, viewer = person(), person()
    file_id = world.ready_file(owner.user, "shared.txt")
    viewer_socket = open_socket(viewer.token)
    since = newest_seq(db)
    share = world.share(owner.user, file_id, viewer.user)
    _rename(world, owner, file_id, "still-shared.txt")
    push(pusher, outbox_after(db, since, file_id))
    heard = [viewer_socket.next(), viewer_socket.next()]
    assert [(m["event"], m["status"]) for m in heard] == [("share.created", "shared"), ("file.updated", None)]
    assert heard[0]["notice"] == f"{owner.user.email} shared “shared.txt” with you."

    since = newest_seq(db)
    revoked = world.sharing(owner.user)("DELETE", f"/files/{file_id}/shares/{share['share_id']}")
    assert revoked.status == 204, revoked.body
    _rename(world, owner, file_id, "secret-now.txt")
    rows = outbox_after(db, since, file_id)
    assert [r["type"] for r in rows] == ["share.revoked", "file.updated"]
    push(pusher, rows)
    assert viewer_socket.settled() == []

    # and a resume from before the revocation replays nothing about the file either
    resumed = open_socket(viewer.token, resume=False)
    resumed.send({"action": "resume", "cursor": since})
    assert _changes(resumed.until("resumed")) == []


def test_a_dropped_socket_resumes_from_its_cursor(world: World, person: Callable[[], Person], db: Any,
                                                  pusher: ModuleType,
                                                  open_socket: Callable[..., Client]) -> None:
    alice = person()
    first, second = world.ready_file(alice.user, "one.txt"), world.ready_file(alice.user, "two.txt")
    socket = open_socket(alice.token)
    since = newest_seq(db)
    _rename(world, alice, first, "one-a.txt")
    push(pusher, outbox_after(db, since, first))
    seen = socket.next()
    assert seen["name"] == "one-a.txt"
    socket.close()  # the drop: what happens next is pushed to nobody

    since = newest_seq(db)
    _rename(world, alice, first, "one-b.txt")
    _rename(world, alice, second, "two-b.txt")
    missed = outbox_after(db, since, first, second)
    push(pusher, missed)

    again = open_socket(alice.token, resume=False)
    again.send({"action": "resume", "cursor": seen["cursor"]})
    replayed = again.until("resumed")
    changes = _changes(replayed)
    assert [(c["file_id"], c["name"]) for c in changes] == [(first, "one-b.txt"), (second, "two-b.txt")]
    assert [c["cursor"] for c in changes] == [r["seq"] for r in missed]  # nothing lost, nothing twice
    assert replayed[-1] == {"type": "resumed", "cursor": missed[-1]["seq"]}

    # a cursor the outbox no longer covers (pruned) is told to reload
    oldest = db.execute("SELECT min(seq) AS s FROM outbox").fetchone()["s"]
    if oldest > 2:
        again.send({"action": "resume", "cursor": oldest - 2})
        assert again.until("reload")[-1]["type"] == "reload"


def test_a_gone_connection_is_removed(world: World, person: Callable[[], Person], db: Any,
                                      pusher: ModuleType, push_stack: PushStack,
                                      open_socket: Callable[..., Client]) -> None:
    alice = person()
    file_id = world.ready_file(alice.user, "gone.txt")
    socket = open_socket(alice.token)
    (live,) = connections.of_users([alice.user.user_id])[alice.user.user_id]
    # a connection that closed without its $disconnect reaching us (API Gateway's is best effort)
    gone = f"gone{uuid.uuid4().hex[:12]}"
    connections.register(gone, alice.user.user_id)
    assert gone not in push_stack.sockets.connection_ids()

    since = newest_seq(db)
    _rename(world, alice, file_id, "after-gone.txt")
    assert push(pusher, outbox_after(db, since, file_id)) == {"batchItemFailures": []}
    assert socket.next()["name"] == "after-gone.txt"  # the live one still hears
    assert connections.of_users([alice.user.user_id]) == {alice.user.user_id: [live]}
    assert connections.user_of(gone) is None

    socket.close()  # and a closed socket's $disconnect (invoked after the close) removes its entry
    for _ in range(100):
        if connections.user_of(live) is None:
            break
        time.sleep(0.1)
    assert connections.user_of(live) is None


def test_bad_messages_get_a_machine_readable_error(person: Callable[[], Person],
                                                  open_socket: Callable[..., Client]) -> None:
    socket = open_socket(person().token)
    socket.socket.send("not json")
    assert socket.next()["error"]["code"] == "invalid_message"
    socket.send({"action": "resume", "cursor": "yesterday"})
    assert socket.next()["error"]["code"] == "invalid_cursor"
    socket.send({"action": "dance"})
    assert socket.next()["error"]["code"] == "unknown_action"
    socket.send({"action": "ping"})
    assert socket.next() == {"type": "pong"}
