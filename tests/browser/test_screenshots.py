"""Every view at desktop and phone width: accessible names, axe-core, keyboard, 375 px, screenshots.

For each width a fresh user walks every view (log in, register, files with uploads, a file's
details, notifications, shared with me, trash, the public link page). On each: axe-core (from npm,
injected into the page) must report no violation of serious or critical impact, the phone width
must not scroll sideways, and a screenshot goes to ``.local/screenshots/<view>-<width>.png``
(``make screenshots`` runs only this file).
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, Browser, signed_in, upload_ready

pytestmark = pytest.mark.browser


def check_view(browser: Browser, name: str, width_name: str, width: int) -> None:
    page = browser.page
    page.wait_for_timeout(150)  # let the last render settle before the screenshot
    browser.screenshot(f"{name}-{width_name}")
    violations = browser.axe()
    assert not violations, (name, width_name, violations)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= width + 1, f"{name} at {width} px scrolls sideways ({overflow} px wide)"


def accessible_names(page: Any) -> None:
    """The names issue 10 asks for, each found by its role (what assistive technology sees)."""
    from playwright.sync_api import expect

    expect(page.get_by_role("searchbox", name="Search files")).to_be_visible()
    expect(page.get_by_role("button", name="Upload", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Trash", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Shared with me", exact=True)).to_be_visible()
    for label in ("Download", "Move to trash"):
        expect(page.get_by_role("button", name=label, exact=True).first).to_be_visible()
    assert page.locator('input[type="file"][multiple]').count() == 1


@pytest.mark.parametrize(("width_name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_every_view_is_accessible_and_photographed(new_browser: Callable[..., Browser], tmp_path: Path,
                                                   width_name: str, viewport: dict[str, int]) -> None:
    from playwright.sync_api import expect

    browser = new_browser(viewport)
    page = browser.open("/")
    width = viewport["width"]
    check_view(browser, "login", width_name, width)
    page.get_by_role("button", name="Create an account").click()
    check_view(browser, "register", width_name, width)
    page.get_by_role("button", name="I have an account").click()

    signed_in(browser)
    image = tmp_path / f"sunset-{uuid.uuid4().hex[:4]}.png"
    picture = Image.new("RGB", (160, 100))
    picture.putdata([(200 + x % 50, 90 + y, 60) for y in range(100) for x in range(160)])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    image.write_bytes(buffer.getvalue())
    notes = tmp_path / f"meeting-notes-{uuid.uuid4().hex[:4]}.txt"
    notes.write_bytes(b"agenda\n" * 50)
    old = tmp_path / f"old-draft-{uuid.uuid4().hex[:4]}.txt"
    old.write_bytes(b"draft\n")
    upload_ready(page, image, notes, old)
    accessible_names(page)
    check_view(browser, "files", width_name, width)

    # a file's details: preview, rename and tags, share, links
    page.locator("#files-body tr", has_text=image.name).get_by_role("button", name="Details").click()
    dialog = page.get_by_role("dialog", name=image.name)
    expect(dialog.get_by_role("img", name=f"Preview of {image.name}")).to_be_visible()
    expect(dialog.get_by_role("button", name="Share", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.locator("#links li")).to_have_count(1)
    link_url = dialog.get_by_label("New link").input_value()
    check_view(browser, "details", width_name, width)
    dialog.get_by_role("button", name="Close").click()

    # notifications (a dialog named "Notifications")
    expect(page.get_by_role("button", name=re.compile(r"^Notifications, [1-9]\d* unread$"))).to_be_visible(
        timeout=60_000)
    page.get_by_role("button", name=re.compile(r"^Notifications")).click()
    expect(page.get_by_role("dialog", name="Notifications")).to_be_visible()
    expect(page.get_by_role("dialog", name="Notifications").locator("li").first).to_be_visible()
    check_view(browser, "notifications", width_name, width)
    page.get_by_role("dialog", name="Notifications").get_by_role("button", name="Close").click()

    page.get_by_role("link", name="Shared with me").click()
    expect(page.locator("#shared-body")).to_contain_text("Nothing is shared with you yet.")
    check_view(browser, "shared-with-me", width_name, width)

    page.get_by_role("link", name="My files").click()
    page.locator("#files-body tr", has_text=old.name).get_by_role("button", name="Move to trash").click()
    page.get_by_role("link", name="Trash").click()
    expect(page.locator("#trash-body tr", has_text=old.name)).to_be_visible()
    expect(page.get_by_role("button", name="Restore")).to_be_visible()
    expect(page.get_by_role("button", name="Delete forever")).to_be_visible()
    check_view(browser, "trash", width_name, width)

    # the public link page, as someone else's browser opens it
    stranger = new_browser(viewport)
    stranger.page.goto(browser.base_url + "/s/" + link_url.rsplit("/s/", 1)[1])
    expect(stranger.page.get_by_role("button", name="Download")).to_be_visible()
    check_view(stranger, "link-page", width_name, width)
    assert not browser.console_errors, browser.console_errors
    assert sorted(p.name for p in SCREENSHOTS.glob(f"*-{width_name}.png")) >= sorted(
        f"{v}-{width_name}.png" for v in ("details", "files", "link-page", "login", "notifications",
                                         "register", "shared-with-me", "trash"))


def test_keyboard_only(browser: Browser, tmp_path: Path) -> None:
    """Tab reaches the file picker, Upload and the search box; Enter searches; Escape closes a dialog."""
    from playwright.sync_api import expect

    page = browser.page
    signed_in(browser)

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    page.locator("body").focus()
    tab_to("#file-input")
    tab_to("#upload")
    tab_to("#search-q")
    page.keyboard.type("nothing-like-this")
    page.keyboard.press("Enter")
    expect(page.locator("#search-summary")).to_have_text("0 results")
    page.keyboard.press("Shift+Tab")
    page.locator("#notifications-button").focus()  # in the header, before the content in Tab order
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Notifications")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Notifications")).to_be_hidden()
