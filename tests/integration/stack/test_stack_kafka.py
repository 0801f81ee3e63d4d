"""The local Kafka (MSK stand-in) carries domain events: what goes in comes back out, key included."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaTimeoutError

EVENTS_TOPIC = os.environ.get("EVENTS_TOPIC", "fileshare.events")


@pytest.fixture(scope="module")
def bootstrap() -> str:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        pytest.skip("KAFKA_BOOTSTRAP_SERVERS is not set (start the local stack first)")
    return servers


@pytest.fixture
def producer(bootstrap: str) -> Iterator[KafkaProducer]:
    client = KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_block_ms=10_000)
    yield client
    client.close()


def _consume_at(bootstrap: str, topic: str, partition: int, offset: int) -> Any:
    """Read the record at one exact position (no consumer group, so repeated runs never interfere)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             group_id=None, client_id=f"test-{uuid.uuid4()}")
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.offset == offset:
                        return record
        raise AssertionError(f"no record at {topic}[{partition}]@{offset}")
    finally:
        consumer.close()


def test_events_topic_is_provisioned_with_three_partitions(bootstrap: str) -> None:
    # Given the provisioned stack / When the events topic is described
    with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
        (topic,) = admin.describe_topics([EVENTS_TOPIC])
    # Then it exists with 3 partitions, each with a leader
    assert topic["error_code"] == 0
    assert len(topic["partitions"]) == 3
    assert all(p["leader_id"] >= 0 for p in topic["partitions"])


def test_record_round_trips_with_key_value_and_headers(bootstrap: str, producer: KafkaProducer) -> None:
    # Given a domain event keyed by a fresh file id
    file_id = str(uuid.uuid4())
    event = {"type": "file.ready", "version": 1, "id": str(uuid.uuid4()), "file_id": file_id}
    headers = [("event-type", b"file.ready"), ("trace-id", uuid.uuid4().hex.encode())]

    # When it is produced and acknowledged by the broker
    metadata = producer.send(EVENTS_TOPIC, key=file_id.encode(), value=json.dumps(event).encode(),
                             headers=headers).get(timeout=30)

    # Then reading that exact position gives back the same key, value and headers
    record = _consume_at(bootstrap, EVENTS_TOPIC, metadata.partition, metadata.offset)
    assert record.key == file_id.encode()
    assert json.loads(record.value) == event
    assert list(record.headers) == headers


def test_same_key_always_lands_in_the_same_partition(producer: KafkaProducer) -> None:
    # Given one file's events (ordering per file relies on the key choosing the partition)
    key = str(uuid.uuid4()).encode()
    # When several are produced / Then all go to one partition, in increasing offsets
    sent = [producer.send(EVENTS_TOPIC, key=key, value=b"{}").get(timeout=30) for _ in range(3)]
    assert len({m.partition for m in sent}) == 1
    assert [m.offset for m in sent] == sorted(m.offset for m in sent)


def test_unknown_topic_is_not_auto_created(bootstrap: str) -> None:
    # Given a topic name nobody provisioned (a typo, say)
    topic = f"fileshare.typo-{uuid.uuid4().hex[:8]}"
    client = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=3_000)
    try:
        # When something produces to it / Then it fails instead of silently creating the topic
        with pytest.raises(KafkaTimeoutError):
            client.send(topic, value=b"{}").get(timeout=10)
    finally:
        client.close()
    with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
        assert topic not in admin.list_topics()
