""""Download as ZIP" through the page (issue 14 parts 2 and 5), in a real Chromium against the local
stack: the gateway's own Kafka poller runs the archiver, so the ZIP is built for real.

A user selects one of their files and one shared with them, asks for a ZIP, sees its progress turn
into "ready", downloads it and finds both files inside; the emailed link (?archive=<id>) opens the
same status after logging in.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.conftest import Browser, log_in, signed_in, upload_ready

pytestmark = pytest.mark.browser


def test_select_files_download_as_zip_with_progress_and_the_emailed_link(
        new_browser: Callable[..., Browser], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    owner, friend = new_browser(), new_browser()
    friend_email = signed_in(friend)
    signed_in(owner)
    tag = uuid.uuid4().hex[:6]
    theirs = tmp_path / f"shared-{tag}.txt"
    theirs.write_bytes(b"from a friend\n" * 50)
    upload_ready(owner.page, theirs)
    owner.page.locator("#files-body tr", has_text=theirs.name).get_by_role("button", name="Details").click()
    dialog = owner.page.get_by_role("dialog", name=theirs.name)
    dialog.get_by_label("Their email").fill(friend_email)
    dialog.get_by_role("button", name="Share").click()
    expect(dialog.locator("#shares")).to_contain_text(friend_email)

    page = friend.page
    mine = tmp_path / f"mine-{tag}.bin"
    mine.write_bytes(bytes(range(256)) * 4000)
    upload_ready(page, mine)

    # Given nothing selected, the action is off
    button = page.get_by_role("button", name="Download as ZIP")
    expect(button).to_be_disabled()
    # When the friend ticks their own file and the one shared with them
    page.get_by_role("checkbox", name=mine.name).check()
    page.get_by_role("link", name="Shared with me").click()
    page.get_by_role("checkbox", name=theirs.name).check()
    expect(page.locator("#selection-count")).to_have_text("2 files selected")
    # and asks for the ZIP
    with page.expect_response(lambda r: r.url.endswith("/archives") and r.request.method == "POST") as info:
        button.click()
    assert info.value.status == 202
    archive_id = info.value.json()["archive_id"]

    # Then the status shows, turns ready (the gateway's archiver built it), and the ZIP downloads
    status = page.locator("#archive-status")
    expect(status).to_be_visible()
    expect(page.locator("#archive-text")).to_contain_text("is ready")
    expect(page.locator("#selection-count")).to_have_text("No files selected")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    data = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == sorted([mine.name, theirs.name])
        assert archive.read(mine.name) == mine.read_bytes()
        assert archive.read(theirs.name) == theirs.read_bytes()
    assert re.match(r"fileshare-\d{8}-\d{6}\.zip", download.value.suggested_filename)
    assert friend.axe() == []

    # And the emailed link opens the same archive's status once signed in again
    link_page = new_browser()
    link_page.open(f"/?archive={archive_id}")
    log_in(link_page.page, friend_email)
    expect(link_page.page.locator("#archive-text")).to_contain_text("is ready")
    assert not friend.console_errors and not link_page.console_errors
