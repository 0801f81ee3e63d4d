"""A burst of ready uploads is one notice and one email (``fileshare.notifications.bursts``), against the
real PostgreSQL and LocalStack SES, through the notifier's handler with MSK-shaped batches; the
activity feed (its own consumer) keeps an entry per upload.

"Time passes" by moving a burst's timestamps back in PostgreSQL: the window is judged by the
database's clock, and nothing here sleeps or measures time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from fileshare.activity import feed as activity
from fileshare.event_types import Event
from fileshare.notifications import bursts as notice_bursts
from fileshare.notifications import digests as burst_digests
from tests.integration.conftest import User
from tests.integration.events.conftest import inbox, invoke, mail_to, ready_event


def go_quiet(db: Any, user: User) -> None:
    """The user's bursts as if their last upload were an hour ago (the window is over)."""
    db.execute("UPDATE notice_bursts SET last_at = last_at - interval '1 hour',"
               " opened_at = opened_at - interval '1 hour' WHERE user_id = %s", (user.user_id,))


def bursts(db: Any, user: User) -> list[dict[str, Any]]:
    return db.execute("SELECT count, closed_at, emailed_at FROM notice_bursts WHERE user_id = %s"
                      " ORDER BY opened_at", (user.user_id,)).fetchall()


def test_a_burst_of_ready_uploads_is_one_notice_one_email_and_a_feed_entry_each(
        notifier: ModuleType, account: Callable[[User], User], alice: User, bob: User, db: Any) -> None:
    # Given alice has 40 uploads becoming ready together (and bob one of his own meanwhile)
    owner, other = account(alice), account(bob)
    events = [ready_event(owner, f"photo-{i:02}.jpg") for i in range(40)]
    theirs = ready_event(other, "bob.txt")

    # When the notifier gets them in batches, some delivered twice (at least once)
    assert invoke(notifier, *[e.to_json() for e in events[:25]], theirs.to_json()) == []
    assert invoke(notifier, *[e.to_json() for e in events[20:]]) == []

    # Then alice has one unread notice that counts them all, and no email yet (the burst is open)
    [row] = inbox(db, owner)
    assert row["read_at"] is None and row["type"] == "file.ready" and row["event_id"] == events[0].id
    assert row["message"] == "40 files are ready: “photo-00.jpg”, “photo-01.jpg” and 38 more."
    assert mail_to(owner.email) == []
    [bobs] = inbox(db, other)
    assert bobs["message"] == "Your upload “bob.txt” is ready."  # his own burst of one

    # and the feed keeps every upload
    for event in events:
        activity.record(event)
    recorded = db.execute("SELECT count(*) AS n FROM activity WHERE owner_id = %s AND action = 'uploaded'",
                          (owner.user_id,)).fetchone()["n"]
    assert recorded == 40

    # When the burst goes quiet and the sweeper runs (twice)
    go_quiet(db, owner)
    go_quiet(db, other)
    sent = burst_digests.flush()
    assert burst_digests.flush() == 0

    # Then one email each, alice's with the count
    assert sent >= 2
    [mail] = mail_to(owner.email)
    assert mail["Subject"] == "Fileshare: 40 files are ready"
    assert "40 files are ready: “photo-00.jpg”" in mail["Body"]["text_part"]
    assert len(mail_to(other.email)) == 1
    assert [(b["count"], b["closed_at"] is not None, b["emailed_at"] is not None)
            for b in bursts(db, owner)] == [(40, True, True)]

    # When one more upload is ready after the window: a new notice of its own
    late = ready_event(owner, "late.txt")
    assert invoke(notifier, late.to_json()) == []
    assert [r["message"] for r in inbox(db, owner)][-1] == "Your upload “late.txt” is ready."
    assert len(inbox(db, owner)) == 2


def test_reading_the_notice_then_more_uploads_make_it_unread_again(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any) -> None:
    owner = account(alice)
    assert invoke(notifier, ready_event(owner, "a.txt").to_json()) == []
    db.execute("UPDATE notifications SET read_at = now() WHERE user_id = %s", (owner.user_id,))
    assert invoke(notifier, ready_event(owner, "b.txt").to_json()) == []
    [row] = inbox(db, owner)
    assert row["read_at"] is None and row["message"] == "2 files are ready: “a.txt”, “b.txt”."


def test_a_notifier_crash_mid_burst_loses_nothing_and_counts_nothing_twice(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    owner = account(alice)
    events = [ready_event(owner, f"n{i}.txt") for i in range(6)]
    assert invoke(notifier, *[e.to_json() for e in events[:3]]) == []

    # Given the notifier dies inside the transaction of the 5th event (after its count was written)
    class Dying:
        calls = 0

        def add_metric(self, **kwargs: Any) -> None:
            Dying.calls += 1
            if Dying.calls == 2:
                raise RuntimeError("the process died here")

    monkeypatch.setattr(notice_bursts, "metrics", Dying())
    failures = invoke(notifier, *[e.to_json() for e in events[3:]])
    assert [f["itemIdentifier"]["offset"] for f in failures] == [1]  # the 5th; what follows is redelivered
    monkeypatch.undo()

    # When Kafka delivers the batch again from the failed record (and the earlier ones once more)
    assert invoke(notifier, *[e.to_json() for e in events]) == []

    # Then every upload counted exactly once
    [row] = inbox(db, owner)
    assert row["message"].startswith("6 files are ready")
    assert [b["count"] for b in bursts(db, owner)] == [6]
    counted = db.execute("SELECT count(*) AS n FROM notice_burst_events e"
                         " JOIN notice_bursts b USING (burst_id) WHERE b.user_id = %s",
                         (owner.user_id,)).fetchone()["n"]
    assert counted == 6


def test_a_failed_burst_email_is_sent_by_the_next_sweep_and_only_once(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any,
        override_settings: Callable[..., None]) -> None:
    owner = account(alice)
    assert invoke(notifier, *[ready_event(owner, f"f{i}.txt").to_json() for i in range(3)]) == []
    go_quiet(db, owner)
    verified = os.environ.get("EMAIL_SENDER", "no-reply@fileshare.local")

    override_settings(EMAIL_SENDER="nobody@unverified.example")  # SES refuses it: a real SES error
    # the sweep goes on (the failure is logged and counted); the burst's claim rolled back
    assert burst_digests.flush() == 0
    assert [b["emailed_at"] for b in bursts(db, owner)] == [None] and mail_to(owner.email) == []

    override_settings(EMAIL_SENDER=verified)
    burst_digests.flush()
    burst_digests.flush()
    [mail] = mail_to(owner.email)
    assert "3 files are ready" in mail["Subject"]


def test_bursts_off_is_one_notice_per_upload(notifier: ModuleType, account: Callable[[User], User],
                                             alice: User, db: Any, override_settings: Callable[..., None]
                                             ) -> None:
    override_settings(UPLOAD_NOTICE_WINDOW_SECONDS="0")
    owner = account(alice)
    events: list[Event] = [ready_event(owner, f"{i}.txt") for i in range(3)]
    assert invoke(notifier, *[e.to_json() for e in events]) == []
    assert len(inbox(db, owner)) == 3 and len(mail_to(owner.email)) == 3
    assert bursts(db, owner) == []
    assert uuid.UUID(str(inbox(db, owner)[0]["event_id"])) == events[0].id
