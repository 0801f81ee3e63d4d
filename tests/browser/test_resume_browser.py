"""A large upload survives a page reload midway and a dropped connection, then is verified.

The page keeps an unfinished multipart upload's ids in localStorage; after a reload the user
chooses the same file again and the page resumes it (GET /files/{id}/parts: the parts S3 already
holds are skipped). A dropped connection (the browser goes offline) pauses the parts, which carry
on when it is back. The file ends ready with the SHA-256 of the local bytes.

The default run uses 30 MiB (6 parts of 5 MiB). The 1 GiB run (``make test-big-upload``, which sets
``FILESHARE_BIG_UPLOAD=1``) is kept out of the default run because it writes 1 GiB into LocalStack
twice (the browser's upload and a raw S3 PUT of the same bytes for comparison) and takes minutes on
two shared cores; it prints the browser's upload throughput next to the raw PUT's.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.browser.conftest import PART_BYTES, Browser, signed_in

pytestmark = pytest.mark.browser
MIB = 1024 * 1024
BIG = os.environ.get("FILESHARE_BIG_UPLOAD") == "1"


def make_file(tmp_path: Path, size: int) -> tuple[Path, str]:
    path = tmp_path / f"resume-{uuid.uuid4().hex[:8]}.bin"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, 16 * MIB))
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    return path, digest.hexdigest()


class PartGate:
    """Counts the part PUTs S3 accepted and can hold every further one (to reload mid-upload)."""

    def __init__(self, page: Any, let_through: int | None = None) -> None:
        self.passed = 0
        self.routed = 0
        self.let_through = let_through  # hold every part request after this many
        self.holding = False
        page.on("response", self._on_response)

    def _on_response(self, response: Any) -> None:
        if response.request.method == "PUT" and "partNumber" in response.url and response.status == 200:
            self.passed += 1

    def __call__(self, route: Any) -> None:
        if "partNumber" not in route.request.url or route.request.method != "PUT":
            route.continue_()
            return
        if self.holding or (self.let_through is not None and self.routed >= self.let_through):
            return  # left hanging: the reload cancels it
        self.routed += 1
        route.continue_()


def wait_until(page: Any, condition: Any, timeout_s: float, what: Any) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        page.wait_for_timeout(100)


def upload_bytes(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("() => Object.values(window.fileshareUploadState())"))


def run_resume(browser: Browser, aws: dict[str, str], tmp_path: Path, size: int) -> dict[str, Any]:
    from playwright.sync_api import expect

    page = browser.page
    s3_url = urlsplit(aws["AWS_ENDPOINT_URL"])
    s3_pattern = f"{s3_url.scheme}://{s3_url.netloc}/**"
    path, sha256 = make_file(tmp_path, size)
    parts = -(-size // PART_BYTES)
    signed_in(browser)

    # Given an upload that has sent about a third of its parts
    before_reload = max(2, parts // 3)
    gate = PartGate(page, let_through=before_reload)
    page.route(s3_pattern, gate)
    page.locator("#file-input").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    wait_until(page, lambda: gate.passed >= before_reload, 600, f"{before_reload} parts")
    # When the page is reloaded midway. The gate stays in place through the reload: removing the
    # last route turns Chromium's request interception off, which sends every part it was holding
    # (seen in CI: five of six parts reached S3 before the reload, leaving one to resume). The
    # reload cancels the held requests; only then is the gate removed.
    page.remove_listener("response", gate._on_response)
    page.reload()
    page.unroute_all(behavior="ignoreErrors")
    # Then it is still signed in and tells about the unfinished upload
    expect(page.locator("#message")).to_contain_text(f"Unfinished upload: {path.name}")

    # When the same file is chosen again and Upload pressed, and the connection drops midway
    after = PartGate(page)
    page.locator("#file-input").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    item = page.locator("#queue li", has_text=path.name)
    expect(item.locator(".detail")).to_contain_text("resumed")
    wait_until(page, lambda: after.passed >= 2, 3600 if size > 100 * MIB else 120,
               lambda: f"two parts after the reload: {upload_bytes(page)} {browser.console_errors[-8:]}")
    browser.context.set_offline(True)
    page.wait_for_timeout(2000)
    assert item.locator(".ustatus").inner_text() != "Ready"
    browser.context.set_offline(False)
    reconnected = time.monotonic()
    bytes_at_reconnect = max((u["bytes"] for u in upload_bytes(page)), default=0)
    # Then the upload carries on by itself, skips what S3 held, and completes
    wait_until(page, lambda: item.locator(".ustatus").inner_text() in ("Checking", "Ready"),
               3600 if size > 100 * MIB else 120,
               lambda: f"the upload to finish: {upload_bytes(page)} {browser.console_errors[-8:]}")
    finished = time.monotonic()
    expect(item.locator(".ustatus")).to_have_text("Ready", timeout=600_000)
    detail = item.locator(".detail").inner_text()
    skipped = int(detail.split(" parts already uploaded")[0].rsplit(" ", 1)[-1])
    assert skipped >= before_reload, detail
    assert after.passed < parts, (after.passed, parts)  # fewer part PUTs than a fresh upload needs

    # And the stored file is exactly the local bytes (the processor's SHA-256)
    token = page.evaluate("() => JSON.parse(sessionStorage.getItem('fileshare.tokens')).id_token")
    files = requests.get(f"{browser.base_url}/files", headers={"Authorization": f"Bearer {token}"},
                         timeout=30).json()["items"]
    record = next(f for f in files if f["name"] == path.name)
    assert record["status"] == "ready" and record["size"] == size
    assert record["checksum_sha256"] == sha256
    # no leftover resume record
    assert page.evaluate("() => localStorage.getItem('fileshare.uploads')") in (None, "{}")
    return {"bytes_after_reconnect": size - bytes_at_reconnect, "seconds": finished - reconnected,
            "path": str(path)}


def test_upload_survives_reload_and_dropped_connection(browser: Browser, aws: dict[str, str],
                                                       tmp_path: Path) -> None:
    run_resume(browser, aws, tmp_path, 6 * PART_BYTES)


@pytest.mark.skipif(not BIG, reason="1 GiB upload: minutes on shared cores; `make test-big-upload` runs it")
def test_1gib_upload_survives_reload_and_dropped_connection(browser: Browser, aws: dict[str, str], s3: Any,
                                                            tmp_path: Path) -> None:
    size = 1024 * MIB
    numbers = run_resume(browser, aws, tmp_path, size)
    browser_mib_s = numbers["bytes_after_reconnect"] / MIB / numbers["seconds"]
    # The same bytes with one raw S3 PUT (a presigned PUT of the whole file, no browser), same run
    key = f"bench/raw-put-{uuid.uuid4().hex[:8]}.bin"
    url = s3.generate_presigned_url("put_object", Params={"Bucket": aws["UPLOAD_BUCKET"], "Key": key},
                                    ExpiresIn=3600)
    with Path(numbers["path"]).open("rb") as body:
        started = time.monotonic()
        put = requests.put(url, data=body, headers={"Content-Length": str(size)}, timeout=3600)
        raw_s = time.monotonic() - started
    assert put.status_code == 200, put.text[:300]
    s3.delete_object(Bucket=aws["UPLOAD_BUCKET"], Key=key)
    raw_mib_s = size / MIB / raw_s
    resumed_mib = numbers["bytes_after_reconnect"] / MIB
    print(f"\nbrowser multipart upload (after the reconnect, {resumed_mib:.0f} MiB):"
          f" {browser_mib_s:.1f} MiB/s; raw S3 PUT of the same 1 GiB: {raw_mib_s:.1f} MiB/s"
          f" (browser/raw = {browser_mib_s / raw_mib_s:.2f})")
