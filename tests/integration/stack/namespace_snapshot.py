"""What a namespace of the local stack holds, counted: rows, objects, messages, events, documents, users.

Used by ``test_namespaces.py`` to show a test run leaves the dev namespace (``.local/stack.env``) alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
import psycopg
from botocore.config import Config

from infra.declaration import namespace_of

TABLES = ("users", "files", "shares", "links", "notifications", "outbox")


def _client(service: str, env: Mapping[str, str], endpoint: str | None = None) -> Any:
    return boto3.session.Session().client(
        service, endpoint_url=endpoint or env["AWS_ENDPOINT_URL"],
        region_name=env.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(s3={"addressing_style": "path"}))


def queue_urls(env: Mapping[str, str]) -> dict[str, str]:
    """Every queue of the namespace: the upload queue, its DLQ and the failure queues."""
    return {key: value for key, value in env.items() if key.endswith("_QUEUE_URL") or key == "UPLOAD_DLQ_URL"}


def counts(env: Mapping[str, str]) -> dict[str, int]:
    """One number per resource of the namespace ``env`` describes."""
    out: dict[str, int] = {}
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        for table in TABLES:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - fixed names
            out[f"db.{table}"] = int(row[0]) if row else 0
    s3 = _client("s3", env)
    objects = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=env["UPLOAD_BUCKET"]):
        objects += page.get("KeyCount", 0)
    out["s3.objects"] = objects
    sqs = _client("sqs", env)
    names = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
             "ApproximateNumberOfMessagesDelayed")
    for url in sorted(queue_urls(env).values()):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))["Attributes"]
        out[f"sqs.{url.rsplit('/', 1)[-1]}"] = sum(int(attrs.get(name, 0)) for name in names)
    out["kafka.events"] = sum(topic_offsets(env).values())
    from opensearchpy import OpenSearch

    search = OpenSearch(hosts=[env["OPENSEARCH_URL"]], timeout=10)
    alias = env.get("SEARCH_ALIAS") or namespace_of(env).search_alias
    out["search.documents"] = int(search.count(index=alias)["count"])
    idp = _client("cognito-idp", env, env["AWS_ENDPOINT_URL_COGNITO_IDP"])
    users = 0
    for page in idp.get_paginator("list_users").paginate(UserPoolId=env["USER_POOL_ID"]):
        users += len(page["Users"])
    out["cognito.users"] = users
    return out


def user_ids(env: Mapping[str, str]) -> set[str]:
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT user_id FROM users").fetchall()}


def owned(env: Mapping[str, str], users: set[str]) -> dict[str, int]:
    """What the namespace holds of ``users`` (a test run's identities): rows, objects, events,
    search documents, cache keys."""
    ids = sorted(users)
    out: dict[str, int] = {}
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        files = [row[0] for row in conn.execute(
            "SELECT file_id FROM files WHERE owner_id = ANY(%s)", (ids,)).fetchall()]
        for name, sql, arg in (
            ("db.users", "SELECT count(*) FROM users WHERE user_id = ANY(%s)", ids),
            ("db.files", "SELECT count(*) FROM files WHERE file_id = ANY(%s)", files),
            ("db.shares", "SELECT count(*) FROM shares WHERE grantee_id = ANY(%s)", ids),
            ("db.links", "SELECT count(*) FROM links WHERE file_id = ANY(%s)", files),
            ("db.notifications", "SELECT count(*) FROM notifications WHERE user_id = ANY(%s)", ids),
            ("db.outbox", "SELECT count(*) FROM outbox WHERE aggregate_id = ANY(%s)", files),
        ):
            row = conn.execute(sql, (arg,)).fetchone()
            out[name] = int(row[0]) if row else 0
    s3 = _client("s3", env)
    out["s3.objects"] = sum(s3.list_objects_v2(Bucket=env["UPLOAD_BUCKET"], Prefix=f"u/{user}/",
                                               MaxKeys=1000).get("KeyCount", 0) for user in ids)
    from opensearchpy import OpenSearch

    search = OpenSearch(hosts=[env["OPENSEARCH_URL"]], timeout=10)
    alias = env.get("SEARCH_ALIAS") or namespace_of(env).search_alias
    out["search.documents"] = int(search.count(index=alias, body={
        "query": {"terms": {"readers": ids}}})["count"]) if ids else 0
    import redis

    cache = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    try:
        marks = set(ids) | {str(file_id) for file_id in files}
        out["redis.keys"] = sum(1 for key in cache.scan_iter(count=1000) if any(m in key for m in marks))
    finally:
        cache.close()
    return out


def events_since(env: Mapping[str, str], start: dict[int, int], marks: set[str]) -> int:
    """Records appended to the events topic after the offsets ``start`` that mention one of ``marks``."""
    from kafka import KafkaConsumer, TopicPartition

    topic = env.get("EVENTS_TOPIC") or namespace_of(env).events_topic
    consumer = KafkaConsumer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"].split(","),
                             enable_auto_commit=False, client_id="namespace-snapshot")
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(partitions)
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, start.get(tp.partition, 0))
        found = 0
        pending = {tp for tp in partitions if consumer.position(tp) < ends[tp]}
        while pending:
            for tp, records in consumer.poll(timeout_ms=1000, max_records=500).items():
                found += sum(1 for r in records if r.offset < ends[tp]
                             and any(m in (r.value or b"").decode(errors="replace") for m in marks))
            pending = {tp for tp in pending if consumer.position(tp) < ends[tp]}
        return found
    finally:
        consumer.close()


def topic_offsets(env: Mapping[str, str]) -> dict[int, int]:
    from kafka import KafkaConsumer, TopicPartition

    topic = env.get("EVENTS_TOPIC") or namespace_of(env).events_topic
    consumer = KafkaConsumer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"].split(","),
                             enable_auto_commit=False, client_id="namespace-snapshot")
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return {tp.partition: int(offset) for tp, offset in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()
