"""Uploads through the page (Uppy + @uppy/aws-s3), straight from the browser to LocalStack S3.

Given the gateway of this session (multipart above 5 MiB, 5 MiB parts), a fresh user registers and
logs in through the page. Small files go up with the presigned POST, large ones as S3 multipart
with parts in parallel, signed on demand; several files at once through the multiple-file input or
drag and drop; per-file progress with speed and time left; cancel (the multipart upload is aborted)
and retry after a dropped connection (resumes, skipping the parts S3 holds); and a reload midway
resumes the upload after the same file is chosen again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from PIL import Image

from tests.browser.conftest import PART_BYTES, Browser, signed_in

pytestmark = pytest.mark.browser


def png_file(tmp_path: Path, name: str | None = None) -> Path:
    image = Image.new("RGB", (96, 64))
    image.putdata([(x * 2, y * 3, 128) for y in range(64) for x in range(96)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path = tmp_path / (name or f"browser-{uuid.uuid4().hex[:8]}.png")
    path.write_bytes(buffer.getvalue())
    return path


def random_file(tmp_path: Path, size: int, suffix: str = ".bin") -> Path:
    path = tmp_path / f"big-{uuid.uuid4().hex[:8]}{suffix}"
    with path.open("wb") as out:
        left = size
        while left:
            chunk = min(left, 8 * 1024 * 1024)
            out.write(os.urandom(chunk))
            left -= chunk
    return path


class S3Traffic:
    """What the page sent to S3 (another origin than the page), seen from the browser."""

    def __init__(self, page: Any, s3_port: int | None) -> None:
        self.port = s3_port
        self.responses: list[dict[str, Any]] = []
        self.created: list[dict[str, Any]] = []
        page.on("response", self._on_response)

    def _on_response(self, response: Any) -> None:
        url = urlsplit(response.url)
        if url.port == self.port:
            self.responses.append({"method": response.request.method, "status": response.status,
                                   "headers": response.headers, "url": response.url})
        elif response.request.method == "POST" and url.path == "/files" and response.status == 201:
            self.created.append(response.json())
        elif response.request.method == "POST" and url.path == "/files/batch" and response.status == 200:
            # the page starts its uploads in batches: each accepted entry as POST /files answers it
            self.created.extend(i for i in response.json()["items"] if i["upload"])

    def part_puts(self) -> list[dict[str, Any]]:
        return [r for r in self.responses if r["method"] == "PUT" and "partNumber" in r["url"]]


def queue_item(page: Any, name: str) -> Any:
    return page.locator("#queue li", has_text=name)


def file_row(page: Any, name: str) -> Any:
    return page.locator("#files-body tr", has_text=name)


def choose(page: Any, *paths: Path) -> None:
    page.locator("#file-input").set_input_files([str(p) for p in paths])


def wait_ready(page: Any, name: str) -> Any:
    from playwright.sync_api import expect

    expect(queue_item(page, name).locator(".ustatus")).to_have_text("Ready")
    row = file_row(page, name)
    expect(row.locator(".status")).to_have_text("ready")
    return row


def download(page: Any, row: Any) -> bytes:
    with page.expect_download() as info:
        row.get_by_role("button", name="Download").click()
    return Path(info.value.path()).read_bytes()


def key_of(s3_url: str) -> str:
    return unquote(urlsplit(s3_url).path.split("/", 2)[2])


def test_several_files_at_once_by_picker_then_drop(browser: Browser, aws: dict[str, str], s3: Any,
                                                   tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.page
    traffic = S3Traffic(page, urlsplit(aws["AWS_ENDPOINT_URL"]).port)
    signed_in(browser)
    # The picker is a multiple-file input
    assert page.locator("#file-input").get_attribute("multiple") is not None

    # When two files are chosen at once and Upload is pressed
    first, second = png_file(tmp_path), random_file(tmp_path, 40_000, ".txt")
    choose(page, first, second)
    expect(queue_item(page, first.name)).to_be_visible()
    expect(queue_item(page, second.name)).to_be_visible()
    page.get_by_role("button", name="Upload").click()
    # Then each reaches 100 % and becomes ready in the list without a manual refresh
    for path in (first, second):
        row = wait_ready(page, path.name)
        expect(queue_item(page, path.name).locator("progress")).to_have_attribute("value", "100")
        assert download(page, row) == path.read_bytes()
    # And the bytes went straight to S3 (cross-origin presigned POSTs, CORS answered for this origin)
    posts = [r for r in traffic.responses if r["method"] == "POST"]
    assert len(posts) == 2 and all(r["status"] in (200, 201, 204) for r in posts), traffic.responses
    assert all(r["headers"].get("access-control-allow-origin") == browser.base_url for r in posts)
    for created in traffic.created:  # each POST signed with the file's SHA-256 (S3 checks the bytes)
        assert created["upload"]["method"] == "POST"
        assert created["upload"]["fields"].get("x-amz-checksum-sha256"), created["upload"]["fields"]
    stored = s3.get_object(Bucket=aws["UPLOAD_BUCKET"], Key=traffic.created[0]["upload"]["fields"]["key"])
    assert stored["Body"].read() in (first.read_bytes(), second.read_bytes())

    # When a third file is dropped on the drop zone
    dropped = png_file(tmp_path, f"dropped-{uuid.uuid4().hex[:6]}.png")
    data = list(dropped.read_bytes())
    page.evaluate("""([name, bytes]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "image/png"}));
        const zone = document.getElementById("dropzone");
        for (const type of ["dragover", "drop"]) {
            const init = {dataTransfer: transfer, bubbles: true, cancelable: true};
            zone.dispatchEvent(new DragEvent(type, init));
        }
    }""", [dropped.name, data])
    page.get_by_role("button", name="Upload").click()
    # Then it is uploaded too, and gets a thumbnail in the list
    row = wait_ready(page, dropped.name)
    expect(row.locator("img.thumb")).to_be_visible()
    assert not browser.console_errors, browser.console_errors


def test_multipart_parts_in_parallel_signed_on_demand(browser: Browser, aws: dict[str, str], s3: Any,
                                                     tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.page
    traffic = S3Traffic(page, urlsplit(aws["AWS_ENDPOINT_URL"]).port)
    signed: list[list[int]] = []
    page.on("request", lambda r: signed.append(r.post_data_json["part_numbers"])
            if r.method == "POST" and urlsplit(r.url).path.endswith("/parts") else None)
    signed_in(browser)
    big = random_file(tmp_path, 9 * PART_BYTES + 12345)  # ten parts, the last one short
    speeds: list[str] = []

    # When a file above the threshold is uploaded (over a link slow enough to watch its speed)
    s3_url = urlsplit(aws["AWS_ENDPOINT_URL"])

    def slow_link(route: Any) -> None:
        from playwright.sync_api import Error

        page.wait_for_timeout(250)
        with contextlib.suppress(Error):
            route.continue_()

    page.route(f"{s3_url.scheme}://{s3_url.netloc}/**", slow_link)
    choose(page, big)
    page.get_by_role("button", name="Upload").click()
    # Then the queue shows its progress with speed and time left while it goes up
    detail = queue_item(page, big.name).locator(".detail")
    expect(detail).to_contain_text("/s")
    speeds.append(detail.inner_text())
    row = wait_ready(page, big.name)

    # And it went multipart: POST /files signed the first batch, the page signed the rest on demand
    upload = traffic.created[0]["upload"]
    assert upload["method"] == "MULTIPART" and upload["part_count"] == 10
    assert len(upload["parts"]) < 10 and signed, (len(upload["parts"]), signed)
    assert sorted(n for batch in signed for n in batch if n > len(upload["parts"])) == list(
        range(len(upload["parts"]) + 1, 11))
    # And every part PUT went to S3 with an exact signed length and an ETag the page could read
    puts = traffic.part_puts()
    numbers = sorted(int(parse_qs(urlsplit(r["url"]).query)["partNumber"][0]) for r in puts)
    assert numbers == list(range(1, 11))
    assert all(r["status"] == 200 and r["headers"].get("etag") for r in puts), puts
    assert " left" in speeds[0] and re.search(r"\d [KMG]?B/s", speeds[0]), speeds
    head = s3.head_object(Bucket=aws["UPLOAD_BUCKET"], Key=key_of(puts[0]["url"]), ChecksumMode="ENABLED")
    assert head["ContentLength"] == big.stat().st_size and head["ETag"].strip('"').endswith("-10")
    # And S3 itself checked every part against the SHA-256 the page signed into its URL
    assert str(head.get("ChecksumSHA256", "")).endswith("-10"), head
    assert hashlib.sha256(download(page, row)).hexdigest() == hashlib.sha256(big.read_bytes()).hexdigest()
    assert not browser.console_errors, browser.console_errors


def test_cancel_aborts_and_a_dropped_connection_retries(browser: Browser, aws: dict[str, str], s3: Any,
                                                       tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.page
    traffic = S3Traffic(page, urlsplit(aws["AWS_ENDPOINT_URL"]).port)
    signed_in(browser)
    s3_origin = f"{urlsplit(aws['AWS_ENDPOINT_URL']).scheme}://{urlsplit(aws['AWS_ENDPOINT_URL']).netloc}"

    # Given a multipart upload whose parts are on their way (held at the browser's edge)
    slow = random_file(tmp_path, 4 * PART_BYTES + 1)
    held: list[Any] = []

    def hold(route: Any) -> None:
        if "partNumber" in route.request.url:
            held.append(route)
            return
        route.continue_()

    page.route(f"{s3_origin}/**", hold)
    choose(page, slow)
    page.get_by_role("button", name="Upload").click()
    deadline = time.monotonic() + 30
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert held, "no part request was sent"
    # When it is cancelled midway
    queue_item(page, slow.name).get_by_role("button", name="Cancel").click()
    expect(queue_item(page, slow.name).locator(".ustatus")).to_have_text("Cancelled")
    for route in held:
        with contextlib.suppress(Exception):
            route.abort()
    # Then the page aborted it: S3 holds no unfinished upload for it, the file is rejected
    file_id = traffic.created[0]["file_id"]
    expect(file_row(page, slow.name).locator(".status")).to_have_text("rejected")
    uploads = s3.list_multipart_uploads(Bucket=aws["UPLOAD_BUCKET"]).get("Uploads", [])
    assert not [u for u in uploads if f"/{file_id}/" in u["Key"]]
    page.unroute(f"{s3_origin}/**")

    # When the connection to S3 drops for good in the middle of another upload
    flaky = random_file(tmp_path, 4 * PART_BYTES + 7)
    sent: list[int] = []

    def drop_after_two(route: Any) -> None:
        if "partNumber" in route.request.url and len(sent) >= 2:
            route.abort("connectionreset")
            return
        sent.append(1)
        route.continue_()

    page.route(f"{s3_origin}/**", drop_after_two)
    choose(page, flaky)
    page.get_by_role("button", name="Upload").click()
    item = queue_item(page, flaky.name)
    # Then, after its retries with backoff, the upload fails and offers Retry (it was not aborted)
    expect(item.locator(".ustatus")).to_contain_text("Failed", timeout=90_000)
    # When the connection is back and Retry is pressed
    page.unroute(f"{s3_origin}/**")
    item.get_by_role("button", name="Retry").click()
    # Then it resumes (GET /files/{id}/parts: the parts S3 holds are skipped) and completes
    row = wait_ready(page, flaky.name)
    expect(item.locator(".detail")).to_contain_text(re.compile(r"\b[1-9]\d* parts already uploaded"))
    assert download(page, row) == flaky.read_bytes()
