"""The local stack's namespaces (infra.declaration.LocalNamespace): dev keeps its historical names,
the test namespace has its own for every resource, and the runtime's Kafka pollers follow the env's."""

from __future__ import annotations

from typing import Any

from infra.declaration import (
    DEV_NAMESPACE,
    EVENTS_TOPIC,
    NAMESPACE_ENV,
    TEST_NAMESPACE,
    KafkaTrigger,
    by_name,
    local_queue_name,
    namespace_of,
)
from lambdarun.sources import EventSources


def test_dev_keeps_the_names_the_stack_always_had() -> None:
    assert (DEV_NAMESPACE.bucket, DEV_NAMESPACE.database, DEV_NAMESPACE.events_topic,
            DEV_NAMESPACE.search_alias, DEV_NAMESPACE.user_pool, DEV_NAMESPACE.redis_db) == (
        "fileshare-uploads", "fileshare", EVENTS_TOPIC, "files", "fileshare", 0)
    assert local_queue_name("uploads") == "fileshare-uploads"


def test_the_test_namespace_names_every_resource_apart() -> None:
    names = ("bucket", "database", "events_topic", "search_alias", "user_pool", "user_pool_client",
             "ssm_prefix", "redis_db", "gateway_port", "env_file_name")
    for name in names:
        assert getattr(TEST_NAMESPACE, name) != getattr(DEV_NAMESPACE, name), name
    assert TEST_NAMESPACE.database == "fileshare_test"
    assert TEST_NAMESPACE.events_topic == "fileshare-test.events"
    assert local_queue_name("notifier-failures", TEST_NAMESPACE) == "fileshare-test-notifier-failures"


def test_physical_maps_dev_names_only_once() -> None:
    assert TEST_NAMESPACE.physical("fileshare-notifier") == "fileshare-test-notifier"
    assert TEST_NAMESPACE.physical("fileshare-test.events") == "fileshare-test.events"  # already its own
    assert TEST_NAMESPACE.physical("rt-topic") == "rt-topic"  # a test's own topic stays
    assert DEV_NAMESPACE.physical("fileshare-notifier") == "fileshare-notifier"
    assert namespace_of({}) is DEV_NAMESPACE
    assert namespace_of({NAMESPACE_ENV: "fileshare-test"}) is TEST_NAMESPACE


class _Runtime:
    functions = {"indexer": by_name("indexer")}

    def invoke(self, name: str, event: Any) -> Any:  # never called: the pollers are not started
        raise AssertionError(name)


def test_kafka_pollers_read_their_namespace_s_topic_with_its_groups() -> None:
    env = {NAMESPACE_ENV: TEST_NAMESPACE.prefix, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    ((name, run),) = EventSources(_Runtime(), env).runners()  # type: ignore[arg-type]
    poller = run.__self__  # type: ignore[attr-defined]
    declared = by_name("indexer").triggers[0]
    assert isinstance(declared, KafkaTrigger)
    assert name == "kafka:fileshare-test.events->indexer"
    assert (poller.trigger.topic, poller.trigger.consumer_group) == (
        "fileshare-test.events", "fileshare-test-indexer")
    ((dev_name, _),) = EventSources(_Runtime(), {}).runners()  # type: ignore[arg-type]
    assert dev_name == f"kafka:{declared.topic}->indexer"
