"""A small, tested migration runner: numbered SQL files applied once each, in order.

Each file runs in its own transaction and is recorded in ``schema_migrations`` with its checksum;
a transaction-level advisory lock keeps two runners (two deploys, two laptops' `make dev`) from
racing. An applied file whose content changed is an error, never silently re-run.

Statements PostgreSQL refuses inside a transaction (``CREATE INDEX CONCURRENTLY``) go in a file
named ``NNNN_name.notx.sql``: its statements (separated by ``;`` at the end of a line) run one by
one in autocommit mode under a session-level advisory lock, and the file is recorded only when all
succeeded. Such statements must be idempotent (``IF NOT EXISTS``), since a failed file runs again;
an index left invalid by an interrupted ``CONCURRENTLY`` build of that file is dropped first.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x46534D47  # "FSMG": any constant shared by all runners
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)(\.notx)?\.sql$")


class MigrationError(RuntimeError):
    """The migration files and the database disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    transactional: bool = True

    def statements(self) -> list[str]:
        """The file's statements, for a non-transactional file (one ``;`` per line end)."""
        return [part.strip() for part in re.split(r";\s*$", self.sql, flags=re.MULTILINE) if part.strip()]

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"bad migration file name: {path.name} (want NNNN_name.sql or "
                                 "NNNN_name.notx.sql)")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(),
                                    transactional=match[3] is None))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return migrations


def apply(database_url: str, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations; return the versions applied (empty when up to date)."""
    migrations = discover(directory)
    applied_now: list[int] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        # A migration may run longer than a request's statement_timeout (the database's default,
        # set_statement_timeout below): lifted for this session only (the bootstrap's own connection).
        conn.execute("SET statement_timeout = 0")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in migrations:
            if migration.transactional:
                applied = _apply_in_transaction(conn, migration)
            else:
                applied = _apply_without_transaction(conn, migration)
            if applied:
                applied_now.append(migration.version)
    return applied_now


def set_statement_timeout(database_url: str, timeout_ms: int) -> None:
    """Make ``timeout_ms`` the database's default ``statement_timeout`` for every new session.

    It is not sent at connect: RDS Proxy refuses a startup ``options`` parameter ("RDS Proxy
    currently doesn't support command-line options"), and a ``SET`` per session would pin it to one
    database connection. A database default needs neither; the bootstrap sets it on every deploy
    (idempotent), after the migrations, as the database's owner.
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        assert name is not None
        conn.execute(sql.SQL("ALTER DATABASE {} SET statement_timeout = {}").format(
            sql.Identifier(str(name[0])), sql.Literal(int(timeout_ms))))


def _recorded(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> bool:
    row = conn.execute("SELECT checksum FROM schema_migrations WHERE version = %s",
                       (migration.version,)).fetchone()
    if row is None:
        return False
    if row[0] != migration.checksum:
        raise MigrationError(f"migration {migration.version}_{migration.name} changed after it was "
                             "applied; add a new migration instead")
    return True


def _record(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> None:
    conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                 (migration.version, migration.name, migration.checksum))


def _apply_in_transaction(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> bool:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        if _recorded(conn, migration):
            return False
        conn.execute(migration.sql.encode())
        _record(conn, migration)
    return True


def _apply_without_transaction(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> bool:
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        if _recorded(conn, migration):
            return False
        invalid = conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid").fetchall()
        for (index_name,) in invalid:  # left by an interrupted CONCURRENTLY build of this file
            if re.search(rf"\b{re.escape(str(index_name))}\b", migration.sql):
                conn.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{index_name}"'.encode())
        for statement in migration.statements():
            conn.execute(statement.encode())
        _record(conn, migration)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return True


def applied_versions(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [r[0] for r in rows]
