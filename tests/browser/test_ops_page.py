"""The local ops page (``GET /ops``) in a real browser, after real traffic.

Given a gateway of its own (``serve.py`` on a free port, with the SQS/Kafka pollers and schedules),
when a fresh user uploads, searches and gets notified through it, then ``/ops.json`` shows the
SLOs with samples from that traffic, the panels of ``infra/panels.py`` are all there, and Chromium
renders ``/ops`` with charts; the screenshot is saved as ``.local/screenshots/ops.png``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.declaration import FUNCTIONS
from infra.panels import panels
from infra.slos import SLOS
from tests.support.pipeline import free_port
from tests.support.runtime import REPO_ROOT, Gateway, RuntimeUnavailableError, running_gateway
from tests.support.traffic import Traffic, generate

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOT = REPO_ROOT / ".local" / "screenshots" / "ops.png"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    if not os.environ.get("AWS_ENDPOINT_URL"):
        pytest.skip("local stack not configured (no AWS_ENDPOINT_URL); run `make up` first")
    try:
        # a notice per upload (no bursts): the traffic waits until each ready file has its own
        with running_gateway(log_name="serve-ops-test", reuse=False, port=free_port(),
                             extra_env={"UPLOAD_NOTICE_WINDOW_SECONDS": "0"}) as gw:
            yield gw
    except RuntimeUnavailableError as exc:
        pytest.fail(f"local runtime unavailable: {exc}")


@pytest.fixture(scope="module")
def traffic(gateway: Gateway) -> Traffic:
    return generate(gateway.url)


def test_ops_json_has_every_panel_and_the_traffic_in_the_slos(gateway: Gateway, traffic: Traffic) -> None:
    ours = requests.get(f"{gateway.url}/_local/stats", timeout=10).json()
    for function in ("processor", "notifier"):
        if not ours.get(function, {}).get("invocations"):
            pytest.skip(f"another checkout's serve.py on the shared stack took every {function} record "
                        "of this traffic (its pollers share the queue and consumer groups)")
    data = requests.get(f"{gateway.url}/ops.json", timeout=30).json()

    assert [p["title"] for p in data["panels"]] == [p.title for p in panels(FUNCTIONS)]
    slos = {s["name"]: s for s in data["slos"]}
    assert slos["upload-ready-latency"]["samples"] >= 1
    assert slos["upload-rejections"]["samples"] >= 1
    assert slos["notification-latency"]["samples"] >= 1
    assert slos["search-latency"]["samples"] >= 1
    assert slos["api-availability"]["samples"] >= 10
    charted = {p["title"] for p in data["panels"] if any(s["points"] for s in p["series"])}
    assert {"Upload -> ready (S3 event to ready commit)", "Uploads ready / rejected",
            "Notification delivery (event to inbox)", "Search latency", "API 4xx by route",
            "Lambda duration p99", "API latency", "API errors", "Dead-letter queue depth"} <= charted
    dead_letters = [a for a in data["lost_work"] if a["name"].endswith("-not-empty")]
    assert {a["name"] for a in dead_letters} >= {"uploads-dlq-not-empty", "notifier-failures-not-empty"}


def test_the_ops_page_renders_in_chromium(gateway: Gateway, traffic: Traffic) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: `apt-get install -y chromium` (make test installs it)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page: Any = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{gateway.url}/ops")
            expect(page.locator("h1")).to_have_text("Fileshare ops (local)")
            expect(page.locator("#slos tr")).to_have_count(1 + len(SLOS))  # a header, then each SLO
            assert page.locator("section.panel polyline").count() >= 6
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
