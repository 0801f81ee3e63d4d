"""The bootstrap function, run the way `make up` runs it (the local Lambda runtime, the Provider
framework's event), makes a fresh deployment usable: schema, search index behind its alias, topics.
It is idempotent: a second deploy changes nothing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka.admin import KafkaAdminClient
from opensearchpy import OpenSearch

from fileshare.db import migrate
from infra.declaration import by_name
from lambdarun.runtime import Runtime


def _create_event(request_type: str = "Create") -> dict[str, Any]:
    return {"RequestType": request_type, "ResourceType": "Custom::FileshareBootstrap",
            "LogicalResourceId": "Bootstrap", "RequestId": str(uuid.uuid4()), "ResourceProperties": {}}


@pytest.fixture
def fresh_deployment(tmp_path: Path, test_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A database, search alias and topic name nobody has provisioned, removed afterwards."""
    base = psycopg.conninfo.conninfo_to_dict(os.environ["DATABASE_URL"])
    name = f"fileshare_boot_{uuid.uuid4().hex[:10]}"
    admin = psycopg.conninfo.make_conninfo("", **{**base, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**test_env, "DATABASE_URL": psycopg.conninfo.make_conninfo("", **{**base, "dbname": name}),
           "SEARCH_ALIAS": f"boot-{uuid.uuid4().hex[:8]}", "EVENTS_TOPIC": f"boot.{uuid.uuid4().hex[:8]}"}
    search = OpenSearch(hosts=[os.environ["OPENSEARCH_URL"]])
    try:
        yield env
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        search.indices.delete(index=f"{env['SEARCH_ALIAS']}-v*", ignore_unavailable=True)
        admin_client = KafkaAdminClient(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"])
        try:
            admin_client.delete_topics([env["EVENTS_TOPIC"]])
        finally:
            admin_client.close()


def _run_bootstrap(env: dict[str, str], tmp_path: Path, request_type: str = "Create") -> dict[str, Any]:
    runtime = Runtime([by_name("bootstrap")], base_env=env, log_dir=tmp_path, max_concurrency=1)
    try:
        invocation = runtime.invoke("bootstrap", _create_event(request_type))
    finally:
        runtime.close()
    assert invocation.ok, (invocation.error, (tmp_path / "bootstrap.log").read_text())
    return dict(invocation.result)


def test_bootstrap_makes_a_fresh_deployment_usable_and_reruns_as_a_noop(
        fresh_deployment: dict[str, str], tmp_path: Path) -> None:
    env = fresh_deployment
    # When the bootstrap runs on a fresh deployment
    first = _run_bootstrap(env, tmp_path)

    # Then every migration is applied ...
    expected = [m.version for m in migrate.discover()]
    assert first["PhysicalResourceId"] == "fileshare-bootstrap"
    assert first["Data"]["migrations_applied"] == ",".join(map(str, expected))
    assert migrate.applied_versions(env["DATABASE_URL"]) == expected
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"users", "files", "shares", "links", "notifications", "outbox"} <= tables
    # ... the alias points at a versioned index whose ACL field is a keyword (not analyzed text) ...
    search = OpenSearch(hosts=[env["OPENSEARCH_URL"]])
    alias = env["SEARCH_ALIAS"]
    (index,) = search.indices.get_alias(name=alias)
    assert index == f"{alias}-v1" == first["Data"]["search_index"]
    mapping = search.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["properties"]["readers"]["type"] == "keyword"
    # ... and the topic exists with its partitions.
    admin = KafkaAdminClient(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
    try:
        (topic,) = admin.describe_topics([env["EVENTS_TOPIC"]])
    finally:
        admin.close()
    assert len(topic["partitions"]) == 3
    assert first["Data"]["topics_created"] == env["EVENTS_TOPIC"]

    # When the next deploy runs it again, nothing is created twice.
    second = _run_bootstrap(env, tmp_path, "Update")
    assert second["Data"] == {"migrations_applied": "", "search_index": index, "topics_created": ""}


def test_bootstrap_delete_leaves_the_data_alone(fresh_deployment: dict[str, str], tmp_path: Path) -> None:
    _run_bootstrap(fresh_deployment, tmp_path)
    result = _run_bootstrap(fresh_deployment, tmp_path, "Delete")
    assert "Data" not in result
    assert migrate.applied_versions(fresh_deployment["DATABASE_URL"])  # the schema is still there


def test_non_transactional_migration_runs_outside_a_transaction(tmp_path: Path) -> None:
    """CREATE INDEX CONCURRENTLY cannot run in a transaction: a .notx.sql file can, and an index an
    interrupted earlier try left invalid is rebuilt rather than skipped by IF NOT EXISTS."""
    base = psycopg.conninfo.conninfo_to_dict(os.environ["DATABASE_URL"])
    name = f"fileshare_notx_{uuid.uuid4().hex[:10]}"
    admin = psycopg.conninfo.make_conninfo("", **{**base, "dbname": "postgres"})
    url = psycopg.conninfo.make_conninfo("", **{**base, "dbname": name})
    (tmp_path / "0001_table.sql").write_text("CREATE TABLE t (id int, v text);\n")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        assert migrate.apply(url, tmp_path) == [1]
        # Given an invalid index left by a CONCURRENTLY build that failed half-way
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO t VALUES (1, 'a'), (2, 'a')")
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute("CREATE UNIQUE INDEX CONCURRENTLY t_v ON t (v)")
            conn.execute("DELETE FROM t WHERE id = 2")
        (tmp_path / "0002_index.notx.sql").write_text(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n")
        # When the non-transactional migration runs (twice: the second is a no-op)
        assert migrate.apply(url, tmp_path) == [2]
        assert migrate.apply(url, tmp_path) == []
        # Then both indexes exist and are valid
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT c.relname, i.indisvalid FROM pg_index i "
                                "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 't_%'"
                                " ORDER BY 1").fetchall()
        assert rows == [("t_id", True), ("t_v", True)]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
