"""Pure rules of the notifier and the indexer: who is told what, which records are acknowledged
unread, which are dead letters, and which files have a search document."""

from __future__ import annotations

import json
import uuid

import pytest

from fileshare.consumers import MalformedEventError
from fileshare.event_types import Event, EventType
from fileshare.notifications.notices import compose, parse
from fileshare.search.index import file_id_of, wants_document

OWNER, GRANTEE = "owner-1", "grantee-2"


def event(kind: EventType, **data: object) -> Event:
    return Event(type=kind, file_id=uuid.uuid4(), owner_id=OWNER, data=data)


@pytest.mark.parametrize(("kind", "data", "words"), [
    (EventType.FILE_READY, {"name": "a.txt"}, "Your upload “a.txt” is ready."),
    (EventType.FILE_REJECTED, {"name": "a.png", "reason": "quota_exceeded"},
     "Your upload “a.png” was rejected: it would exceed your storage quota."),
    (EventType.FILE_REJECTED, {"name": "a.png", "reason": "weird_reason"},
     "Your upload “a.png” was rejected: weird reason."),
    (EventType.LINK_DOWNLOADED, {"name": "r.pdf", "downloads": 3},
     "Your public link to “r.pdf” was downloaded (3 downloads so far)."),
    (EventType.FILE_DELETED, {"name": "old.zip", "reason": "purged"}, "“old.zip” was permanently deleted."),
    (EventType.FILE_DELETED, {"name": "old.zip", "reason": "trash_retention"},
     "“old.zip” was permanently deleted after its time in the trash ran out."),
    (EventType.FILE_EXPIRED, {}, "A file reached its expiry date and was deleted."),
    (EventType.FILE_VERSION_ADDED, {"name": "plan.md", "version_id": "v"},
     "A new version of “plan.md” is ready and is now the current one."),
    (EventType.FILE_VERSION_REJECTED, {"name": "plan.md", "reason": "quota_exceeded"},
     "Your new version “plan.md” was rejected: it would exceed your storage quota."
     " The file keeps its current version."),
])
def test_owner_notices(kind: EventType, data: dict[str, object], words: str) -> None:
    ev = event(kind, **data)
    notice = compose(ev)
    assert notice is not None
    assert notice.user_id == OWNER and notice.type == kind.value and notice.file_id == ev.file_id
    assert notice.message == words


def test_a_share_tells_the_grantee_who_shared_what() -> None:
    notice = compose(event(EventType.SHARE_CREATED, recipient_id=GRANTEE, name="plan.md"),
                     actor_email="owner@example.com")
    assert notice is not None and notice.user_id == GRANTEE
    assert notice.message == "owner@example.com shared “plan.md” with you."


@pytest.mark.parametrize("data", [{}, {"recipient_id": OWNER}, {"recipient_id": 7}])
def test_a_share_without_a_usable_grantee_tells_nobody(data: dict[str, object]) -> None:
    assert compose(event(EventType.SHARE_CREATED, **data)) is None


@pytest.mark.parametrize("kind", [EventType.FILE_UPDATED, EventType.LINK_CREATED, EventType.SHARE_REVOKED])
def test_other_events_are_not_notifications(kind: EventType) -> None:
    assert compose(event(kind, name="x")) is None
    assert parse(event(kind, name="x").to_json()) is None


def test_parse_acknowledges_a_type_this_code_has_never_heard_of() -> None:
    assert parse(json.dumps({"type": "calendar.created", "version": 9, "whatever": True})) is None


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"no": "type"}',
                                 json.dumps({"type": "file.ready", "version": 2, "file_id": str(uuid.uuid4()),
                                             "owner_id": OWNER}).encode(),
                                 json.dumps({"type": "file.ready", "file_id": "nope", "owner_id": OWNER})])
def test_parse_rejects_what_no_retry_can_fix(raw: bytes | str) -> None:
    with pytest.raises(MalformedEventError):
        parse(raw)


def test_parse_reads_a_real_envelope() -> None:
    ev = event(EventType.FILE_READY, name="a.txt")
    assert parse(ev.to_json()) == ev


def test_indexer_reads_only_type_and_file_id() -> None:
    ev = event(EventType.FILE_UPDATED, changes={"name": "b"})
    assert file_id_of(ev.to_json()) == ev.file_id
    assert file_id_of(event(EventType.FILE_READY).to_json()) is None
    assert file_id_of(json.dumps({"type": "folder.created"})) is None
    with pytest.raises(MalformedEventError):
        file_id_of(json.dumps({"type": "file.updated", "file_id": "x"}))


@pytest.mark.parametrize(("status", "before", "wanted"), [
    ("ready", None, True), ("trashed", "ready", True), ("trashed", "pending", False),
    ("pending", None, False), ("rejected", None, False), ("deleting", None, False),
])
def test_which_files_have_a_search_document(status: str, before: str | None, wanted: bool) -> None:
    assert wants_document({"status": status, "status_before_trash": before}) is wanted
    assert wants_document(None) is False
