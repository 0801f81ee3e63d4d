"""A real browser (Debian's Chromium via Playwright) uses the web page end to end.

Given the local runtime serving the page and API on http://localhost:8080, when a fresh user
registers, logs in and uploads a file through the page, then the bytes go straight to LocalStack S3
(cross-origin, so the bucket's CORS is exercised), the progress bar reaches 100 %, the file is
listed as ready, and its download link returns the same bytes. Small files use the presigned POST;
a second test lowers the multipart threshold for its own gateway and proves the multipart path
(PUT per part, ETags read through CORS, POST /files/{id}/complete).
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from botocore.config import Config
from PIL import Image

from tests.support import mailbox
from tests.support.runtime import (
    REPO_ROOT,
    Gateway,
    GatewayBusyError,
    RuntimeUnavailableError,
    load_stack_env,
    running_gateway,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / ".local" / "screenshots"
PASSWORD = "Br0wser!Passw0rd"
WAIT_MS = 30_000  # how long to wait for the page to reach a state (a limit, not a timing assertion)
PART_BYTES = 5 * 1024 * 1024  # S3's smallest part size
MULTIPART_ENV = {"MULTIPART_THRESHOLD_BYTES": str(PART_BYTES + 1), "MULTIPART_PART_BYTES": str(PART_BYTES)}


@pytest.fixture(scope="module")
def aws() -> dict[str, str]:
    names = ("AWS_ENDPOINT_URL", "UPLOAD_BUCKET")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.skip(f"local stack not configured (missing {', '.join(missing)}); run `make up` first")
    return {name: os.environ[name] for name in names}


@pytest.fixture
def gateway(aws: dict[str, str]) -> Iterator[Gateway]:
    try:
        with running_gateway(log_name="serve-browser-test") as gw:
            yield gw
    except RuntimeUnavailableError as exc:
        pytest.fail(f"local runtime unavailable: {exc}")


@pytest.fixture
def multipart_gateway(aws: dict[str, str], tmp_path: Path) -> Iterator[Gateway]:
    """A gateway of its own whose files function switches to multipart above 5 MiB."""
    env_file = tmp_path / "gateway.env"
    env = {**load_stack_env(), **MULTIPART_ENV}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    try:
        with running_gateway(log_name="serve-browser-test", reuse=False,
                             args=["--env-file", str(env_file)]) as gw:
            yield gw
    except GatewayBusyError as exc:
        pytest.skip(f"needs its own gateway with a small multipart threshold: {exc}")
    except RuntimeUnavailableError as exc:
        pytest.fail(f"local runtime unavailable: {exc}")


@pytest.fixture(scope="module")
def s3(aws: dict[str, str]) -> Any:
    return boto3.client(
        "s3", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(s3={"addressing_style": "path"}),
    )


@pytest.fixture
def png(tmp_path: Path) -> Path:
    """A small real PNG (a gradient)."""
    image = Image.new("RGB", (96, 64))
    image.putdata([(x * 2, y * 3, 128) for y in range(64) for x in range(96)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path = tmp_path / f"browser-{uuid.uuid4().hex[:8]}.png"
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def browser_page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: `apt-get install -y chromium` (make test installs it)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 760})
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            yield page
        finally:
            browser.close()


@dataclass
class Traffic:
    """What the page sent to S3 and what POST /files answered, seen from the browser."""

    s3_port: int | None
    s3_requests: list[tuple[str, str]] = field(default_factory=list)
    s3_responses: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("console", lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None)

    def _on_request(self, request: Any) -> None:
        if urlsplit(request.url).port == self.s3_port:
            self.s3_requests.append((request.method, request.url))

    def _on_response(self, response: Any) -> None:
        if urlsplit(response.url).port == self.s3_port:
            self.s3_responses.append({"method": response.request.method, "status": response.status,
                                      "headers": response.headers})
        elif response.request.method == "POST" and urlsplit(response.url).path == "/files":
            self.created.append(json.loads(response.body()))


def sign_up_and_in(page: Any, base_url: str) -> str:
    """Register a fresh user through the page, then log in; returns the email."""
    from playwright.sync_api import expect

    email = f"browser-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(base_url + "/")
    expect(page).to_have_title("Fileshare")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#message")).to_contain_text("Account created")
    page.get_by_label("Confirmation code").fill(mailbox.confirmation_code(email))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#message")).to_contain_text("is confirmed")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#session-email")).to_have_text(email)
    expect(page.locator("#files-app")).to_be_visible()
    return email


def upload_until_ready(page: Any, path: Path) -> Any:
    """Choose ``path``, upload it, wait for 100 % and for its row to say ready; returns the row."""
    from playwright.sync_api import expect

    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#progress")).to_have_attribute("value", "100")
    expect(page.locator("#progress-text")).to_contain_text("100 %")
    row = page.locator("#files-body tr", has_text=path.name)
    expect(row.locator(".status")).to_have_text("ready")
    expect(page.locator("#message")).to_contain_text(f"{path.name} is ready")
    return row


def download_bytes(page: Any, row: Any, name: str) -> bytes:
    with page.expect_download() as download_info:
        row.get_by_role("link", name=f"Download {name}").click()
    return Path(download_info.value.path()).read_bytes()


def test_register_login_upload_and_list_ready(
    gateway: Gateway, aws: dict[str, str], s3: Any, png: Path, browser_page: Any
) -> None:
    page = browser_page
    traffic = Traffic(urlsplit(aws["AWS_ENDPOINT_URL"]).port)  # LocalStack: another origin than the page
    traffic.watch(page)

    # Given a fresh user signed in through the page
    sign_up_and_in(page, gateway.url)

    # When they upload a PNG, then the progress bar reaches 100 % and the file is listed as ready
    row = upload_until_ready(page, png)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "upload-browser.png"), full_page=True)

    # And the bytes went from the browser straight to S3, cross-origin, accepted with CORS headers
    assert traffic.created, "the page never called POST /files"
    upload = traffic.created[0]["upload"]
    assert upload["method"] == "POST"
    s3_url = urlsplit(upload["url"])
    assert s3_url.port == traffic.s3_port and f"{s3_url.scheme}://{s3_url.netloc}" != gateway.url
    posts = [r for r in traffic.s3_responses if r["method"] == "POST"]
    assert posts and all(r["status"] in (200, 201, 204) for r in posts), traffic.s3_responses
    assert posts[-1]["headers"].get("access-control-allow-origin") in (gateway.url, "*"), posts[-1]
    assert any(m == "POST" and urlsplit(u)[:3] == s3_url[:3] for m, u in traffic.s3_requests)

    # And the object really is in LocalStack S3, byte for byte, with its content type
    stored = s3.get_object(Bucket=aws["UPLOAD_BUCKET"], Key=upload["fields"]["key"])
    assert stored["Body"].read() == png.read_bytes()
    assert stored["ContentType"] == "image/png"

    # And the download link hands back the same bytes
    assert download_bytes(page, row, png.name) == png.read_bytes()
    assert not traffic.console_errors, traffic.console_errors


def test_large_file_goes_multipart_with_etags_through_cors(
    multipart_gateway: Gateway, aws: dict[str, str], s3: Any, browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page
    traffic = Traffic(urlsplit(aws["AWS_ENDPOINT_URL"]).port)
    traffic.watch(page)
    big = tmp_path / f"big-{uuid.uuid4().hex[:8]}.bin"
    big.write_bytes(os.urandom(2 * PART_BYTES + 12345))  # three parts, the last one short

    # Given a signed-in user, when they upload a file above the multipart threshold
    sign_up_and_in(page, multipart_gateway.url)
    page.evaluate("""() => {
        window.progressSeen = [];
        const bar = document.getElementById("progress");
        new MutationObserver(() => window.progressSeen.push(Number(bar.value)))
            .observe(bar, {attributes: true, attributeFilter: ["value"]});
    }""")
    row = upload_until_ready(page, big)

    # Then the progress bar moved through the parts before reaching 100 %
    seen = page.evaluate("window.progressSeen")
    assert any(0 < value < 100 for value in seen) and seen[-1] == 100, seen

    # And the page PUT three parts straight to S3 and read their ETags (exposed by the bucket's CORS)
    upload = traffic.created[0]["upload"]
    assert upload["method"] == "MULTIPART" and len(upload["parts"]) == 3
    puts = [r for r in traffic.s3_responses if r["method"] == "PUT"]
    assert len(puts) == 3 and all(r["status"] == 200 and r["headers"].get("etag") for r in puts), puts
    assert all(r["headers"].get("access-control-allow-origin") == multipart_gateway.url for r in puts)

    # And S3 assembled the object from the parts, and the download returns the same bytes
    key = unquote(urlsplit(upload["parts"][0]["url"]).path.split("/", 2)[2])
    head = s3.head_object(Bucket=aws["UPLOAD_BUCKET"], Key=key)
    assert head["ContentLength"] == big.stat().st_size and head["ETag"].strip('"').endswith("-3")
    assert download_bytes(page, row, big.name) == big.read_bytes()
    assert not traffic.console_errors, traffic.console_errors
