"""A deployment without an email sender (the stage's emailSender is empty, so CDK sets EMAIL_SENDER
to ""): notifications stay in the in-app inbox, nothing is claimed, counted or sent, and it is logged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from fileshare.config import settings
from fileshare.event_types import Event, EventType
from fileshare.notifications import notices as notifications


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    monkeypatch.undo()
    settings.cache_clear()


def test_an_empty_sender_turns_email_off_and_an_absent_one_keeps_the_default(
    sender: pytest.MonkeyPatch,
) -> None:
    sender.setenv("EMAIL_SENDER", "")
    settings.cache_clear()
    assert settings().email_sender == ""
    sender.delenv("EMAIL_SENDER")
    settings.cache_clear()
    assert settings().email_sender == "no-reply@fileshare.local"  # a function without EMAIL, locally


def test_without_a_sender_no_email_is_claimed_or_sent(sender: pytest.MonkeyPatch) -> None:
    sender.setenv("EMAIL_SENDER", "")
    settings.cache_clear()

    def no_database() -> None:
        raise AssertionError("nothing to claim or count without a sender")

    sender.setattr(notifications, "transaction", no_database)
    sender.setattr(notifications, "send_email", lambda *_: no_database())
    event = Event(id=uuid.uuid4(), type=EventType.FILE_READY, occurred_at=datetime.now(UTC),
                  file_id=uuid.uuid4(), owner_id=str(uuid.uuid4()), data={"name": "a.txt"})
    notice = notifications.Notice(user_id=event.owner_id, type=event.type.value, file_id=event.file_id,
                                  subject="ready", message="a.txt is ready")
    assert notifications._send_email_once(notice, event, "someone@mail.fileshare-ci.dev") is False
    assert notifications.flush_digests() == 0
