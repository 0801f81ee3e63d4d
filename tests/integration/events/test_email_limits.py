"""Email flood limits (``fileshare.notifications.notices``) against the real PostgreSQL and LocalStack SES:
link-download emails are digested per link and period, every recipient has a daily cap, and the
in-app inbox still gets every notification.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

from fileshare.event_types import Event, EventType
from fileshare.notifications import notices as notifications
from tests.integration.conftest import User
from tests.integration.events.conftest import inbox, invoke, mail_to, ready_event


def downloaded(owner: User, link_id: uuid.UUID, file_id: uuid.UUID, downloads: int) -> Event:
    return Event(type=EventType.LINK_DOWNLOADED, file_id=file_id, owner_id=owner.user_id,
                 data={"link_id": str(link_id), "name": "holiday.jpg", "downloads": downloads,
                       "recipient_id": owner.user_id})


def test_link_downloads_email_at_most_once_per_period_counting_the_rest(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any,
        override_settings: Any) -> None:
    override_settings(LINK_EMAIL_DIGEST_SECONDS="3600")
    owner = account(alice)
    link_id, file_id = uuid.uuid4(), uuid.uuid4()

    # Given five downloads of one link within the hour
    for n in range(1, 6):
        assert invoke(notifier, downloaded(owner, link_id, file_id, n).to_json()) == []

    # Then every download is in the inbox, but only the first was emailed
    assert len(inbox(db, owner)) == 5
    [first] = mail_to(owner.email)
    assert "was downloaded (1 download so far)" in first["Body"]["text_part"]
    digest = db.execute("SELECT * FROM link_email_digests WHERE link_id = %s", (link_id,)).fetchone()
    assert digest["pending"] == 4 and digest["total"] == 5

    # When the period is over (its start moved back) and the link is downloaded again
    db.execute("UPDATE link_email_digests SET last_sent_at = now() - interval '61 minutes'"
               " WHERE link_id = %s", (link_id,))
    assert invoke(notifier, downloaded(owner, link_id, file_id, 6).to_json()) == []

    # Then one more email, counting the downloads since the last one
    mails = mail_to(owner.email)
    assert len(mails) == 2
    assert "downloaded 5 times since the last email (6 downloads so far)" in mails[1]["Body"]["text_part"]
    digest = db.execute("SELECT * FROM link_email_digests WHERE link_id = %s", (link_id,)).fetchone()
    assert digest["pending"] == 0


def test_a_redelivered_download_is_not_counted_twice(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any) -> None:
    owner = account(alice)
    link_id, file_id = uuid.uuid4(), uuid.uuid4()
    invoke(notifier, downloaded(owner, link_id, file_id, 1).to_json())
    second = downloaded(owner, link_id, file_id, 2)
    invoke(notifier, second.to_json())
    invoke(notifier, second.to_json())  # Kafka delivers it again
    digest = db.execute("SELECT * FROM link_email_digests WHERE link_id = %s", (link_id,)).fetchone()
    assert digest["pending"] == 1 and len(inbox(db, owner)) == 2 and len(mail_to(owner.email)) == 1


def test_the_sweeper_mails_what_is_left_once_the_period_is_over(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any) -> None:
    owner = account(alice)
    link_id, file_id = uuid.uuid4(), uuid.uuid4()
    for n in (1, 2, 3):
        invoke(notifier, downloaded(owner, link_id, file_id, n).to_json())
    assert len(mail_to(owner.email)) == 1

    notifications.flush_digests()  # the period is not over: nothing to send for this link
    assert len(mail_to(owner.email)) == 1

    db.execute("UPDATE link_email_digests SET last_sent_at = now() - interval '2 hours'"
               " WHERE link_id = %s", (link_id,))
    notifications.flush_digests()
    mails = mail_to(owner.email)
    assert len(mails) == 2 and "downloaded 2 times since the last email" in mails[1]["Body"]["text_part"]
    notifications.flush_digests()  # reported: nothing more
    assert len(mail_to(owner.email)) == 2


def test_every_recipient_has_a_daily_email_cap(
        notifier: ModuleType, account: Callable[[User], User], alice: User, db: Any,
        override_settings: Any) -> None:
    override_settings(EMAIL_DAILY_CAP="3", UPLOAD_NOTICE_WINDOW_SECONDS="0")  # one email per upload
    owner = account(alice)
    for index in range(5):
        assert invoke(notifier, ready_event(owner, f"file-{index}.pdf").to_json()) == []
    assert len(inbox(db, owner)) == 5  # the inbox is not capped
    assert len(mail_to(owner.email)) == 3
    row = db.execute("SELECT sent FROM email_daily_counts WHERE user_id = %s", (owner.user_id,)).fetchone()
    assert row["sent"] == 3
