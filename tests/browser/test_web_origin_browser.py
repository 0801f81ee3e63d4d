"""The one web origin as CloudFront serves it, locally: the page, ``/config.json``, the API and ``/s/*``
from one gateway with the production headers (``infra.web_headers``), and no CSP violation while the
app uploads, shows a thumbnail and a link page (with and without a password) downloads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from infra import web_headers
from tests.browser.conftest import Browser, api_token, load_test_env, signed_in, upload_ready
from tests.browser.test_app_browser import png, row


def _create_link(browser: Browser, name: str, password: str | None) -> str:
    headers = {"Authorization": f"Bearer {api_token(browser.page)}"}
    files = requests.get(f"{browser.base_url}/files", headers=headers, timeout=30).json()["items"]
    file_id = next(f["file_id"] for f in files if f["name"] == name)
    body: dict[str, Any] = {"expires_in": 3600}
    if password:
        body["password"] = password
    created = requests.post(f"{browser.base_url}/files/{file_id}/links", json=body, headers=headers,
                            timeout=30)
    assert created.status_code == 201, created.text
    url = str(created.json()["url"])
    return browser.base_url + "/s/" + url.rsplit("/s/", 1)[1]


def test_page_config_api_and_link_pages_share_one_origin_and_its_headers(
        new_browser: Callable[..., Browser], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    owner, stranger = new_browser(), new_browser()
    env = load_test_env()
    socket = requests.get(owner.base_url + "/config.json", timeout=30).json()["socket"]  # this gateway's
    expected = web_headers.local_security_headers({**env, "SOCKET_URL": socket})

    # The page, its config, an API route and a link page all carry the same headers
    for path in ("/", "/config.json", "/health", "/s/" + "x" * 43):
        got = requests.get(owner.base_url + path, headers={"Accept": "text/html"}, timeout=30)
        for name, value in expected.items():
            assert got.headers.get(name) == value, (path, name, got.headers.get(name))
    config = requests.get(owner.base_url + web_headers.CONFIG_PATH, timeout=30).json()
    assert config["api"] == "" and config["userPoolId"] == env["USER_POOL_ID"]
    assert set(config) == {"api", "socket", "region", "userPoolId", "userPoolClientId", "publicBaseUrl"}

    # When the owner signs in and uploads an image (S3 POST, then its thumbnail from S3)
    signed_in(owner)
    image = png(tmp_path, f"csp-{uuid.uuid4().hex[:6]}.png")
    upload_ready(owner.page, image)
    expect(row(owner.page, image.name).locator("img.thumb")).to_be_visible()

    # Then a stranger downloads through a link page without, and one with, a password
    for password in (None, "open sesame"):
        page_url = _create_link(owner, image.name, password)
        response = stranger.page.goto(page_url)
        assert response is not None and response.status == 200
        assert response.headers["content-security-policy"] == expected["Content-Security-Policy"]
        if password:  # the locked page names nothing; its script unlocks it (same origin, same CSP)
            expect(stranger.page.get_by_role("heading", name=image.name)).to_have_count(0)
            stranger.page.get_by_label("Password").fill(password)
            stranger.page.get_by_role("button", name="Unlock").click()
        expect(stranger.page.get_by_role("heading", name=image.name)).to_be_visible()
        with stranger.page.expect_download() as info:
            stranger.page.get_by_role("button", name="Download").click()
        assert Path(info.value.path()).read_bytes() == image.read_bytes()
    # (new_browser fails the test at teardown on any CSP violation in either browser)
    assert not owner.csp_violations and not stranger.csp_violations
    assert not stranger.console_errors, stranger.console_errors
