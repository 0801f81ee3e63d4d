"""OpenTelemetry in the functions (``fileshare.adapters.tracing``): nothing of it is imported while tracing is
off; with it on, the SDK is set up at the first span (not at import), spans carry the correlation
and file ids, continue a given traceparent, have X-Ray-compatible trace ids, and are exported by the
end of the span that began in this process. Each case runs a fresh interpreter, as a cold start
does, exporting to a Zipkin stand-in served by the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fileshare.adapters import tracing

REPO = Path(__file__).resolve().parents[2]
PARENT_TRACE, PARENT_SPAN = "5f0e1d2c" + "a" * 24, "b" * 16

OFF = """
import sys
from fileshare.adapters import tracing
from fileshare.adapters.observability import tracer

@tracer.capture_method
def work():
    with tracing.span("step"):
        return tracing.traceparent()

assert work() is None
loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry", "aws_xray_sdk")))
assert not loaded, loaded
print("ok")
"""

ON = """
import json, sys
from fileshare.adapters import tracing
from fileshare.adapters.observability import logger, tracer
assert "opentelemetry.sdk.trace" not in sys.modules, "set up at import"

@tracer.capture_method
def work():
    with tracing.span("step", attributes={"k": "v"}):
        return tracing.traceparent()

logger.set_correlation_id("corr-1")
logger.append_keys(file_id="file-1")
inner = work()
with tracing.record_span("topic process", {"traceparent": b"00-PARENT_TRACE-PARENT_SPAN-01"},
                         **{"messaging.system": "kafka"}):
    pass
import botocore.client
patched = hasattr(botocore.client.BaseClient._make_api_call, "__wrapped__")
print(json.dumps({"inner": inner, "patched": patched, "xray_sdk": "aws_xray_sdk" in sys.modules}))
""".replace("PARENT_TRACE", PARENT_TRACE).replace("PARENT_SPAN", PARENT_SPAN)


PUBLIC_LINK = """
import importlib.util, sys
from fileshare.links import links, page as link_page
from tests.support.apigw import FakeContext, event
TOKEN = sys.argv[1]
spec = importlib.util.spec_from_file_location("public_link_handler", sys.argv[2])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
links.peek_link = lambda token, *_: object()
link_page.render = lambda token, link: f"<a href='/s/{token}?download=1'>Download</a>"
links.open_link = lambda token, *_: "https://bucket.s3.amazonaws.com/k?X-Amz-Signature=s"
for accept in ("text/html", "*/*"):
    request = event("GET", f"/s/{TOKEN}", resource="/s/{token}", path_parameters={"token": TOKEN},
                    headers={"Accept": accept})
    module.lambda_handler(request, FakeContext("public_link"))
print("ok")
"""


class _Zipkin(BaseHTTPRequestHandler):
    spans: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).spans.extend(json.loads(body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def zipkin() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    spans: list[dict[str, Any]] = []
    handler = type("Handler", (_Zipkin,), {"spans": spans})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v2/spans", spans
    finally:
        server.shutdown()
        server.server_close()


def _run(script: str, *args: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    paths = (REPO / "layers" / "shared" / "python", REPO, REPO / "localstack")
    base.update(PYTHONPATH=os.pathsep.join(map(str, paths)), POWERTOOLS_SERVICE_NAME="probe", **env)
    result = subprocess.run([sys.executable, "-c", script, *args], env=base, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_with_tracing_off_nothing_of_opentelemetry_or_xray_is_imported() -> None:
    assert _run(OFF) == "ok"


def test_the_first_span_sets_tracing_up_and_every_span_is_exported_with_the_ids(
    zipkin: tuple[str, list[dict[str, Any]]]
) -> None:
    endpoint, spans = zipkin
    out = json.loads(_run(ON, OTEL_TRACES_EXPORTER="zipkin", OTEL_EXPORTER_ZIPKIN_ENDPOINT=endpoint))
    assert out["patched"] and not out["xray_sdk"]  # botocore instrumented; the X-Ray SDK never loaded
    by_name = {span["name"]: span for span in spans}
    assert set(by_name) == {"## __main__.work", "step", "topic process"}, sorted(by_name)
    step = by_name["step"]
    assert step["parentId"] == by_name["## __main__.work"]["id"]  # Powertools' method segment
    assert out["inner"] == f"00-{step['traceId']}-{step['id']}-01"  # the traceparent a hop carries
    assert step["tags"]["fileshare.correlation_id"] == "corr-1"
    assert step["tags"]["fileshare.file_id"] == "file-1" and step["tags"]["k"] == "v"
    assert step["localEndpoint"]["serviceName"] == "probe"
    # X-Ray's format: the trace id starts with its epoch second
    assert abs(int(step["traceId"][:8], 16) - time.time()) < 3600
    record = by_name["topic process"]
    assert (record["traceId"], record["parentId"], record["kind"]) == (PARENT_TRACE, PARENT_SPAN, "CONSUMER")


@pytest.mark.parametrize(("carrier", "expected"), [
    ({"traceparent": b"00-abc-def-01"}, "00-abc-def-01"),
    ({"traceparent": "00-abc-def-01"}, "00-abc-def-01"),
    ({"traceparent": ""}, None),
    ({"correlation-id": "x"}, None),
    (None, None),
])
def test_a_traceparent_is_read_from_metadata_or_headers(carrier: dict[str, Any] | None,
                                                         expected: str | None) -> None:
    assert tracing.traceparent_of(carrier) == expected


def test_a_trace_id_is_the_second_field_of_a_traceparent() -> None:
    assert tracing.trace_id_of(f"00-{PARENT_TRACE}-{PARENT_SPAN}-01") == PARENT_TRACE
    assert tracing.trace_id_of("garbage") is None and tracing.trace_id_of(None) is None


@pytest.mark.parametrize(("url", "name"), [
    ("/fileshare-files/_search", "fileshare-files/_search"),
    ("/fileshare-files/_doc/7f0c", "fileshare-files/_doc"),
    ("/", "/"),
])
def test_an_opensearch_span_is_named_without_ids(url: str, name: str) -> None:
    assert tracing._path_template(url) == name


def test_the_public_links_spans_never_hold_its_token(zipkin: tuple[str, list[dict[str, Any]]]) -> None:
    # Given the public_link handler as deployed (responses and errors not captured), tracing on
    endpoint, spans = zipkin
    token = "tok3n-" + uuid.uuid4().hex
    handler = str(REPO / "functions" / "public_link" / "handler.py")
    # When its link page and its redirect are opened
    assert _run(PUBLIC_LINK, token, handler, OTEL_TRACES_EXPORTER="zipkin",
                OTEL_EXPORTER_ZIPKIN_ENDPOINT=endpoint, POWERTOOLS_TRACER_CAPTURE_RESPONSE="false",
                POWERTOOLS_TRACER_CAPTURE_ERROR="false") == "ok"
    # Then both requests are traced, by their route template, and no span names the token
    requests = [span for span in spans if span.get("kind") == "SERVER"]
    assert [span["name"] for span in requests] == ["GET /s/{token}"] * 2
    assert token not in json.dumps(spans)
