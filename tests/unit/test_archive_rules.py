"""Pure rules of archives: names inside the ZIP, the ZIP's own name, part sizes, the zip.ready notice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from fileshare.adapters.storage import MAX_PARTS, MIN_PART_BYTES
from fileshare.archives import jobs as archives
from fileshare.archives import worker as archiving
from fileshare.archives.zipstream import part_size_for
from fileshare.errors import ValidationFailed
from fileshare.event_types import Event, EventType
from fileshare.notifications import notices as notifications


def test_entry_names_are_distinct_case_insensitively_and_keep_extensions() -> None:
    rows = [{"name": n} for n in ("a.txt", "A.txt", "a.txt", "notes", "notes", ".env", "a (2).txt")]
    assert archiving.entry_names(rows) == ["a.txt", "A (2).txt", "a (3).txt", "notes", "notes (2)", ".env",
                                           "a (2) (2).txt"]


def test_zip_name_is_sanitized_and_ends_in_zip() -> None:
    assert archives.zip_name("holiday") == "holiday.zip"
    assert archives.zip_name("../x/Photos.ZIP") == "Photos.ZIP"
    at = datetime(2026, 12, 1, 9, 5, 3, tzinfo=UTC)
    assert archives.zip_name(None, at) == "fileshare-20261201-090503.zip"
    assert len(archives.zip_name("x" * 400).encode()) <= 255
    with pytest.raises(ValidationFailed):
        archives.zip_name("\x00\x01")


@pytest.mark.parametrize("total", [0, 10, 5 * 1024**3, 16 * 1024**3, 100 * 1024**3])
def test_part_size_fits_s3s_part_count(total: int) -> None:
    part = part_size_for(total, 32 * 1024**2)
    assert part >= max(MIN_PART_BYTES, 32 * 1024**2)
    assert (total * 1.01 + 16 * 1024**2) / part <= MAX_PARTS


def test_dates_before_the_zip_epoch_are_clamped() -> None:
    assert archiving._date_time(datetime(1970, 1, 1, tzinfo=UTC)) == (1980, 1, 1, 0, 0, 0)
    assert archiving._date_time(datetime(2026, 12, 1, 10, 11, 12, tzinfo=UTC)) == (2026, 12, 1, 10, 11, 12)


def test_zip_ready_tells_the_requester_with_a_link_to_the_archive() -> None:
    archive_id = uuid.uuid4()
    event = Event(type=EventType.ZIP_READY, file_id=archive_id, owner_id="u1",
                  data={"name": "holiday.zip", "files": 3, "size": 10})
    notice = notifications.compose(event)
    assert notice is not None and notice.user_id == "u1" and notice.type == "zip.ready"
    assert notice.message == "Your archive “holiday.zip” of 3 files is ready to download."
    assert notice.url is not None and notice.url.endswith(f"/?archive={archive_id}")
    assert f"?archive={archive_id}" in notifications._email_body(notice)


def test_only_archive_requests_are_the_archivers() -> None:
    raw = Event(type=EventType.FILE_READY, file_id=uuid.uuid4(), owner_id="u").to_json()
    assert archiving.handle(raw) is archiving.Outcome.IGNORED
    assert archiving.handle(b'{"type": "some.future.type"}') is archiving.Outcome.IGNORED


def test_an_archive_request_without_an_archive_id_is_malformed() -> None:
    from fileshare.consumers import MalformedEventError

    with pytest.raises(MalformedEventError):
        archiving.handle(b'{"type": "archive.requested", "file_id": "nope"}')


def test_entry_paths_keep_directories_and_never_let_a_file_take_a_directorys_name() -> None:
    items = [("Docs", "a.txt"), ("Docs", "notes"), ("Docs", "NOTES"), ("Docs/notes", "a.txt"), ("", "x")]
    assert archiving.entry_paths(items, ["Docs", "Docs/notes"]) == [
        "Docs/a.txt", "Docs/notes (2)", "Docs/NOTES (3)", "Docs/notes/a.txt", "x"]


def test_a_failed_archive_tells_its_owner_why_with_a_link() -> None:
    archive_id = uuid.uuid4()
    event = Event(type=EventType.ARCHIVE_FAILED, file_id=archive_id, owner_id="u1",
                  data={"name": "Docs.zip", "reason": "source_unavailable", "detail": "folder not found"})
    notice = notifications.compose(event)
    assert notice is not None and notice.user_id == "u1" and notice.type == "archive.failed"
    assert notice.message == ("Your archive “Docs.zip” could not be made: a file or folder was no longer "
                              "available to you.")
    assert notice.url is not None and notice.url.endswith(f"/?archive={archive_id}")
    unknown = Event(type=EventType.ARCHIVE_FAILED, file_id=archive_id, owner_id="u1", data={"reason": "x"})
    assert (notice := notifications.compose(unknown)) is not None and notice.message.endswith("an error.")
