"""Pure rules of trash, deletion and rate limiting (no services)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fileshare import deletion, event_types, ratelimit


def test_retry_after_counts_to_the_end_of_the_minute() -> None:
    assert ratelimit.retry_after_s(600.0) == 60
    assert ratelimit.retry_after_s(659.2) == 1
    assert ratelimit.retry_after_s(630.5) == 30
    assert ratelimit.window_key("u1", 10) == "fs:rl:v1:u1:10"


def test_object_keys_are_the_files_own_and_a_hint_outside_its_prefix_is_ignored() -> None:
    file_id = uuid.uuid4()
    thumb = f"t/owner/{file_id}.webp"
    row = {"s3_key": f"u/owner/{file_id}/a.png", "thumbnail_key": thumb}
    assert deletion.object_keys(file_id, "owner", row) == [thumb, row["s3_key"]]
    assert deletion.object_keys(file_id, "owner", None, f"u/owner/{file_id}/a.png") == [thumb, row["s3_key"]]
    assert deletion.object_keys(file_id, "owner", None, "u/other/secret.txt") == [thumb]
    assert deletion.object_keys(file_id, "owner", None, f"u/owner/{uuid.uuid4()}/x") == [thumb]


def test_deletion_events_carry_what_notifications_and_the_deleter_need() -> None:
    row = {"file_id": uuid.uuid4(), "owner_id": "o", "name": "a.txt", "size": 3, "s3_key": "u/o/x/a.txt",
           "thumbnail_key": None, "expires_at": datetime(2030, 1, 1, tzinfo=UTC)}
    event = deletion.deletion_event(row, event_types.EventType.FILE_EXPIRED, deletion.Reason.EXPIRED)
    parsed = event_types.Event.from_json(event.to_json())
    assert parsed.type == "file.expired" and parsed.owner_id == "o" and parsed.file_id == row["file_id"]
    assert parsed.data["name"] == "a.txt" and parsed.data["reason"] == "expired"
    assert parsed.data["s3_key"] == "u/o/x/a.txt" and parsed.data["expires_at"].startswith("2030-01-01")
