"""One upload is ONE OpenTelemetry trace in the local Zipkin: the API request, the processor, the
indexer and the notifier, joined through the object's metadata, the outbox row and the Kafka header.

Each hop is the real one in the functions' own worker processes (as ``test_trace.py`` runs them, and
for the same reason: other checkouts' pollers share the stack's queue and consumer groups): the files
function answers ``POST /files``, the bytes go to LocalStack S3 with the presigned POST's fields, S3's
notification goes to the processor, which publishes ``file.ready`` inline; the record read back from
the topic, headers included, goes to the indexer and the notifier. The workers export their spans
to the stack's Zipkin (``make up`` starts it; ``OTEL_TRACES_EXPORTER`` in ``.local/test.env``), and
the test reads the trace back from Zipkin's HTTP API.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from infra.declaration import FUNCTIONS
from lambdarun.events import KafkaRecord, msk_event
from lambdarun.runtime import Runtime
from tests.support.apigw import claims_for, event
from tests.support.pipeline import (
    TEST_BUCKET,
    Pipeline,
    as_lambda_event,
    end_offsets,
    receive_notifications,
    records_since,
)
from tests.support.runtime import REPO_ROOT, load_test_env

SCRIPT = REPO_ROOT / "localstack" / "lambdarun" / "trace.py"
FUNCTIONS_IN_STORY = ("files", "processor", "indexer", "notifier")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, format="PNG")
    return out.getvalue()


def _zipkin(env: dict[str, str]) -> str:
    url = env.get("ZIPKIN_URL")
    if not url or env.get("OTEL_TRACES_EXPORTER") != "zipkin":
        pytest.fail(".local/test.env names no Zipkin (OTEL_TRACES_EXPORTER=zipkin, ZIPKIN_URL): "
                    "run `make up`")
    try:
        requests.get(f"{url}/health", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"the stack's Zipkin at {url} does not answer ({exc}): run `make up`")
    return url


def _trace(zipkin: str, trace_id: str, services: Iterable[str]) -> list[dict[str, Any]]:
    """The trace's spans once every one of ``services`` has some there (Zipkin stores asynchronously
    what the functions flushed at the end of their invocations), or what is there after 30 s."""
    wanted, spans = set(services), list[dict[str, Any]]()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = requests.get(f"{zipkin}/api/v2/trace/{trace_id}", timeout=5)
        spans = answer.json() if answer.status_code == 200 else []
        if wanted <= {s.get("localEndpoint", {}).get("serviceName") for s in spans}:
            break
        time.sleep(0.5)
    return spans


def test_an_upload_is_one_trace_from_the_request_to_the_notifier(pipeline: Pipeline, tmp_path: Path) -> None:
    env = load_test_env()
    zipkin = _zipkin(env)
    runtime = Runtime([fn for fn in FUNCTIONS if fn.name in FUNCTIONS_IN_STORY], log_dir=tmp_path,
                      max_concurrency=1, base_env={**env, "UPLOAD_BUCKET": TEST_BUCKET})
    try:
        # Given a user's POST /files, whose presigned POST carries the request's trace context
        user = f"otel-{uuid.uuid4()}"
        png = _png()  # an image: the processor stores its thumbnail (an S3 call in the upload's trace)
        request = event("POST", "/files", claims=claims_for(user, f"{user}@example.com"),
                        body={"name": "traced.png", "size": len(png), "content_type": "image/png"})
        created = runtime.invoke("files", request)
        assert created.ok and created.result["statusCode"] == 201, created.result
        answer = json.loads(created.result["body"])
        file_id, upload = answer["file_id"], answer["upload"]
        traceparent = upload["fields"]["x-amz-meta-traceparent"]
        trace_id = traceparent.split("-")[1]
        sent = requests.post(upload["url"], data=upload["fields"],
                             files={"file": ("traced.png", png, "image/png")}, timeout=30)
        assert sent.status_code in (200, 201, 204), sent.text

        # When the processor verifies the object, and the indexer and notifier consume its event
        offsets = end_offsets(pipeline.bootstrap, pipeline.topic)
        messages = receive_notifications(pipeline, f"u/{user}/{file_id}/traced.png")
        assert len(messages) == 1
        processed = runtime.invoke("processor", as_lambda_event(messages))
        assert processed.ok and processed.result == {"batchItemFailures": []}
        records = records_since(pipeline.bootstrap, pipeline.topic, offsets, key=file_id)
        assert [json.loads(r.value)["type"] for r in records] == ["file.ready"]
        headers = dict(records[0].headers)
        if "traceparent" not in headers:
            # Another checkout's outbox relay on the shared stack published the row first: its code
            # may predate the traceparent header. A valid path, but not this test's.
            pytest.skip("another checkout's outbox relay published this file's event first")
        assert headers["traceparent"].decode().split("-")[1] == trace_id  # the record joins the trace
        batch = msk_event([KafkaRecord(r.topic, r.partition, r.offset, r.timestamp, 0, r.key, r.value,
                                       tuple(r.headers)) for r in records],
                          cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/t/1",
                          bootstrap=pipeline.bootstrap)
        for consumer in ("indexer", "notifier"):
            consumed = runtime.invoke(consumer, batch)
            assert consumed.ok and consumed.result == {"batchItemFailures": []}, consumer
    finally:
        runtime.close()

    # Then Zipkin holds one trace with all four functions in it
    spans = _trace(zipkin, trace_id, FUNCTIONS_IN_STORY)
    by_service: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_service.setdefault(span["localEndpoint"]["serviceName"], []).append(span)
    assert set(FUNCTIONS_IN_STORY) <= set(by_service), sorted(by_service)
    assert {span["traceId"] for span in spans} == {trace_id}
    names = {(span["localEndpoint"]["serviceName"], span.get("kind"), span["name"]) for span in spans}

    # with the request, the data stores, the produced record and each consumer's record in it
    assert ("files", "SERVER", "post /files") in names, names
    kinds = {(service, span.get("kind")) for service, group in by_service.items() for span in group}
    assert ("processor", "PRODUCER") in kinds and {("indexer", "CONSUMER"), ("notifier", "CONSUMER")} <= kinds
    systems = {span.get("tags", {}).get("db.system") or span.get("tags", {}).get("db.system.name")
               or span.get("tags", {}).get("rpc.system") for span in spans}
    assert {"postgresql", "aws-api", "opensearch"} <= systems, systems
    assert ("processor", "CLIENT", "s3.putobject") in names, names  # the thumbnail
    produced = {span["id"] for span in by_service["processor"] if span.get("kind") == "PRODUCER"}
    for consumer in ("indexer", "notifier"):
        (record,) = [span for span in by_service[consumer] if span.get("kind") == "CONSUMER"]
        assert record["parentId"] in produced, consumer  # continues the producer's span

    # and the correlation id of the upload request on the work the upload caused
    correlation = request["requestContext"]["requestId"]
    for service in ("processor", "indexer", "notifier"):
        tagged = {span.get("tags", {}).get("fileshare.correlation_id") for span in by_service[service]}
        assert correlation in tagged, service

    # And `make trace FILE=<id>` prints the Zipkin link to that trace
    printed = subprocess.run([sys.executable, str(SCRIPT), file_id, "--log-dir", str(tmp_path),
                              "--zipkin", zipkin], capture_output=True, text=True, check=True).stdout
    assert f"{zipkin}/zipkin/traces/{trace_id}" in printed, printed
