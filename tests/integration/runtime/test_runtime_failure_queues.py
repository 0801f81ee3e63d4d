"""No event is lost locally either: a Kafka record that keeps failing ends up in its function's
on-failure SQS queue, as the MSK event source mapping's on-failure destination does in AWS.

Through the real pieces: the local runtime's event sources (``EventSources``: the Kafka poller and
the SQS sender) invoke a worker process, the records come from the real local Kafka and the failure
queue is a real LocalStack queue created by the very function ``provision()`` uses. A second test
proves the running stack provisioned a failure queue for every function of the declaration that has
one, named as CDK names it (``tests/infra/test_failure_queues.py`` checks the CDK side).
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra.declaration import FUNCTIONS, KafkaTrigger, local_queue_name, namespace_of, queue_url_env
from lambdarun.runtime import Runtime
from lambdarun.sources import EventSources
from stackctl.services.localstack_aws import aws_client, ensure_failure_queues
from tests.fixtures.functions.lambdarun_fixtures import BATCH, FIXTURES_DIR

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "")
pytestmark = pytest.mark.skipif(not (BOOTSTRAP and ENDPOINT),
                                reason="Kafka or LocalStack is not in the environment (.local/test.env)")
LIMIT_S = 60.0  # how long to keep looking before giving up (a limit, not a timing assertion)


@pytest.fixture
def topic(new_topic: Callable[..., str]) -> str:
    return new_topic("rt-fail", partitions=1)


def _produce(topic: str, values: list[bytes]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP.split(","))
    for value in values:
        producer.send(topic, key=b"k", value=value, partition=0)
    producer.flush()
    producer.close()


def _sink(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _committed(topic: str, group: str) -> int | None:
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP.split(","), group_id=group, enable_auto_commit=False)
    try:
        offset: int | None = consumer.committed(TopicPartition(topic, 0))
        return offset
    finally:
        consumer.close(autocommit=False)


def _failures_for(sqs: Any, url: str, topic: str) -> list[dict[str, Any]]:
    """Failure records about ``topic`` (deleted once read); records of other runs stay untouched."""
    found: list[dict[str, Any]] = []
    reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                MessageAttributeNames=["All"])
    for message in reply.get("Messages", []):
        body = json.loads(message["Body"])
        if body.get("KafkaBatchInfo", {}).get("topic") == topic:
            found.append({**body, "_attributes": message.get("MessageAttributes", {})})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                          VisibilityTimeout=0)
    return found


def test_a_record_that_always_fails_lands_in_the_failure_queue_with_its_payload(topic: str,
                                                                                 tmp_path: Path) -> None:
    # Given a Kafka-triggered function whose failure queue exists in LocalStack (provisioned the way
    # the stack provisions the declared ones) and whose URL the runtime finds under its env name
    sink = tmp_path / "sink.jsonl"
    group = f"g-{uuid.uuid4().hex[:8]}"
    fn = replace(BATCH, triggers=(KafkaTrigger(topic, consumer_group=group, batch_size=50, max_retries=2),),
                 environment=(("SINK_FILE", str(sink)),))
    assert fn.failure_queue == "rt_batch-failures"
    sqs = aws_client("sqs", ENDPOINT)
    urls = ensure_failure_queues(sqs, [fn])
    assert list(urls) == [fn.failure_queue] and urls[fn.failure_queue].endswith(
        "/" + local_queue_name(fn.failure_queue))
    env = {"AWS_ENDPOINT_URL": ENDPOINT, "AWS_REGION": "us-east-1", "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
           queue_url_env(fn.failure_queue): urls[fn.failure_queue]}
    runtime = Runtime([fn], base_env={}, code_root=FIXTURES_DIR, log_dir=tmp_path / "logs")
    sources = EventSources(runtime, env, kafka_retry_delay_s=0.2)

    # When a good record, one that always fails, and another good one arrive
    _produce(topic, [b"first", b"fail-me " + topic.encode(), b"after"])
    failures: list[dict[str, Any]] = []
    started = sources.start()
    try:
        assert started == [f"kafka:{topic}->rt_batch"]
        deadline = time.monotonic() + LIMIT_S
        while time.monotonic() < deadline and not (failures and _committed(topic, group) == 3):
            failures += _failures_for(sqs, urls[fn.failure_queue], topic)
    finally:
        sources.stop()
        runtime.close()

    # Then the failing record was tried 1 + max_retries times, then sent to the failure queue once,
    # with its payload and Lambda's on-failure metadata, and the partition moved on past it
    values = [d["value"] for d in _sink(sink) if "value" in d]
    assert values.count("first") == 1  # committed before the failure: never redelivered
    assert sum(v.startswith("fail-me") for v in values) == 3
    assert _committed(topic, group) == 3
    (failure,) = failures
    info = failure["KafkaBatchInfo"]
    assert (info["topic"], info["partition"], info["firstOffset"]) == (topic, 0, 1)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    record = failure["payload"]["records"][f"{topic}-0"][0]
    assert base64.b64decode(record["value"]) == b"fail-me " + topic.encode()
    assert record["offset"] == 1 and record["topic"] == topic
    assert failure["_attributes"]["source"]["StringValue"] == "lambdarun"


def test_the_stack_provisioned_every_declared_failure_queue() -> None:
    # Given the declaration's Kafka consumers (notifier, indexer, deleter) and scheduled functions
    declared = {fn.failure_queue for fn in FUNCTIONS if fn.failure_queue}
    kafka_consumers = {fn.name for fn in FUNCTIONS if any(isinstance(t, KafkaTrigger) for t in fn.triggers)}
    assert {f"{name}-failures" for name in kafka_consumers} <= declared
    # Then each has its queue in LocalStack, and its URL in the stack env under its derived name
    sqs = aws_client("sqs", ENDPOINT)
    for queue in sorted(declared):
        url = os.environ.get(queue_url_env(queue))
        assert url, f"{queue_url_env(queue)} missing from .local/test.env: run `make up`"
        name = local_queue_name(queue, namespace_of(os.environ))
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])
        assert attributes["Attributes"]["MessageRetentionPeriod"] == str(14 * 24 * 3600)
