"""Helpers for calling the processor and relay handlers the way Lambda does, and for reading Kafka.

Handlers are loaded from their files under distinct module names (every function's module is
``handler``). ``invoke_in_process`` runs a handler in a fresh interpreter, as a second Lambda
execution environment would, so concurrency tests do not share a process's state.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import psycopg

from lambdarun.iam.hooks import acting_as
from tests.support.apigw import FakeContext

REPO_ROOT = Path(__file__).resolve().parents[2]
_loaded: dict[str, ModuleType] = {}


def load_handler(function: str) -> ModuleType:
    """``functions/<function>/handler.py`` as Lambda loads it, under a unique module name (every
    function has a handler.py), once per test session. Its ``lambda_handler`` acts as the function:
    the AWS calls it makes are checked against the function's synthesized role (``lambdarun.iam``)."""
    if function not in _loaded:
        path = REPO_ROOT / "functions" / function / "handler.py"
        spec = importlib.util.spec_from_file_location(f"fn_{function}_handler", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handler = module.lambda_handler

        @functools.wraps(handler)
        def lambda_handler(event: Any, context: Any) -> Any:
            with acting_as(function):
                return handler(event, context)

        module.lambda_handler = lambda_handler  # type: ignore[attr-defined]
        _loaded[function] = module
    return _loaded[function]


def s3_notification(bucket: str, key: str, size: int, etag: str = "", *,
                    event_name: str = "ObjectCreated:Post") -> str:
    """An S3 event notification body as S3 sends it to SQS (the key URL-encoded)."""
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-24T10:00:00.000Z", "eventName": event_name,
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "uploads-to-queue",
               "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag,
                          "sequencer": "0062E99A88DC407460"}},
    }]})


def sqs_event(*bodies: str, message_ids: list[str] | None = None) -> dict[str, Any]:
    """An SQS event (Lambda event source mapping shape) carrying the given bodies."""
    ids = message_ids or [str(uuid.uuid4()) for _ in bodies]
    return {"Records": [{
        "messageId": mid, "receiptHandle": f"rh-{mid}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000)),
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:fileshare-uploads", "awsRegion": "us-east-1",
    } for mid, body in zip(ids, bodies, strict=True)]}


def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_handler(function).lambda_handler(event, FakeContext(function_name=function))
    return result


def invoke_in_process(function: str, event: dict[str, Any], barrier: Any, results: Any) -> None:
    """Target of a spawned process: load the handler (cold start), wait for the others, invoke."""
    module = load_handler(function)
    context = FakeContext(function_name=function)
    barrier.wait(timeout=60)
    try:
        results.put(("ok", module.lambda_handler(event, context)))
    except Exception as exc:  # reported to the parent, which fails the test
        results.put(("error", repr(exc)))


def invoke_concurrently(function: str, event: dict[str, Any], workers: int = 2) -> list[tuple[str, Any]]:
    """Invoke ``function`` with ``event`` from ``workers`` spawned processes released together, as
    two Lambda environments handling the same delivery would; returns each (kind, response)."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(workers), spawn.Queue()
    processes = [spawn.Process(target=invoke_in_process, args=(function, event, barrier, results))
                 for _ in range(workers)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return outcomes


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response.get("batchItemFailures", [])]


# --- Kafka ------------------------------------------------------------------------------------


@contextmanager
def temporary_topic(bootstrap: str, prefix: str, partitions: int = 1) -> Iterator[str]:
    """A Kafka topic of the test's own (unique name), deleted afterwards."""
    from kafka.admin import KafkaAdminClient, NewTopic

    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        yield name
        admin.delete_topics([name])
    finally:
        admin.close()


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def records_since(bootstrap: str, topic: str, since: dict[int, int], *, key: str) -> list[Any]:
    """Every record with ``key`` written after ``since`` (offsets per partition) up to now.

    The end of the range is read first, so this returns once everything that was acknowledged
    before the call has been read: no waiting for records that may never come.
    """
    from kafka import KafkaConsumer, TopicPartition

    until = end_offsets(bootstrap, topic)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    found: list[Any] = []
    try:
        partitions = [TopicPartition(topic, p) for p in until if until[p] > since.get(p, 0)]
        if not partitions:
            return found
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, since.get(tp.partition, 0))
        remaining = {tp.partition for tp in partitions}
        deadline = time.monotonic() + 30
        while remaining and time.monotonic() < deadline:
            for tp, batch in consumer.poll(timeout_ms=500).items():
                for record in batch:
                    if record.offset < until[tp.partition] and record.key == key.encode():
                        found.append(record)
                if consumer.position(tp) >= until[tp.partition]:
                    remaining.discard(tp.partition)
        assert not remaining, f"could not read partitions {remaining} to their end"
        return found
    finally:
        consumer.close()


