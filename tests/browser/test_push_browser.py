"""The page updates from pushes: its socket to the local WebSocket API (``lambdarun.sockets``).

Given a signed-in page whose socket is up (``html[data-push=up]``), when a file is uploaded through
the page, then it turns ready (the list is not polled while the socket is up); when the file is
renamed from another client, the page's row shows the new name without asking the API for the list.
(A drop and its resume from the cursor: tests/integration/push.)
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import WAIT_MS, Browser, api_token, signed_in, upload_ready
from tests.support.runtime import Gateway

pytestmark = pytest.mark.browser

LIST_CALLS = re.compile(r"/(files|folders|search|shared-with-me)(\?|$)")


def _list_calls(requests_seen: list[str]) -> list[str]:
    return [url for url in requests_seen if LIST_CALLS.search(url)]


def test_the_page_updates_from_pushes(browser: Browser, web: Gateway, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    signed_in(browser)
    page = browser.page
    expect(page.locator("html[data-push=up]")).to_have_count(1, timeout=WAIT_MS)

    path = tmp_path / f"pushed-{uuid.uuid4().hex[:8]}.txt"
    path.write_text("pushed to the page\n")
    upload_ready(page, path)  # ready arrives as a push: the list is not polled while the socket is up
    row = page.locator("#files-body tr", has_text=path.name)
    file_id = row.get_attribute("data-file-id")

    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    renamed = f"renamed-{uuid.uuid4().hex[:8]}.txt"
    reply = requests.patch(f"{web.url}/files/{file_id}", json={"name": renamed},
                           headers={"Authorization": api_token(page)}, timeout=10)
    assert reply.status_code == 200, reply.text
    expect(page.locator(f'#files-body tr[data-file-id="{file_id}"] .fname')).to_have_text(renamed,
                                                                                        timeout=WAIT_MS)
    assert _list_calls(seen) == []  # the change came with the push, not from a re-query
