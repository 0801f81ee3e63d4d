"""What must exist before the first request, created by the bootstrap function on every deploy.

The schema (migrations), the files search index behind its alias, and the Kafka topics. Every step
is idempotent and safe to run concurrently with itself, so a re-run (every deploy, every
``make up``) changes nothing that is already right. CDK runs it as a custom resource; the local
stack runs the same function through the local Lambda runtime. Nothing else provisions these.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fileshare import timeouts
from fileshare.config import settings
from fileshare.timeouts import KAFKA_ADMIN_REQUEST_TIMEOUT_S

log = logging.getLogger(__name__)

_DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """A topic the app needs. Only configs MSK Serverless accepts are set; the replication factor
    is the broker's default (MSK Serverless fixes it, the local single node has 1)."""

    name: str
    partitions: int
    configs: Mapping[str, str] = field(default_factory=dict)


def app_topics(events_topic: str | None = None) -> tuple[TopicSpec, ...]:
    """The domain events topic (key = file_id, so one file's events stay ordered in one partition).
    Failed batches go to an SQS on-failure queue, as the MSK event source mapping does, so there is
    no dead-letter topic."""
    return (
        TopicSpec(events_topic or settings().events_topic, 3,
                  {"cleanup.policy": "delete", "retention.ms": str(7 * _DAY_MS)}),
    )


def migrate_schema() -> list[int]:
    """Apply pending migrations through the runner; returns the versions applied now."""
    from fileshare.db import migrate  # cold start: psycopg only when the database is set up
    from fileshare.db.connection import database_url  # cold start: as above

    applied = migrate.apply(database_url())
    migrate.set_statement_timeout(database_url(), timeouts.DATABASE_STATEMENT_TIMEOUT_MS)
    return applied


def ensure_search_index() -> str:
    """The versioned files index behind the search alias, rebuilt when the code's mapping is newer."""
    # cold start: opensearch-py only when the index is set up
    from fileshare.search.index import client, ensure_index, needs_rebuild, rebuild_index

    search, alias = client(), settings().search_alias
    index = ensure_index(search, alias)
    if needs_rebuild(search, alias):
        index = rebuild_index(search, alias)
    return index


def ensure_topics(topics: tuple[TopicSpec, ...] | None = None) -> list[str]:
    """Create missing topics and grow partition counts; returns the names created now."""
    from kafka.admin import KafkaAdminClient  # cold start: kafka-python only when topics are set up
    from kafka.errors import TopicAlreadyExistsError  # cold start: as above

    from fileshare.adapters.kafka import connection_options  # cold start: as above

    wanted = topics or app_topics()
    admin = KafkaAdminClient(**connection_options("fileshare-bootstrap"),
                             request_timeout_ms=int(KAFKA_ADMIN_REQUEST_TIMEOUT_S * 1000))
    try:
        existing = set(admin.list_topics())
        created = []
        for spec in (spec for spec in wanted if spec.name not in existing):
            with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently: fine
                # replication_factor stays -1, the broker's default: MSK Serverless rejects others.
                admin.create_topics({spec.name: {"num_partitions": spec.partitions,
                                                 "configs": dict(spec.configs)}}, wait_for_metadata=True)
                created.append(spec.name)
        present = [spec.name for spec in wanted if spec.name in existing]
        if present:
            counts = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(present)}
            grow = {spec.name: spec.partitions for spec in wanted
                    if spec.name in counts and counts[spec.name] < spec.partitions}
            if grow:
                admin.create_partitions(grow)
        return created
    finally:
        admin.close()


def run() -> dict[str, Any]:
    """Every step, in order; returns what it did (the custom resource's Data)."""
    migrations = migrate_schema()
    index = ensure_search_index()
    topics = ensure_topics()
    summary = {"migrations_applied": ",".join(map(str, migrations)), "search_index": index,
               "topics_created": ",".join(topics)}
    log.info("bootstrap done: %s", summary)
    return summary
