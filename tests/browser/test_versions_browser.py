"""Versions in the page (issue 14 parts 3 and 5), in a real Chromium against the local stack.

The gateway runs every poller, so a new version goes the real way: the page asks for a presigned
POST (``POST /files/{id}/versions``), sends the bytes to LocalStack S3, the S3 notification reaches
the processor through SQS, and the version becomes current. The owner lists, downloads, makes
current and deletes versions in the file's details dialog; a viewer sees no versions section.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Browser, signed_in, upload_ready

pytestmark = pytest.mark.browser


def open_details(page: Any, name: str) -> Any:
    page.locator("#files-body tr", has_text=name).get_by_role("button", name="Details").click()
    return page.get_by_role("dialog")


def test_the_owner_manages_versions_in_the_details_dialog(new_browser: Callable[..., Browser],
                                                          tmp_path: Path) -> None:
    from playwright.sync_api import expect

    owner, friend = new_browser(), new_browser()
    friend_email = signed_in(friend)
    signed_in(owner)
    page = owner.page
    tag = uuid.uuid4().hex[:6]
    first = tmp_path / f"plan-{tag}.txt"
    first.write_bytes(b"the first plan\n" * 5)
    second = tmp_path / "v2" / f"plan-{tag} (revised).txt"
    second.parent.mkdir()
    second.write_bytes(b"the revised plan, longer than the first\n" * 5)
    upload_ready(page, first)

    # Given the file's details: one version, the current one
    dialog = open_details(page, first.name)
    versions = dialog.locator("#versions li[data-version-id]")
    expect(versions).to_have_count(1)
    expect(versions.first).to_have_attribute("data-current", "true")

    # When the owner uploads a new version through the dialog
    dialog.get_by_label("Upload a new version").set_input_files(str(second))

    # Then it is verified and becomes current: listed first, the dialog shows its name
    expect(page.locator("#message")).to_contain_text("is the current version now")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_have_attribute("data-current", "true")
    expect(versions.nth(0)).to_contain_text(second.name)
    expect(versions.nth(1)).to_have_attribute("data-current", "false")
    expect(page.locator("#details-title")).to_have_text(second.name)
    assert not owner.axe(), owner.axe()

    # And the earlier version downloads with its own bytes
    with page.expect_download() as info:
        versions.nth(1).get_by_role("button", name="Download").click()
    assert Path(info.value.path()).read_bytes() == first.read_bytes()

    # When the owner makes the first version current again
    versions.nth(1).get_by_role("button", name="Make current").click()
    expect(page.locator("#message")).to_contain_text("is current now")
    expect(versions.nth(1)).to_have_attribute("data-current", "true")
    expect(page.locator("#details-title")).to_have_text(first.name)
    # the current version has no delete button; the other one does, and deleting it leaves one
    expect(versions.nth(1).get_by_role("button", name="Delete version")).to_have_count(0)
    versions.nth(0).get_by_role("button", name="Delete version").click()
    expect(page.locator("#message")).to_contain_text("Version deleted")
    expect(versions).to_have_count(1)
    expect(versions.first).to_have_attribute("data-current", "true")

    # When a version larger than the multipart threshold (5 MiB here) is uploaded: two parts
    big = tmp_path / "v3" / f"plan-{tag} (big).txt"
    big.parent.mkdir()
    big.write_bytes(b"0123456789abcdef" * (6 * 1024 * 1024 // 16))
    page.locator("#message").evaluate("node => { node.textContent = ''; }")
    dialog.get_by_label("Upload a new version").set_input_files(str(big))
    expect(page.locator("#message")).to_contain_text("is the current version now")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_have_attribute("data-current", "true")
    expect(page.locator("#details-title")).to_have_text(big.name)

    # And a viewer of the shared file sees no versions section (the owner's alone)
    dialog.get_by_label("Their email").fill(friend_email)
    dialog.get_by_role("button", name="Share").click()
    expect(dialog.locator("#shares")).to_contain_text(friend_email)
    dialog.get_by_role("button", name="Close").click()
    friend.page.get_by_role("link", name="Shared with me").click()
    friend.page.locator("#shared-body tr", has_text=big.name).get_by_role("button", name="Preview").click()
    expect(friend.page.locator("#versions-title")).to_be_hidden()
    assert not owner.console_errors and not friend.console_errors
