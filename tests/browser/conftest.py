"""Browser tests: Debian's Chromium driven by Playwright against the real local stack.

One gateway for the whole session (``localstack/serve.py`` with its pollers, on a free port so it
never collides with ``make dev`` on :8080), with the multipart threshold and part size lowered to
S3's 5 MiB minimum so a few MiB exercise the multipart path. The bucket's CORS rule is extended
with that origin (additively; the provisioned origins stay). The page must have been bundled
(``make web``); axe-core comes from the same npm install.

The gateway sends the production headers (``infra.web_headers``: the CSP with LocalStack's S3 origin),
and every browser records CSP violations (the ``securitypolicyviolation`` event and Chromium's
console report): a test that caused one fails at teardown.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from infra.declaration import SOCKET_API
from tests.support.pipeline import free_port
from tests.support.runtime import REPO_ROOT, Gateway, RuntimeUnavailableError, load_test_env, running_gateway

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
]
SCREENSHOTS = REPO_ROOT / ".local" / "screenshots"
BUNDLE = REPO_ROOT / "web" / "dist" / "app.js"
AXE = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "Br0wser!Passw0rd"
WAIT_MS = 30_000  # how long to wait for the page to reach a state (a limit, not a timing assertion)
PART_BYTES = 5 * 1024 * 1024  # S3's smallest part size
DESKTOP = {"width": 1280, "height": 860}
CSP_MARK = "csp-violation:"
# In every page and frame of a browser context, before the page's own scripts.
CSP_LISTENER = ("document.addEventListener('securitypolicyviolation', (e) => console.warn("
                f"'{CSP_MARK} ' + e.effectiveDirective + ' blocked ' + e.blockedURI + ' at ' + e.sourceFile"
                " + ':' + e.lineNumber));")
PHONE = {"width": 375, "height": 740}


def s3_client() -> Any:
    return boto3.client(
        "s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(s3={"addressing_style": "path"}))


def allow_origin(s3: Any, bucket: str, origin: str) -> None:
    """Add ``origin`` to the bucket's CORS rules (keeps what is there), exposing ETag and Location."""
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    rule = rules[0]
    changed = False
    if origin not in rule["AllowedOrigins"]:
        rule["AllowedOrigins"].append(origin)
        changed = True
    for header in ("ETag", "Location"):
        if header not in rule.setdefault("ExposeHeaders", []):
            rule["ExposeHeaders"].append(header)
            changed = True
    if changed:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})


@pytest.fixture(scope="session")
def aws() -> dict[str, str]:
    names = ("AWS_ENDPOINT_URL", "UPLOAD_BUCKET")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.skip(f"local stack not configured (missing {', '.join(missing)}); run `make up` first")
    return {name: os.environ[name] for name in names}


@pytest.fixture(scope="session")
def s3(aws: dict[str, str]) -> Any:
    return s3_client()


@pytest.fixture(scope="module")
def web(aws: dict[str, str], s3: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The page and API on a gateway of this test module's own (see the module docstring). Module
    scope: it stops with its module, so its pollers (SQS, Kafka, the relay's schedule) never take
    the records of tests that run after it (the ops page's traffic, the in-process pipeline tests)."""
    if not BUNDLE.exists() or not AXE.exists():
        pytest.fail("the web bundle or axe-core is missing: run `make web` (make test does)")
    port, socket_port = free_port(), free_port()
    allow_origin(s3, aws["UPLOAD_BUCKET"], f"http://localhost:{port}")
    env = {**load_test_env(), "MULTIPART_THRESHOLD_BYTES": str(PART_BYTES + 1),
           "MULTIPART_PART_BYTES": str(PART_BYTES), "WEB_ORIGIN": f"http://localhost:{port}",
           "RATE_LIMIT_PER_MINUTE": "0", "READ_RATE_LIMIT_PER_MINUTE": "0",
           # the push socket of this gateway, and its @connections endpoint (lambdarun.sockets)
           "SOCKET_URL": f"ws://127.0.0.1:{socket_port}",
           "PUSH_ENDPOINT": f"http://127.0.0.1:{port}/_ws/{SOCKET_API.stage}"}
    env_file = tmp_path_factory.mktemp("gateway") / "gateway.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    try:
        with running_gateway(log_name="serve-browser-test", reuse=False, port=port,
                             args=["--env-file", str(env_file)], extra_env=env) as gateway:
            yield gateway
    except RuntimeUnavailableError as exc:
        pytest.fail(f"local runtime unavailable: {exc}")


@pytest.fixture(scope="module")  # module: other browser test files start Playwright themselves
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: `apt-get install -y chromium` (make test installs it)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Browser:
    """One browser context (its own storage) on the page, with what the tests need around it."""

    context: Any
    page: Any
    base_url: str
    console_errors: list[str]
    csp_violations: list[str]

    def open(self, path: str = "/") -> Any:
        self.page.goto(self.base_url + path)
        return self.page

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # evaluated through the DevTools protocol: an injected <script> would be inline script,
            # which the page's CSP blocks (and the test would then fail on the violation)
            self.page.evaluate(AXE.read_text())
        result = self.page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))"
                                    ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                                    " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))")
        return [v for v in result if v["impact"] in ("serious", "critical")]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def new_browser(chromium: Any, web: Gateway) -> Iterator[Callable[..., Browser]]:
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Browser:
        context = chromium.new_context(accept_downloads=True, viewport=viewport or DESKTOP)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        violations: list[str] = []
        context.add_init_script(CSP_LISTENER)

        def on_console(msg: Any) -> None:
            if msg.type == "error":
                errors.append(msg.text)
            if CSP_MARK in msg.text or "Content Security Policy" in msg.text:
                violations.append(msg.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())  # "Delete forever?" confirmations
        browsers.append(Browser(context, page, web.url, errors, violations))
        return browsers[-1]

    browsers: list[Browser] = []
    yield make
    for context in contexts:
        context.close()
    violations = [v for b in browsers for v in b.csp_violations]
    assert not violations, f"CSP violations: {violations}"


