"""The Kafka (MSK) poller against the real local Kafka: MSK-shaped events, commit only after success.

Given a fresh topic, when records arrive, then the function receives them grouped by
``topic-partition`` with base64 key/value and byte-list headers, and the group's offset is committed
only once the invocation succeeded; a failing record is retried from its offset and, after
``max_retries``, handed to the on-failure destination before the partition moves on.
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

from infra.declaration import KafkaTrigger
from lambdarun.runtime import Runtime
from lambdarun.sources.kafka import KafkaPoller
from tests.fixtures.functions.lambdarun_fixtures import BATCH, FIXTURES_DIR

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
pytestmark = pytest.mark.skipif(not BOOTSTRAP,
                                reason="Kafka is not in the environment (KAFKA_BOOTSTRAP_SERVERS)")
LIMIT_S = 45.0  # how long to keep polling before giving up (a limit, not a timing assertion)


@pytest.fixture
def topic(new_topic: Callable[..., str]) -> str:
    return new_topic("rt", partitions=2)


def _produce(topic: str, records: list[tuple[bytes, bytes, int]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP.split(","))
    for key, value, partition in records:
        producer.send(topic, key=key, value=value, partition=partition, headers=[("trace", b"\x01AB")])
    producer.flush()
    producer.close()


def _runtime(tmp_path: Path) -> tuple[Runtime, Path]:
    sink = tmp_path / "sink.jsonl"
    fn = replace(BATCH, environment=(("SINK_FILE", str(sink)),))
    return Runtime([fn], base_env={}, code_root=FIXTURES_DIR, log_dir=tmp_path / "logs"), sink


def _sink(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _committed(topic: str, group: str) -> dict[int, int | None]:
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP.split(","), group_id=group, enable_auto_commit=False)
    try:
        return {p: consumer.committed(TopicPartition(topic, p)) for p in (0, 1)}
    finally:
        consumer.close(autocommit=False)


def _poll_until(poller: KafkaPoller, done) -> None:
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline and not done():
        poller.poll_once(timeout_ms=500)


def test_msk_event_shape_and_commit_after_success(topic: str, tmp_path: Path) -> None:
    runtime, sink = _runtime(tmp_path)
    group = f"g-{uuid.uuid4().hex[:8]}"
    trigger = KafkaTrigger(topic=topic, consumer_group=group, batch_size=50)
    poller = KafkaPoller(runtime.invoke, "rt_batch", trigger, bootstrap=BOOTSTRAP, aws_region="us-east-1")
    try:
        poller.connect()
        _produce(topic, [(b"k0", b"v-0", 0), (b"k1", b"v-1", 1), (b"k2", b"v-2", 0)])
        _poll_until(poller, lambda: len(_sink(sink)) >= 3)
    finally:
        poller.close()
        runtime.close()
    delivered = _sink(sink)
    assert sorted(d["value"] for d in delivered) == ["v-0", "v-1", "v-2"]
    first = next(d for d in delivered if d["value"] == "v-0")
    record = first["record"]
    assert first["group"] == f"{topic}-0"
    assert record["topic"] == topic and record["partition"] == 0 and record["offset"] == 0
    assert base64.b64decode(record["key"]) == b"k0" and base64.b64decode(record["value"]) == b"v-0"
    assert record["headers"] == [{"trace": [1, 65, 66]}] and record["timestampType"] == "CREATE_TIME"
    assert first["event"]["eventSource"] == "aws:kafka" and first["event"]["bootstrapServers"] == BOOTSTRAP
    assert first["event"]["eventSourceArn"].startswith("arn:aws:kafka:us-east-1:")
    assert _committed(topic, group) == {0: 2, 1: 1}


def test_failure_is_not_committed_and_is_redelivered(topic: str, tmp_path: Path) -> None:
    runtime, sink = _runtime(tmp_path)
    group = f"g-{uuid.uuid4().hex[:8]}"
    trigger = KafkaTrigger(topic=topic, consumer_group=group, batch_size=50, max_retries=100)
    poller = KafkaPoller(runtime.invoke, "rt_batch", trigger, bootstrap=BOOTSTRAP, aws_region="us-east-1",
                         retry_delay_s=0.0)
    _produce(topic, [(b"a", b"good", 0), (b"b", b"boom", 0)])
    try:
        poller.connect()
        _poll_until(poller, lambda: any("boom" in d for d in _sink(sink)))
    finally:
        poller.close()  # a consumer that stops after a failed batch commits nothing
    assert _committed(topic, group) == {0: None, 1: None}
    # a new consumer of the same group gets the same records again (nothing was lost)
    poller = KafkaPoller(runtime.invoke, "rt_batch", trigger, bootstrap=BOOTSTRAP, aws_region="us-east-1",
                         retry_delay_s=0.0)
    try:
        poller.connect()
        before = len(_sink(sink))
        _poll_until(poller, lambda: len(_sink(sink)) > before)
    finally:
        poller.close()
        runtime.close()
    assert _sink(sink)[-1]["boom"] == ["good", "boom"]


def test_partial_failure_retries_then_goes_to_the_on_failure_destination(topic: str, tmp_path: Path) -> None:
    runtime, sink = _runtime(tmp_path)
    group = f"g-{uuid.uuid4().hex[:8]}"
    trigger = KafkaTrigger(topic=topic, consumer_group=group, batch_size=50, max_retries=2)
    given_up: list[dict[str, Any]] = []
    poller = KafkaPoller(runtime.invoke, "rt_batch", trigger, bootstrap=BOOTSTRAP, aws_region="us-east-1",
                         on_failure=given_up.append, retry_delay_s=0.0)
    _produce(topic, [(b"a", b"first", 0), (b"b", b"fail-me", 0), (b"c", b"after", 0)])
    try:
        poller.connect()
        _poll_until(poller, lambda: bool(given_up) and _committed(topic, group)[0] == 3)
    finally:
        poller.close()
        runtime.close()
    values = [d["value"] for d in _sink(sink)]
    assert values.count("first") == 1  # committed before the failed offset: never redelivered
    assert values.count("fail-me") == 3  # first attempt + max_retries
    assert len(given_up) == 1
    info = given_up[0]["KafkaBatchInfo"]
    assert info["topic"] == topic and info["partition"] == 0 and info["firstOffset"] == 1
    assert given_up[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    payload = given_up[0]["payload"]["records"][f"{topic}-0"]
    assert base64.b64decode(payload[0]["value"]) == b"fail-me"
    assert _committed(topic, group)[0] == 3
