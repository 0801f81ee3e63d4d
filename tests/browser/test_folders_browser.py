"""Folders in the page (real gateway, processor and S3): create a folder, navigate with the
breadcrumbs, upload a whole directory into it keeping its relative paths, rename and move, trash a
folder; axe finds no serious or critical violations on the folder view."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.conftest import Browser, signed_in, upload_ready

pytestmark = pytest.mark.browser


def test_folder_navigation_upload_rename_move_and_trash(browser: Browser, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.page
    signed_in(browser)
    tag = uuid.uuid4().hex[:6]
    rows = page.locator("#files-body tr")
    crumbs = page.get_by_role("navigation", name="Folder path")

    # When the user creates a folder and opens it, the breadcrumbs show where they are
    page.get_by_label("New folder").fill(f"Trip {tag}")
    page.get_by_role("button", name="Create folder").click()
    page.get_by_role("link", name=f"Trip {tag}").click()
    expect(crumbs.locator('[aria-current="page"]')).to_have_text(f"Trip {tag}")
    expect(page.locator("#files-body")).to_contain_text("This folder is empty.")

    # When a directory is uploaded here, its subfolder is created and the files land inside it
    top = tmp_path / "Photos"
    (top / "day 1").mkdir(parents=True)
    (top / "day 1" / f"beach-{tag}.txt").write_text("sand\n")
    (top / f"notes-{tag}.txt").write_text("notes\n")
    page.locator("#folder-input").set_input_files(str(top))
    page.get_by_role("button", name="Upload").click()
    expect(rows.filter(has_text="Photos")).to_have_count(1)
    page.get_by_role("link", name="Photos").click()
    expect(rows.filter(has_text=f"notes-{tag}.txt").locator(".status")).to_have_text("ready")
    page.get_by_role("link", name="day 1").click()
    expect(rows.filter(has_text=f"beach-{tag}.txt").locator(".status")).to_have_text("ready")
    expect(crumbs).to_contain_text(f"Home/Trip {tag}/Photos/day 1".replace("/", ""))
    assert not browser.axe(), browser.axe()

    # When the file is renamed and moved up one level, it is listed there under its new name
    rows.filter(has_text=f"beach-{tag}.txt").get_by_role("button", name="Rename or move").click()
    dialog = page.get_by_role("dialog", name=f"Rename or move beach-{tag}.txt")
    dialog.get_by_label("Name").fill(f"shore-{tag}.txt")
    dialog.get_by_label("Folder").select_option(label="Photos (up one level)")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator("#files-body")).to_contain_text("This folder is empty.")
    crumbs.get_by_role("link", name="Photos").click()
    expect(rows.filter(has_text=f"shore-{tag}.txt")).to_have_count(1)

    # A folder cannot move into itself: there is no such choice; a clash is reported, not hidden
    crumbs.get_by_role("link", name=f"Trip {tag}").click()
    rows.filter(has_text="Photos").get_by_role("button", name="Rename or move").click()
    dialog = page.get_by_role("dialog", name="Rename or move Photos")
    assert "Photos" not in dialog.get_by_label("Folder").inner_text().split("\n")
    dialog.get_by_role("button", name="Close").click()

    # When the folder is trashed from the top level, it leaves the list with everything inside
    crumbs.get_by_role("link", name="Home").click()
    rows.filter(has_text=f"Trip {tag}").get_by_role("button", name="Move to trash").click()
    expect(page.locator("#message")).to_contain_text(f"Trip {tag} moved to the trash.")
    expect(rows.filter(has_text=f"Trip {tag}")).to_have_count(0)
    assert not browser.console_errors, browser.console_errors


def test_share_a_folder_then_revoke_and_trash_restore_it(new_browser: Callable[..., Browser],
                                                          tmp_path: Path) -> None:
    from playwright.sync_api import expect

    owner, friend = new_browser(), new_browser()
    friend_email = signed_in(friend)
    signed_in(owner)
    tag = uuid.uuid4().hex[:6]
    page = owner.page
    page.get_by_label("New folder").fill(f"Plans {tag}")
    page.get_by_role("button", name="Create folder").click()
    page.get_by_role("link", name=f"Plans {tag}").click()
    doc = tmp_path / f"inside-{tag}.txt"
    doc.write_text("for the team\n")
    upload_ready(page, doc)  # uploaded into the open folder

    # When the owner shares the folder, the friend finds it under "Shared with me" and reads inside
    page.get_by_role("navigation", name="Folder path").get_by_role("link", name="Home").click()
    page.locator("#files-body tr", has_text=f"Plans {tag}").get_by_role("button", name="Share").click()
    dialog = page.get_by_role("dialog", name=f"Share Plans {tag}")
    dialog.get_by_label("Their email").fill(friend_email)
    dialog.get_by_role("button", name="Share").click()
    expect(dialog.locator("#folder-shares")).to_contain_text(friend_email)
    assert not owner.axe(), owner.axe()
    friend.page.get_by_role("link", name="Shared with me").click()
    friend.page.get_by_role("link", name=f"Plans {tag}").click()
    expect(friend.page.locator("#files-body tr", has_text=doc.name)).to_be_visible()

    # When the owner revokes it, the friend loses the folder and its file at once
    dialog.locator("#folder-shares li", has_text=friend_email).get_by_role("button", name="Revoke").click()
    expect(dialog.locator("#folder-shares li")).to_have_count(0)
    dialog.get_by_role("button", name="Close").click()
    friend.page.get_by_role("link", name="Shared with me").click()
    expect(friend.page.locator("#shared-body tr", has_text=f"Plans {tag}")).to_have_count(0)

    # When the owner trashes the folder, it is in the trash as one row and restores whole
    folder_row = page.locator("#files-body tr", has_text=f"Plans {tag}")
    folder_row.get_by_role("button", name="Move to trash").click()
    expect(page.locator("#files-body tr", has_text=f"Plans {tag}")).to_have_count(0)
    page.get_by_role("link", name="Trash").click()
    trashed = page.locator("#trash-body tr", has_text=f"Plans {tag}")
    expect(trashed).to_have_count(1)
    expect(page.locator("#trash-body tr", has_text=doc.name)).to_have_count(0)
    trashed.get_by_role("button", name="Restore").click()
    expect(page.locator("#message")).to_contain_text(f"Plans {tag} restored.")
    page.get_by_role("link", name="My files").click()
    page.get_by_role("link", name=f"Plans {tag}").click()
    expect(page.locator("#files-body tr", has_text=doc.name).locator(".status")).to_have_text("ready")
    assert not owner.console_errors and not friend.console_errors