@pytest.fixture
def browser(new_browser: Callable[..., Browser]) -> Browser:
    return new_browser()


# ---- accounts through the page ------------------------------------------------------------------

def fresh_email(tag: str = "browser") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def mailbox_code(email: str, *, after: float, timeout_s: float = 20.0) -> str:
    """The newest code mailed to ``email`` (LocalStack's SES mailbox) since ``after`` (epoch s)."""
    endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        messages = requests.get(f"{endpoint}/_aws/ses", timeout=10).json().get("messages", [])
        for message in reversed(messages):
            to = (message.get("Destination") or {}).get("ToAddresses") or []
            body = json.dumps(message.get("Body") or message.get("RawData") or "")
            if email in to and _sent_after(message, after) and (match := re.search(r"\b(\d{6})\b", body)):
                return match.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no code mailed to {email} within {timeout_s:.0f} s")


def _sent_after(message: dict[str, Any], after: float) -> bool:
    from datetime import datetime

    stamp = message.get("Timestamp")
    if not stamp:
        return True
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp() >= after - 2
    except ValueError:
        return True


def register(page: Any, email: str, password: str = PASSWORD) -> None:
    """Register through the page; confirms with the mailed code when the API asks for it."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Create an account").click()
    form = page.locator("#register-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password", exact=True).fill(password)
    started = time.time()
    with page.expect_response(lambda r: r.url.endswith("/auth/register")) as info:
        page.get_by_role("button", name="Register").click()
    created = info.value.json()
    expect(page.locator("#message")).to_contain_text("Account created")
    if created.get("confirmation_required"):
        expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
        page.get_by_label("Confirmation code").fill(mailbox_code(email, after=started))
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("#message")).to_contain_text("Email confirmed")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def log_in(page: Any, email: str, password: str = PASSWORD) -> None:
    from playwright.sync_api import expect

    form = page.locator("#login-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Log in").click()
    expect(page.locator("#session-email")).to_have_text(email)
    expect(page.locator("#files-app")).to_be_visible()


def signed_in(browser: Browser, email: str | None = None) -> str:
    """A fresh user, registered and logged in through the page; returns the email."""
    email = email or fresh_email()
    page = browser.open("/")
    register(page, email)
    log_in(page, email)
    return email


# ---- files through the page ---------------------------------------------------------------------

def upload_ready(page: Any, *paths: Path) -> None:
    """Choose ``paths``, press Upload and wait until each is ready in the list."""
    from playwright.sync_api import expect

    page.locator("#file-input").set_input_files([str(p) for p in paths])
    page.get_by_role("button", name="Upload").click()
    for path in paths:
        expect(page.locator("#files-body tr", has_text=path.name).locator(".status")).to_have_text("ready")


def api_token(page: Any) -> str:
    return str(page.evaluate("() => JSON.parse(sessionStorage.getItem('fileshare.tokens')).id_token"))
