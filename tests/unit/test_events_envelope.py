"""The event envelope: versioned, typed, JSON round trip; consumers can rely on its shape."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from fileshare.event_types import ENVELOPE_VERSION, Event, EventType


def test_envelope_has_the_contract_fields() -> None:
    file_id = uuid.uuid4()
    event = Event(type=EventType.FILE_READY, file_id=file_id, owner_id="user-1", data={"size": 3})
    payload = json.loads(event.to_json())
    assert set(payload) == {"type", "version", "id", "occurred_at", "file_id", "owner_id", "data"}
    assert payload["type"] == "file.ready"
    assert payload["version"] == ENVELOPE_VERSION == 1
    assert uuid.UUID(payload["id"]).version == 4
    assert payload["file_id"] == str(file_id)
    assert datetime.fromisoformat(payload["occurred_at"]).tzinfo is not None
    assert payload["data"] == {"size": 3}


def test_round_trip_and_unknown_envelope_fields_are_ignored() -> None:
    event = Event(type=EventType.SHARE_CREATED, file_id=uuid.uuid4(), owner_id="u",
                  occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert Event.from_json(event.to_json()) == event
    newer = {**json.loads(event.to_json()), "trace_id": "abc"}  # a field a later producer adds
    assert Event.from_json(json.dumps(newer)) == event


def test_each_event_gets_its_own_id() -> None:
    ids = {Event(type=EventType.FILE_TRASHED, file_id=uuid.uuid4(), owner_id="u").id for _ in range(50)}
    assert len(ids) == 50


def test_all_design_event_types_exist() -> None:
    assert {t.value for t in EventType} == {
        "file.ready", "file.rejected", "file.updated", "file.version_added", "file.version_rejected",
        "file.trashed", "file.restored",
        "file.deleted", "file.expired", "share.created", "share.revoked", "link.created", "link.downloaded",
        "link.revoked", "archive.requested", "zip.ready", "archive.failed", "folder.created",
        "folder.updated"}


@pytest.mark.parametrize("bad", [
    {"type": "file.exploded"}, {"version": 0}, {"owner_id": ""}, {"file_id": "not-a-uuid"}])
def test_invalid_envelopes_are_refused(bad: dict[str, object]) -> None:
    good = {"type": "file.ready", "file_id": str(uuid.uuid4()), "owner_id": "u"}
    with pytest.raises(ValidationError):
        Event.model_validate({**good, **bad})
