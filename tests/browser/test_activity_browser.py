"""Activity in the page (issue 14 parts 4 and 5), in a real Chromium against the local stack.

The gateway runs every poller, so the feed is built the real way: the page's actions write their
events to the outbox, Kafka carries them, the activity function (its own consumer group) records
them. The owner sees the file's feed in its details dialog, a stranger's link download in it with
coarse client facts only, and exports everything done to their files as CSV and JSON.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Browser, signed_in, upload_ready

pytestmark = pytest.mark.browser

FEED_WAIT_S = 60.0  # how long the consumer may take to record the events (a limit, not a timing)


def row(page: Any, name: str) -> Any:
    return page.locator("#files-body tr", has_text=name)


def open_details(page: Any, name: str) -> Any:
    row(page, name).get_by_role("button", name="Details").click()
    return page.get_by_role("dialog")


def feed_until(page: Any, name: str, want: int) -> list[str]:
    """Reopen the file's details until its feed has ``want`` entries; their texts, newest first."""
    deadline = time.monotonic() + FEED_WAIT_S
    while True:
        dialog = open_details(page, name)
        entries = dialog.locator("#activity li[data-action]")
        page.wait_for_function("() => !document.querySelector('#activity li.empty')"
                               " || document.querySelector('#activity li.empty').textContent !== 'Loading…'")
        texts = [t.strip() for t in entries.all_inner_texts()]
        if len(texts) >= want or time.monotonic() > deadline:
            return texts
        dialog.get_by_role("button", name="Close").click()
        time.sleep(1)


def test_the_owner_sees_a_files_activity_and_exports_it(new_browser: Callable[..., Browser],
                                                        tmp_path: Path) -> None:
    from playwright.sync_api import expect

    owner, friend, stranger = new_browser(), new_browser(), new_browser()
    friend_email = signed_in(friend)
    signed_in(owner)
    page = owner.page
    tag = uuid.uuid4().hex[:6]
    doc = tmp_path / f"=report-{tag}.txt"  # a name a spreadsheet would take for a formula
    doc.write_bytes(b"activity through the page\n" * 10)
    upload_ready(page, doc)
    renamed = f"=report-{tag} v2.txt"

    # When the owner renames it, shares it, makes a link, and a stranger downloads through the link
    dialog = open_details(page, doc.name)
    dialog.get_by_label("Name", exact=True).fill(renamed)
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator("#message")).to_contain_text(f"Saved {renamed}")
    dialog.get_by_label("Their email").fill(friend_email)
    dialog.get_by_role("button", name="Share").click()
    expect(dialog.locator("#shares")).to_contain_text(friend_email)
    dialog.get_by_label("Expires").select_option("3600")
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.locator("#links li")).to_have_count(1)
    url = dialog.get_by_label("New link").input_value()
    dialog.get_by_role("button", name="Close").click()
    stranger.page.goto(owner.base_url + "/s/" + url.rsplit("/s/", 1)[1])
    with stranger.page.expect_download() as info:
        stranger.page.get_by_role("button", name="Download").click()
    assert Path(info.value.path()).read_bytes() == doc.read_bytes()

    # Then the file's feed shows each action once, newest first, the download with coarse facts only
    texts = feed_until(page, renamed, want=5)
    assert len(texts) == 5, texts
    assert texts[0].startswith("Downloaded through a public link (Chrome on Linux"), texts
    assert texts[1].startswith("Public link created"), texts
    assert texts[2].startswith(f"Shared with {friend_email}"), texts
    assert texts[3].startswith(f"Renamed to “{renamed}”"), texts
    assert texts[4].startswith("Uploaded"), texts
    assert "127.0.0.1" not in " ".join(texts)
    assert not owner.axe(), owner.axe()
    page.get_by_role("dialog").get_by_role("button", name="Close").click()

    # And the friend (a viewer) has no feed to see: the dialog of a shared file shows none
    friend.page.get_by_role("link", name="Shared with me").click()
    friend.page.locator("#shared-body tr", has_text=renamed).get_by_role("button", name="Preview").click()
    expect(friend.page.locator("#activity-title")).to_be_hidden()

    # When the owner exports as CSV and as JSON
    with page.expect_download() as csv_info:
        page.get_by_role("button", name="Export activity (CSV)").click()
    expect(page.locator("#message")).to_contain_text("Exported 5 activities as CSV")
    rows = list(csv.DictReader(io.StringIO(Path(csv_info.value.path()).read_text())))
    with page.expect_download() as json_info:
        page.get_by_role("button", name="Export activity (JSON)").click()
    items = json.loads(Path(json_info.value.path()).read_text())["items"]

    # Then both hold exactly the five actions, oldest first, and the CSV's names are text
    actions = ["uploaded", "renamed", "shared", "link_created", "link_downloaded"]
    assert [r["action"] for r in rows] == actions
    assert [i["action"] for i in items] == actions
    assert [r["activity_id"] for r in rows] == [i["activity_id"] for i in items]
    assert all(r["file_name"].startswith("'=") for r in rows), rows
    assert rows[-1]["client_browser"] == "Chrome" and rows[-1]["client_network"] == "127.0.0.0/24"
    assert not owner.console_errors and not stranger.console_errors


def test_a_file_moved_into_a_folder_says_so_in_its_feed(browser: Browser, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.page
    signed_in(browser)
    tag = uuid.uuid4().hex[:6]
    doc = tmp_path / f"moving-{tag}.txt"
    doc.write_bytes(b"from home into a folder\n")
    upload_ready(page, doc)
    page.get_by_label("New folder").fill(f"Box {tag}")
    page.get_by_role("button", name="Create folder").click()
    expect(row(page, f"Box {tag}")).to_have_count(1)

    # When the file is moved into the folder
    row(page, doc.name).get_by_role("button", name="Rename or move").click()
    dialog = page.get_by_role("dialog", name=f"Rename or move {doc.name}")
    dialog.get_by_label("Folder").select_option(label=f"Box {tag}")
    dialog.get_by_role("button", name="Save").click()
    expect(row(page, doc.name)).to_have_count(0)
    page.get_by_role("link", name=f"Box {tag}").click()

    # Then its feed shows where it came from and where it went, newest first
    texts = feed_until(page, doc.name, want=2)
    assert texts[0].startswith(f"Moved from Home to “Box {tag}”"), texts
    assert texts[1].startswith("Uploaded"), texts
    assert not browser.console_errors, browser.console_errors
