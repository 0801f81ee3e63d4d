"""The notifications API (functions/notifications) against the real PostgreSQL.

Inbox rows are written by the notifier's own domain code (``notifications.deliver``) from real
events, so the API reads exactly what the consumer writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from fileshare.event_types import Event, EventType
from tests.integration.conftest import Api, User, _load_handler


@pytest.fixture(scope="module")
def notifications_module() -> ModuleType:
    return _load_handler("notifications")


@pytest.fixture
def inbox_of(db: Any, override_settings: Any) -> Callable[[User, int], list[uuid.UUID]]:
    """Give ``user`` an account and ``count`` notifications (oldest first); their event ids (ready
    uploads, each its own notice: bursts off, see tests/integration/events/test_notice_bursts.py)."""
    from fileshare.notifications import notices as notifications

    override_settings(UPLOAD_NOTICE_WINDOW_SECONDS="0")

    def make(user: User, count: int) -> list[uuid.UUID]:
        db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s)"
                   " ON CONFLICT DO NOTHING", (user.user_id, user.email, 10**9))
        ids = []
        for i in range(count):
            ev = Event(type=EventType.FILE_READY, file_id=uuid.uuid4(), owner_id=user.user_id,
                       data={"name": f"file-{i}.txt"})
            notifications.deliver(ev)
            ids.append(ev.id)
        return ids
    return make


def api(module: ModuleType, user: User | None) -> Api:
    return Api(module, user.claims if user else None)


def test_list_shows_only_my_notifications_newest_first(
        notifications_module: ModuleType, inbox_of: Callable[[User, int], list[uuid.UUID]],
        alice: User, bob: User) -> None:
    inbox_of(alice, 3)
    inbox_of(bob, 2)

    reply = api(notifications_module, alice)("GET", "/notifications")

    assert reply.status == 200, reply.body
    items = reply.body["items"]
    assert [i["message"] for i in items] == [f"Your upload “file-{i}.txt” is ready." for i in (2, 1, 0)]
    assert set(items[0]) == {"notification_id", "type", "file_id", "message", "created_at", "read"}
    assert all(i["type"] == "file.ready" and i["read"] is False for i in items)
    assert reply.body["next_cursor"] is None


def test_pages_follow_the_cursor(notifications_module: ModuleType,
                                 inbox_of: Callable[[User, int], list[uuid.UUID]], alice: User) -> None:
    inbox_of(alice, 5)
    client = api(notifications_module, alice)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = client("GET", "/notifications", query=query)
        assert reply.status == 200, reply.body
        seen += [i["notification_id"] for i in reply.body["items"]]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


def test_mark_read_and_the_unread_filter(notifications_module: ModuleType,
                                         inbox_of: Callable[[User, int], list[uuid.UUID]],
                                         alice: User) -> None:
    inbox_of(alice, 3)
    client = api(notifications_module, alice)
    first = client("GET", "/notifications").body["items"][0]

    # When alice reads one (twice: idempotent)
    reply = client("POST", f"/notifications/{first['notification_id']}/read")
    assert reply.status == 200, reply.body
    assert reply.body == {**first, "read": True}
    assert client("POST", f"/notifications/{first['notification_id']}/read").body["read"] is True

    # Then unread=true leaves it out, unread=false (and no filter) lists everything
    unread = client("GET", "/notifications", query={"unread": "true"}).body["items"]
    assert len(unread) == 2 and first["notification_id"] not in {i["notification_id"] for i in unread}
    assert len(client("GET", "/notifications", query={"unread": "false"}).body["items"]) == 3
    everything = client("GET", "/notifications").body["items"]
    assert [i["read"] for i in everything] == [True, False, False]


def test_another_users_notification_is_404(notifications_module: ModuleType,
                                           inbox_of: Callable[[User, int], list[uuid.UUID]],
                                           alice: User, bob: User, db: Any) -> None:
    inbox_of(bob, 1)
    inbox_of(alice, 0)
    bobs = api(notifications_module, bob)("GET", "/notifications").body["items"][0]

    reply = api(notifications_module, alice)("POST", f"/notifications/{bobs['notification_id']}/read")

    assert reply.status == 404 and reply.error_code == "notification_not_found"
    assert db.execute("SELECT read_at FROM notifications WHERE notification_id = %s",
                      (bobs["notification_id"],)).fetchone()["read_at"] is None
    unknown = api(notifications_module, alice)("POST", f"/notifications/{uuid.uuid4()}/read")
    assert unknown.status == 404 and unknown.error_code == "notification_not_found"


@pytest.mark.parametrize(("method", "path", "query"), [
    ("GET", "/notifications", {"limit": "0"}),
    ("GET", "/notifications", {"limit": "101"}),
    ("GET", "/notifications", {"unread": "maybe"}),
    ("GET", "/notifications", {"cursor": "not-a-cursor"}),
    ("POST", "/notifications/not-a-uuid/read", None),
])
def test_bad_input_is_422(notifications_module: ModuleType, alice: User, method: str, path: str,
                          query: dict[str, str] | None) -> None:
    reply = api(notifications_module, alice)(method, path, query=query)
    assert reply.status == 422, reply.body
    assert reply.error_code in {"validation_failed", "invalid_cursor"}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/notifications"), ("POST", f"/notifications/{uuid.uuid4()}/read"),
])
def test_without_claims_is_401(notifications_module: ModuleType, method: str, path: str) -> None:
    reply = api(notifications_module, None)(method, path)
    assert reply.status == 401 and reply.error_code == "unauthorized"
