"""PostgreSQL is the real server and the migration runner behaves: apply once, re-run as no-op."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fileshare.db import migrate


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A brand-new database on the local server, dropped afterwards."""
    base = psycopg.conninfo.conninfo_to_dict(os.environ["DATABASE_URL"])
    name = f"fileshare_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg.conninfo.make_conninfo("", **{**base, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo("", **{**base, "dbname": name})
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_server_is_real_postgresql() -> None:
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
    assert version is not None and int(version[0]) >= 150000


def test_migrations_apply_to_empty_database_then_rerun_as_noop(empty_database: str) -> None:
    expected = [m.version for m in migrate.discover()]

    first = migrate.apply(empty_database)
    second = migrate.apply(empty_database)

    assert first == expected and expected
    assert second == []
    assert migrate.applied_versions(empty_database) == expected
    with psycopg.connect(empty_database) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
    assert {"users", "files", "shares", "links", "notifications", "outbox"} <= tables
    assert "processed_events" not in tables  # dropped by 0005, never used


def test_changed_migration_is_refused(empty_database: str, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t1 (id int);")
    migrate.apply(empty_database, tmp_path)
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t1 (id bigint);")

    with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
        migrate.apply(empty_database, tmp_path)


def test_failed_migration_leaves_nothing_half_applied(empty_database: str, tmp_path: Path) -> None:
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE good (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (id int); SELECT no_such_function();")

    with pytest.raises(psycopg.Error):
        migrate.apply(empty_database, tmp_path)

    assert migrate.applied_versions(empty_database) == [1]
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT to_regclass('half')").fetchone() == (None,)
