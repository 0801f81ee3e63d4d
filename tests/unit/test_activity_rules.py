"""The activity feed's pure rules: which events are actions on a file, what each may show, the
coarse client facts of a link download, and CSV cells no spreadsheet evaluates."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

import pytest

from fileshare.activity import feed as activity
from fileshare.activity.models import ActivityClient, ActivityOut
from fileshare.consumers import MalformedEventError
from fileshare.event_types import Event, EventType
from fileshare.links import clientinfo

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
EDGE_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Mobile Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
SAFARI_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/18.1 Safari/605.1.15")
CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36")


def ev(kind: EventType, **data: object) -> Event:
    return Event(type=kind, file_id=uuid.uuid4(), owner_id="owner-1", data=data)


@pytest.mark.parametrize(("agent", "browser", "os"), [
    (FIREFOX_WINDOWS, "Firefox", "Windows"),
    (EDGE_WINDOWS, "Edge", "Windows"),
    (CHROME_ANDROID, "Chrome", "Android"),
    (SAFARI_IPHONE, "Safari", "iOS"),
    (SAFARI_MAC, "Safari", "macOS"),
    (CHROME_LINUX, "Chrome", "Linux"),
    ("curl/8.5.0", "curl", "Other"),
    ("python-requests/2.32.3", "Python", "Other"),
    (None, "Other", "Other"),
    ("", "Other", "Other"),
])
def test_browser_and_os_families(agent: str | None, browser: str, os: str) -> None:
    assert (clientinfo.browser_family(agent), clientinfo.os_family(agent)) == (browser, os)


@pytest.mark.parametrize(("ip", "network"), [
    ("203.0.113.77", "203.0.113.0/24"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
    ("::ffff:198.51.100.9", "198.51.100.0/24"),
    ("not an address", None),
    (None, None),
])
def test_the_network_never_the_address(ip: str | None, network: str | None) -> None:
    assert clientinfo.network(ip) == network


def test_coarse_client_keeps_families_network_and_a_valid_country_only() -> None:
    info = clientinfo.coarse(FIREFOX_WINDOWS, "203.0.113.77", "de")
    assert info == {"browser": "Firefox", "os": "Windows", "network": "203.0.113.0/24", "country": "DE"}
    assert "203.0.113.77" not in json.dumps(info)
    assert "country" not in clientinfo.coarse(FIREFOX_WINDOWS, "203.0.113.77", "<script>")


@pytest.mark.parametrize(("event", "action", "details"), [
    (ev(EventType.FILE_READY, name="a.txt", size=3, content_type="text/plain", s3_key="u/x/y/a.txt",
        checksum_sha256="abc"), "uploaded", {"size": 3, "content_type": "text/plain"}),
    (ev(EventType.FILE_REJECTED, name="a.txt", reason="size_mismatch"), "upload_rejected",
     {"reason": "size_mismatch"}),
    (ev(EventType.FILE_UPDATED, changes={"name": "b.txt"}), "renamed", {"name": "b.txt"}),
    (ev(EventType.FILE_UPDATED, changes={"tags": ["x", "y"]}), "updated", {"tags": ["x", "y"]}),
    (ev(EventType.FILE_UPDATED, changes={"content_type": "image/png", "checksum_sha256": "c"},
        reason="object_replaced"), "content_replaced", {"content_type": "image/png"}),
    (ev(EventType.FILE_VERSION_ADDED, version_id="v", name="a.txt", size=9, content_type="text/plain",
        checksum_sha256="c", previous_version_id="p"), "version_added", {"version_id": "v", "size": 9}),
    (ev(EventType.FILE_VERSION_REJECTED, version_id="v", name="a.txt", reason="size_mismatch"),
     "version_rejected", {"version_id": "v", "reason": "size_mismatch"}),
    (ev(EventType.FILE_UPDATED, changes={"version_id": "v", "size": 9, "content_type": "text/plain"},
        reason="version_made_current"), "version_made_current", {"version_id": "v", "size": 9}),
    (ev(EventType.FILE_TRASHED, trashed_at="2026-01-01T00:00:00Z"), "trashed", {}),
    (ev(EventType.FILE_RESTORED, name="a.txt", status="ready"), "restored", {}),
    (ev(EventType.FILE_DELETED, name="a.txt", reason="purged", s3_key="u/x"), "deleted",
     {"reason": "purged"}),
    (ev(EventType.SHARE_CREATED, share_id="s", recipient_id="r", permission="viewer"), "shared",
     {"permission": "viewer"}),
    (ev(EventType.SHARE_REVOKED, share_id="s", recipient_id="r"), "share_revoked", {}),
    (ev(EventType.LINK_CREATED, link_id="l", expires_at=None, max_downloads=3, has_password=True),
     "link_created", {"link_id": "l", "expires_at": None, "max_downloads": 3, "has_password": True}),
    (ev(EventType.LINK_REVOKED, link_id="l"), "link_revoked", {"link_id": "l"}),
    (ev(EventType.FILE_UPDATED, changes={"folder_id": "f2"}, previous={"folder_id": "f1"},
        from_folder="Old", to_folder="New"), "moved",
     {"from_folder_id": "f1", "from_folder": "Old", "to_folder_id": "f2", "to_folder": "New"}),
    (ev(EventType.FILE_UPDATED, changes={"folder_id": None, "name": "b.txt"}, previous={"folder_id": "f1"},
        from_folder="Old", to_folder=None), "moved",
     {"from_folder_id": "f1", "from_folder": "Old", "to_folder_id": None, "to_folder": None,
      "name": "b.txt"}),
    (ev(EventType.FOLDER_CREATED, folder=True, name="Docs", parent_id=None), "folder_created",
     {"folder": True, "parent_id": None}),
    (ev(EventType.FOLDER_UPDATED, folder=True, name="Docs 2", changes={"name": "Docs 2"},
        previous={"name": "Docs"}), "folder_renamed",
     {"folder": True, "name": "Docs 2", "previous_name": "Docs"}),
    (ev(EventType.FOLDER_UPDATED, folder=True, name="Docs", changes={"parent_id": "p2"},
        previous={"parent_id": None}, from_folder=None, to_folder="Work"), "folder_moved",
     {"folder": True, "from_folder_id": None, "from_folder": None, "to_folder_id": "p2",
      "to_folder": "Work"}),
])
def test_each_action_and_only_what_it_may_show(event: Event, action: str, details: dict[str, object]) -> None:
    entry = activity.describe(event)
    assert entry is not None and (entry.action, entry.details, entry.client) == (action, details, None)
    ActivityOut(activity_id=event.id, file_id=event.file_id, file_name="x", action=entry.action,  # type: ignore[arg-type]
                event_type=event.type.value, occurred_at=event.occurred_at, details=entry.details)


def test_a_link_download_keeps_the_coarse_client_and_drops_anything_else() -> None:
    event = ev(EventType.LINK_DOWNLOADED, link_id="l", downloads=2, recipient_id="owner-1",
               client={"browser": "Firefox", "os": "Windows", "network": "203.0.113.0/24",
                       "ip": "203.0.113.77", "token": "secret"})
    entry = activity.describe(event)
    assert entry is not None and entry.action == "link_downloaded"
    assert entry.details == {"link_id": "l", "downloads": 2}
    assert entry.client == {"browser": "Firefox", "os": "Windows", "network": "203.0.113.0/24"}


def test_events_that_are_no_action_are_ignored_and_garbage_is_malformed() -> None:
    assert activity.parse(b'{"type": "zip.ready", "version": 7}') is None
    assert activity.parse(b'{"type": "calendar.created"}') is None  # a type this code never heard of
    assert activity.parse(b'{"type": "archive.failed", "version": 1}') is None
    with pytest.raises(MalformedEventError):
        activity.parse(b"\x00 not json")
    with pytest.raises(MalformedEventError):
        activity.parse(b'{"type": "file.ready", "version": 99}')
    with pytest.raises(MalformedEventError):
        activity.parse(b'{"type": "file.ready", "file_id": "nope"}')


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx",
                                  "|cmd", "%x", "\uff1d1+1"])
def test_csv_cells_that_look_like_formulas_are_text(name: str) -> None:
    assert activity.safe_cell(name) == f"'{name}"


def test_csv_document_round_trips_with_the_header_and_safe_cells() -> None:
    item = ActivityOut(activity_id=uuid.uuid4(), file_id=uuid.uuid4(), file_name="=cmd|' /C calc'!A0",
                       action="link_downloaded", event_type="link.downloaded",
                       occurred_at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC), details={"downloads": 1},
                       client=ActivityClient(browser="Firefox", os="Windows", network="203.0.113.0/24"))
    rows = list(csv.reader(io.StringIO(activity.to_csv([item]))))
    assert rows[0] == list(activity.CSV_COLUMNS)
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["file_name"] == "'=cmd|' /C calc'!A0"
    assert (record["client_browser"], record["client_network"]) == ("Firefox", "203.0.113.0/24")
    assert json.loads(record["details"]) == {"downloads": 1}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