# --- The pipeline test environment ---------------------------------------------------------

TEST_BUCKET = "fileshare-pipeline-test"
TEST_QUEUE = "fileshare-pipeline-test"

# Where the local stack listens, used only when .local/test.env does not say (tests/conftest.py
# loads it first; its values win).
_LOCAL_DEFAULTS = {
    "AWS_ENDPOINT_URL": "http://localhost:4566",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
    "OPENSEARCH_URL": "http://127.0.0.1:9200",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "processor",
}


def reset_caches() -> None:
    """Forget everything built from settings, so changed env vars take effect."""
    from fileshare.adapters import aws, cache
    from fileshare.adapters import kafka as kafka_adapter
    from fileshare.config import settings
    from fileshare.db import connection
    from fileshare.search import index as search_index

    settings.cache_clear()
    kafka_adapter.reset_producer()
    search_index.client.cache_clear()
    aws.client.cache_clear()
    cache.redis_client.cache_clear()
    if connection.pool.cache_info().currsize:
        connection.pool().close()
        connection.pool.cache_clear()


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Pipeline:
    bucket: str
    queue_url: str
    s3: Any
    sqs: Any
    db: psycopg.Connection[dict[str, Any]]
    bootstrap: str
    topic: str

    def upload(self, key: str, data: bytes, content_type: str) -> str:
        """Put bytes where a presigned POST would have; returns the ETag."""
        response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return str(response["ETag"])

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except self.s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise


def receive_notifications(pipeline: Pipeline, key: str, *, want: int = 1) -> list[dict[str, Any]]:
    """Real SQS messages S3 sent about ``key`` (others are left for their own tests)."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(found) < want and time.monotonic() < deadline:
        response = pipeline.sqs.receive_message(QueueUrl=pipeline.queue_url, MaxNumberOfMessages=10,
                                                WaitTimeSeconds=1, AttributeNames=["All"])
        for message in response.get("Messages", []):
            if key.split("/")[2] in message["Body"]:  # the file id appears in the encoded key
                found.append(message)
                pipeline.sqs.delete_message(QueueUrl=pipeline.queue_url,
                                            ReceiptHandle=message["ReceiptHandle"])
    return found


def as_lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """SQS messages as received -> the event Lambda's SQS event source would deliver."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{TEST_QUEUE}",
        "awsRegion": "us-east-1"} for m in messages]}


def search_doc(file_id: uuid.UUID) -> dict[str, Any] | None:
    from opensearchpy.exceptions import NotFoundError

    from fileshare.config import settings
    from fileshare.search.index import client

    try:
        doc: dict[str, Any] = client().get(index=settings().search_alias, id=str(file_id))["_source"]
        return doc
    except NotFoundError:
        return None


def search_doc_count(file_id: uuid.UUID) -> int:
    from fileshare.config import settings
    from fileshare.search.index import client

    client().indices.refresh(index=settings().search_alias)
    body = {"query": {"term": {"file_id": str(file_id)}}}
    return int(client().count(index=settings().search_alias, body=body)["count"])


def payload(row: dict[str, Any]) -> dict[str, Any]:
    value = row["payload"]
    return value if isinstance(value, dict) else json.loads(value)
