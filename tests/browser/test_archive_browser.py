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

from tests.browser.conftest import Browser, api_token, log_in, signed_in, upload_ready

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


def test_zip_a_folder_and_my_archives_list_with_a_failure_shown(browser: Browser, tmp_path: Path) -> None:
    """A folder's "Zip" makes one ZIP of all inside it (relative paths kept); "My archives" lists
    the jobs, newest first, a ready one with its download and a failed one with its reason."""
    import os

    import jwt
    import psycopg
    from playwright.sync_api import expect

    page = browser.page
    signed_in(browser)
    tag = uuid.uuid4().hex[:6]
    rows = page.locator("#files-body tr")
    archives = page.get_by_role("list", name="My archives")
    expect(archives).to_contain_text("No archives yet.")

    # Given a folder with a file in it and one in a subfolder
    page.get_by_label("New folder").fill(f"Zip me {tag}")
    page.get_by_role("button", name="Create folder").click()
    page.get_by_role("link", name=f"Zip me {tag}").click()
    top = tmp_path / "inside"
    (top / "sub").mkdir(parents=True)
    (top / "sub" / f"deep-{tag}.txt").write_text("deep\n")
    (top / f"first-{tag}.txt").write_text("first\n" * 10)
    page.locator("#folder-input").set_input_files(str(top))
    page.get_by_role("button", name="Upload").click()
    expect(rows.filter(has_text="inside")).to_have_count(1)
    page.get_by_role("link", name="inside").click()
    expect(rows.filter(has_text=f"first-{tag}.txt").locator(".status")).to_have_text("ready")
    page.get_by_role("link", name="sub").click()
    expect(rows.filter(has_text=f"deep-{tag}.txt").locator(".status")).to_have_text("ready")
    # and an earlier job of this user's that failed (made behind the API)
    user_id = jwt.decode(api_token(page), options={"verify_signature": False})["sub"]
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(
            "INSERT INTO archives (archive_id, owner_id, name, status, file_ids, files_total, bytes_total,"
            " s3_key, failure_reason, failure_detail, created_at) VALUES (%s, %s, 'broken.zip', 'failed',"
            " %s, 1, 1, %s, 'source_missing', 'file x: its object is gone', now() - interval '1 minute')",
            (uuid.uuid4(), user_id, [uuid.uuid4()], f"a/{user_id}/{uuid.uuid4()}/broken.zip"))

    # When the user presses "Zip" on the folder at home
    page.get_by_role("navigation", name="Folder path").get_by_role("link", name="Home").click()
    with page.expect_response(lambda r: r.url.endswith("/archives") and r.request.method == "POST") as info:
        rows.filter(has_text=f"Zip me {tag}").get_by_role("button", name="Zip").click()
    assert info.value.status == 202
    assert info.value.request.post_data_json == {"folder_id": info.value.json()["folder_id"]}

    # Then it turns ready, and the list shows it above the failed one, whose reason is given
    expect(page.locator("#archive-text")).to_contain_text("is ready")
    items = archives.locator("li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(f"Zip me {tag}.zip is ready")
    expect(items.nth(1)).to_have_text("broken.zip failed: a file's bytes were gone.")
    expect(items.nth(1).get_by_role("button")).to_have_count(0)
    with page.expect_download() as download:
        items.nth(0).get_by_role("button", name="Get ZIP").click()
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as archive:
        assert archive.namelist() == [f"Zip me {tag}/", f"Zip me {tag}/inside/", f"Zip me {tag}/inside/sub/",
                                      f"Zip me {tag}/inside/first-{tag}.txt",
                                      f"Zip me {tag}/inside/sub/deep-{tag}.txt"]
        assert archive.read(f"Zip me {tag}/inside/first-{tag}.txt") == b"first\n" * 10
    assert download.value.suggested_filename == f"Zip me {tag}.zip"
    assert browser.axe() == []
    assert not browser.console_errors, browser.console_errors
