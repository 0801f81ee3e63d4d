"""The notifier (functions/notifier) against the real PostgreSQL, LocalStack SES and Kafka.

Events are real ``Event`` objects (or the outbox rows the domain wrote), delivered as MSK-shaped
Lambda events built by the local runtime's own ``msk_event``; one test goes end to end through
Kafka and the runtime's poller. Sent mail is read back from LocalStack's SES store
(``GET /_aws/ses``), filtered by the recipient, whose address is unique to each test.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from fileshare.event_types import Event, EventType
from tests.integration.conftest import Api, User
from tests.integration.events.conftest import LIMIT_S, TOPIC, inbox, invoke, mail_to, ready_event


@pytest.fixture(autouse=True)
def one_notice_per_upload(override_settings: Callable[..., None]) -> None:
    """These tests pin the per-event path (a notice and an email for each event); a burst of ready
    uploads coalescing into one is tests/integration/events/test_notice_bursts.py."""
    override_settings(UPLOAD_NOTICE_WINDOW_SECONDS="0")


# ---- delivery -------------------------------------------------------------------------------------

def test_file_ready_gives_the_owner_one_inbox_row_and_one_email(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any) -> None:
    # Given alice's upload became ready
    owner = account(alice)
    ev = ready_event(owner, "Quarterly.pdf")

    # When the notifier gets the event
    assert invoke(notifier, ev.to_json()) == []

    # Then her inbox has it, its email was recorded as sent, and SES holds exactly that email
    [row] = inbox(db, owner)
    assert (row["type"], row["file_id"], row["event_id"]) == ("file.ready", ev.file_id, ev.id)
    assert "“Quarterly.pdf” is ready" in row["message"] and row["read_at"] is None
    assert row["email_sent_at"] is not None
    [mail] = mail_to(owner.email)
    assert mail["Source"] == os.environ.get("EMAIL_SENDER", "no-reply@fileshare.local")
    assert "“Quarterly.pdf” is ready" in mail["Subject"]
    assert row["message"] in mail["Body"]["text_part"]


def test_the_same_event_twice_gives_one_row_and_one_email(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any) -> None:
    owner = account(alice)
    ev = ready_event(owner)

    # When one event arrives twice in a batch and again in a later batch (at-least-once delivery)
    assert invoke(notifier, ev.to_json(), ev.to_json()) == []
    assert invoke(notifier, ev.to_json()) == []

    # Then one inbox row and one email
    assert len(inbox(db, owner)) == 1
    assert len(mail_to(owner.email)) == 1


def test_two_deliveries_of_one_event_at_once_send_one_email(
        account: Callable[[User], User], alice: User, db: Any) -> None:
    """A consumer-group rebalance can hand one record to two consumers at the same time."""
    from concurrent.futures import ThreadPoolExecutor

    from fileshare.notifications import notices as notifications

    owner = account(alice)
    ev = ready_event(owner)
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(o.value for o in pool.map(notifications.deliver, [ev] * 4))

    assert outcomes == ["delivered", "duplicate", "duplicate", "duplicate"]
    assert len(inbox(db, owner)) == 1
    assert len(mail_to(owner.email)) == 1


def test_a_failed_email_is_sent_on_the_retry_and_only_then(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any,
        override_settings: Callable[..., None]) -> None:
    # Given SES refuses the email (an unverified sender: a real SES error, not a mock)
    owner = account(alice)
    ev = ready_event(owner)
    verified = os.environ.get("EMAIL_SENDER", "no-reply@fileshare.local")
    override_settings(EMAIL_SENDER="nobody@unverified.example")

    # When the notifier gets the event, the record fails, but the inbox row is already there
    [failure] = invoke(notifier, ev.to_json())
    assert failure["itemIdentifier"] == {"partition": f"{TOPIC}-0", "offset": 0}
    [row] = inbox(db, owner)
    assert row["email_sent_at"] is None and mail_to(owner.email) == []

    # When SES accepts mail again and Kafka redelivers the record
    override_settings(EMAIL_SENDER=verified)
    assert invoke(notifier, ev.to_json()) == []

    # Then the same row, now with its one email
    [again] = inbox(db, owner)
    assert again["notification_id"] == row["notification_id"] and again["email_sent_at"] is not None
    assert len(mail_to(owner.email)) == 1


@pytest.mark.parametrize(("kind", "data", "words"), [
    (EventType.FILE_REJECTED, {"name": "x.png", "reason": "content_type_mismatch"}, "was rejected"),
    (EventType.LINK_DOWNLOADED, {"name": "x.png", "downloads": 1, "link_id": str(uuid.uuid4())},
     "was downloaded (1 download so far)"),
    (EventType.FILE_DELETED, {"name": "x.png", "reason": "purged"}, "was permanently deleted"),
    (EventType.FILE_EXPIRED, {"name": "x.png", "reason": "expired"}, "reached its expiry date"),
])
def test_owner_notifications_of_each_kind(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any,
        kind: EventType, data: dict[str, Any], words: str) -> None:
    owner = account(alice)
    ev = Event(type=kind, file_id=uuid.uuid4(), owner_id=owner.user_id, data=data)
    assert invoke(notifier, ev.to_json()) == []
    [row] = inbox(db, owner)
    assert row["type"] == kind.value and words in row["message"]
    assert [words in m["Body"]["text_part"] for m in mail_to(owner.email)] == [True]


def test_a_share_made_through_the_sharing_domain_notifies_the_grantee(
        notifier: ModuleType, files_api: Api, alice: User, bob: User, db: Any) -> None:
    # Given alice has a file (the API creates her row) and bob has an account
    from fileshare import sharing
    from fileshare.models import ShareIn

    created = files_api("POST", "/files", body={"name": "plan.md", "size": 5, "content_type": "text/plain"})
    assert created.status == 201, created.body
    file_id = uuid.UUID(created.body["file_id"])
    db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s)",
               (bob.user_id, bob.email, 10**9))

    # When alice shares it with bob, and the notifier gets the event sharing wrote to the outbox
    sharing.share_file(alice.user_id, file_id, ShareIn(email=bob.email))
    payload = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s AND type = 'share.created'",
                         (file_id,)).fetchone()["payload"]
    assert invoke(notifier, Event.model_validate(payload).to_json()) == []

    # Then bob (not alice) is told who shared what, in the inbox and by email
    [row] = inbox(db, bob)
    assert row["type"] == "share.created" and row["file_id"] == file_id
    assert row["message"] == f"{alice.email} shared “plan.md” with you."
    assert len(mail_to(bob.email)) == 1
    assert [r for r in inbox(db, alice) if r["type"] == "share.created"] == []


def test_events_that_are_not_notifications_are_acknowledged(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any) -> None:
    owner = account(alice)
    link_created = Event(type=EventType.LINK_CREATED, file_id=uuid.uuid4(), owner_id=owner.user_id,
                         data={"name": "x"})
    future = b'{"type": "calendar.created", "version": 3, "calendar_id": "c1"}'
    assert invoke(notifier, link_created.to_json(), future) == []
    assert inbox(db, owner) == [] and mail_to(owner.email) == []


def test_a_bad_record_fails_alone(notifier: ModuleType, account: Callable[[User], User], alice: User,
                                  db: Any) -> None:
    # Given a batch with garbage between two good events
    owner = account(alice)
    first, last = ready_event(owner, "one.txt"), ready_event(owner, "two.txt")

    # Then only the garbage is reported (partition and offset), and both good events are delivered
    failures = invoke(notifier, first.to_json(), b"\x00 not an event", last.to_json())
    assert failures == [{"itemIdentifier": {"partition": f"{TOPIC}-0", "offset": 1}}]
    assert sorted(r["event_id"] for r in inbox(db, owner)) == sorted([first.id, last.id])
    assert len(mail_to(owner.email)) == 2


# ---- end to end through Kafka ---------------------------------------------------------------------

def test_an_event_published_through_the_outbox_reaches_the_inbox_via_kafka(
        account: Callable[[User], User], alice: User, db: Any, tmp_path: Any) -> None:
    """outbox -> Kafka (the namespace's events topic) -> the runtime's MSK poller -> the notifier in a worker
    process -> PostgreSQL and SES, with a consumer group of its own."""
    from dataclasses import replace

    from fileshare import events
    from fileshare.db.connection import transaction
    from infra.declaration import KafkaTrigger, by_name, namespace_of
    from lambdarun.runtime import Runtime
    from lambdarun.sources.kafka import KafkaPoller
    from tests.support.runtime import load_test_env

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        pytest.fail("Kafka is not in the environment (KAFKA_BOOTSTRAP_SERVERS): run `make dev`")
    owner = account(alice)
    function = by_name("notifier")
    [declared] = function.triggers
    assert isinstance(declared, KafkaTrigger) and declared.topic == TOPIC
    # The test namespace's topic (as EventSources maps it), with a group of its own.
    trigger = replace(declared, topic=namespace_of(os.environ).physical(declared.topic),
                      consumer_group=f"test-notifier-{uuid.uuid4().hex[:8]}")
    runtime = Runtime([function], base_env={**load_test_env(), "UPLOAD_NOTICE_WINDOW_SECONDS": "0"},
                      log_dir=tmp_path / "logs")
    poller = KafkaPoller(runtime.invoke, function.name, trigger, bootstrap=bootstrap, aws_region="us-east-1")
    try:
        poller.connect()
        poller.join(limit_s=LIMIT_S)  # LATEST: join and pin the start before publishing
        deadline = time.monotonic() + LIMIT_S
        ev = ready_event(owner, "via-kafka.txt")
        with transaction() as conn:
            events.record(conn, ev)
        assert events.publish_now([ev.file_id]) == 1
        def emailed() -> bool:  # the row commits first, then the email goes out
            rows = inbox(db, owner)
            return bool(rows) and rows[0]["email_sent_at"] is not None

        while not emailed() and time.monotonic() < deadline:
            poller.poll_once(timeout_ms=500)
    finally:
        poller.close()
        runtime.close()
    [row] = inbox(db, owner)
    assert row["event_id"] == ev.id and "“via-kafka.txt” is ready" in row["message"]
    assert len(mail_to(owner.email)) == 1
