"""The SQS poller against real LocalStack: partial batch failures, visibility timeout, DLQ redrive.

Given a queue whose RedrivePolicy sends a message to its DLQ after 2 receives (visibility timeout
1 s), when the poller feeds a batch to a function that fails one record, then the good records are
deleted after their first delivery and the failing one is redelivered until it lands in the DLQ;
when the function itself fails, nothing is deleted.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lambdarun.runtime import Runtime
from lambdarun.sources.sqs import SqsPoller, queue_url, sqs_client
from tests.fixtures.functions.lambdarun_fixtures import BATCH, FIXTURES_DIR

pytestmark = pytest.mark.skipif(not os.environ.get("AWS_ENDPOINT_URL"),
                                reason="LocalStack is not in the environment (AWS_ENDPOINT_URL)")
LIMIT_S = 30.0  # how long to keep polling before giving up (a limit, not a timing assertion)


@pytest.fixture
def queues() -> Iterator[dict[str, Any]]:
    client = sqs_client(os.environ)
    name = f"rt-{uuid.uuid4().hex[:10]}"
    dlq = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    main = client.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": "1",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
    })["QueueUrl"]
    yield {"client": client, "name": name, "url": main, "dlq": dlq}
    client.delete_queue(QueueUrl=main)
    client.delete_queue(QueueUrl=dlq)


@pytest.fixture
def setup(queues: dict[str, Any], tmp_path: Path) -> Iterator[tuple[SqsPoller, Path, Runtime]]:
    sink = tmp_path / "sink.jsonl"
    fn = replace(BATCH, environment=(("SINK_FILE", str(sink)),))
    runtime = Runtime([fn], base_env={}, code_root=FIXTURES_DIR, log_dir=tmp_path / "logs")
    poller = SqsPoller(runtime.invoke, fn.name, fn.triggers[0], url=queues["url"],  # type: ignore[arg-type]
                       client=queues["client"], aws_region="us-east-1", wait_s=1)
    yield poller, sink, runtime
    runtime.close()


def _sink(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _count(client: Any, url: str) -> int:
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_partial_batch_failure_and_redrive_to_dlq(queues: dict[str, Any], setup) -> None:
    poller, sink, _ = setup
    client = queues["client"]
    client.send_message_batch(QueueUrl=queues["url"], Entries=[
        {"Id": "1", "MessageBody": "ok-1",
         "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "test"}}},
        {"Id": "2", "MessageBody": "fail-1"},
        {"Id": "3", "MessageBody": "ok-2"},
    ])
    deadline = time.monotonic() + LIMIT_S
    dead: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not dead:
        messages = poller.receive()
        if messages:
            poller.process(messages)
        dead = client.receive_message(QueueUrl=queues["dlq"], MaxNumberOfMessages=10,
                                      WaitTimeSeconds=0).get("Messages", [])
    assert [m["Body"] for m in dead] == ["fail-1"]
    deliveries = _sink(sink)
    bodies = [d["body"] for d in deliveries]
    assert bodies.count("ok-1") == 1 and bodies.count("ok-2") == 1  # deleted after success
    assert bodies.count("fail-1") == 2  # delivered maxReceiveCount times, then redriven
    first = next(d["record"] for d in deliveries if d["body"] == "ok-1")
    assert first["eventSource"] == "aws:sqs" and first["eventSourceARN"].endswith(":" + queues["name"])
    assert first["attributes"]["ApproximateReceiveCount"] == "1" and first["md5OfBody"]
    assert first["messageAttributes"]["kind"]["stringValue"] == "test" and first["awsRegion"] == "us-east-1"
    retried = [d["record"] for d in deliveries if d["body"] == "fail-1"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in retried] == ["1", "2"]
    assert _count(client, queues["url"]) == 0


def test_function_error_deletes_nothing(queues: dict[str, Any], setup) -> None:
    poller, _sink_path, _runtime = setup
    client = queues["client"]
    client.send_message_batch(QueueUrl=queues["url"], Entries=[
        {"Id": "1", "MessageBody": "fine"}, {"Id": "2", "MessageBody": "boom"}])
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + LIMIT_S
    while len(messages) < 2 and time.monotonic() < deadline:  # LocalStack may split the batch
        messages += poller.receive()
    invocation = poller.process(messages)
    assert not invocation.ok and invocation.error["errorType"] == "RuntimeError"
    assert _count(client, queues["url"]) == 2  # both still there, back after the visibility timeout
    again: list[dict[str, Any]] = []
    deadline = time.monotonic() + LIMIT_S
    while len(again) < 2 and time.monotonic() < deadline:
        again += client.receive_message(QueueUrl=queues["url"], MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        MessageSystemAttributeNames=["All"]).get("Messages", [])
    assert sorted(m["Body"] for m in again) == ["boom", "fine"]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in again} == {"2"}


def test_invalid_batch_item_failures_retry_everything() -> None:
    from lambdarun.sources.sqs import _sqs_failures

    ids = {"a", "b"}
    assert _sqs_failures({"batchItemFailures": []}, ids) == set()
    assert _sqs_failures(None, ids) == set()
    assert _sqs_failures({"batchItemFailures": [{"itemIdentifier": "a"}]}, ids) == {"a"}
    assert _sqs_failures({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert _sqs_failures({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None
    assert _sqs_failures({"batchItemFailures": "a"}, ids) is None


def test_queue_url_from_env_or_lookup(queues: dict[str, Any]) -> None:
    client = queues["client"]
    assert queue_url("uploads", {"UPLOAD_QUEUE_URL": "http://x/q"}, client) == "http://x/q"
    assert queue_url(queues["name"], {}, client).endswith("/" + queues["name"])
