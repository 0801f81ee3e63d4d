"""Failure queues are named once (the declaration) and the Kafka poller backs off between retries."""

from __future__ import annotations

from infra.declaration import (
    EVENTS_TOPIC,
    FUNCTIONS,
    UPLOAD_QUEUE,
    Function,
    KafkaTrigger,
    ScheduleTrigger,
    by_name,
    failure_queues,
    local_queue_name,
    queue_url_env,
)
from lambdarun.sources.kafka import KafkaPoller


def test_every_kafka_consumer_and_schedule_has_a_failure_queue_named_after_it() -> None:
    assert {q: fn.name for q, fn in failure_queues().items()} == {
        "notifier-failures": "notifier", "indexer-failures": "indexer", "deleter-failures": "deleter",
        "outbox_relay-failures": "outbox_relay", "sweeper-failures": "sweeper",
        "activity-failures": "activity", "archiver-failures": "archiver", "pusher-failures": "pusher"}
    assert by_name("files").failure_queue is None  # API only
    assert by_name("processor").failure_queue is None  # SQS: its queue's redrive DLQ instead
    assert all(fn.failure_queue for fn in FUNCTIONS
               if any(isinstance(t, (KafkaTrigger, ScheduleTrigger)) for t in fn.triggers))


def test_queue_names_and_url_variables() -> None:
    assert local_queue_name("notifier-failures") == "fileshare-notifier-failures"
    assert local_queue_name(UPLOAD_QUEUE) == "fileshare-uploads"
    assert queue_url_env(UPLOAD_QUEUE) == "UPLOAD_QUEUE_URL"
    assert queue_url_env("notifier-failures") == "NOTIFIER_FAILURES_QUEUE_URL"
    assert queue_url_env("outbox_relay-failures") == "OUTBOX_RELAY_FAILURES_QUEUE_URL"
    fn = Function(name="x", description="", triggers=(KafkaTrigger(EVENTS_TOPIC, "g"),))
    assert failure_queues([fn]) == {"x-failures": fn}


def test_kafka_retries_back_off_exponentially_up_to_a_cap() -> None:
    trigger = KafkaTrigger(EVENTS_TOPIC, "g")
    poller = KafkaPoller(lambda *_: None, "x", trigger, bootstrap="127.0.0.1:9", aws_region="us-east-1")  # type: ignore[arg-type]
    assert [poller.backoff_s(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert poller.backoff_s(20) == 60.0
    # the default three retries span 14 s: a service restarting for a few seconds does not use them up
    assert sum(poller.backoff_s(n) for n in range(1, trigger.max_retries + 1)) == 14.0
    assert KafkaPoller(lambda *_: None, "x", trigger, bootstrap="b", aws_region="r",  # type: ignore[arg-type]
                       retry_delay_s=0.0).backoff_s(3) == 0.0
