"""Pooled connections leave no session state behind a transaction that would pin them to one
database connection behind RDS Proxy (infra/README.md, "RDS Proxy pinning"): psycopg never prepares
a statement on them, and the outbox publisher's per-file lock is transaction-level (RDS Proxy does
not pin on ``pg_try_advisory_xact_lock``). Against the local PostgreSQL, in the session itself."""

from __future__ import annotations

import os
import uuid
from typing import Any

import psycopg

from fileshare import events
from fileshare.db import connection

REPEATS = 12  # more than psycopg's default prepare_threshold (5)
QUERY = "SELECT %s::int + 1 AS n"


def prepared_in_session(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) AS n FROM pg_prepared_statements", prepare=False).fetchone()
    assert row is not None
    return int(row["n"] if isinstance(row, dict) else row[0])


def test_pool_connections_never_prepare_a_statement() -> None:
    with connection.transaction() as conn:
        assert conn.prepare_threshold is None
        for i in range(REPEATS):
            conn.execute(QUERY, (i,))
        with conn.cursor() as cursor:
            cursor.executemany(QUERY, [(i,) for i in range(REPEATS)])
        assert prepared_in_session(conn) == 0


def test_a_default_psycopg_connection_would_have_prepared() -> None:
    """The check above can fail: psycopg's default prepares the query after 5 runs."""
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        for i in range(REPEATS):
            conn.execute(QUERY, (i,))
        assert prepared_in_session(conn) >= 1


def test_the_outbox_lock_ends_with_its_transaction() -> None:
    with connection.transaction() as conn:
        backend = conn.info.backend_pid
        assert events._lock_file(conn, uuid.uuid4())
        held = conn.execute("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = %s",
                            (backend,)).fetchone()
        assert held is not None and held["n"] == 1
    with connection.pool().connection() as conn:
        rows = conn.execute("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = %s",
                            (backend,)).fetchone()
        assert rows is not None and rows["n"] == 0  # nothing outlives the transaction in the session


def test_the_statement_timeout_is_the_databases_default_not_a_startup_option() -> None:
    """RDS Proxy refuses a startup ``options`` parameter, so the pool sends none; the bootstrap makes
    the 5 s timeout the database's default, and a pooled session has it without a SET (which
    would pin). The migration runner lifts it for its own session only."""
    from fileshare import timeouts
    from fileshare.db import migrate

    migrate.set_statement_timeout(os.environ["DATABASE_URL"], timeouts.DATABASE_STATEMENT_TIMEOUT_MS)
    connection.pool().close()
    connection.pool.cache_clear()  # new sessions: the default applies to sessions started after it
    with connection.transaction() as conn:
        assert conn.info.parameter_status("options") is None
        row = conn.execute("SHOW statement_timeout").fetchone()
        assert row is not None and row["statement_timeout"] == "5s"
        with psycopg.connect(os.environ["DATABASE_URL"]) as other:  # the setting is the database's
            assert other.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'"
                                 ).fetchone() == (str(timeouts.DATABASE_STATEMENT_TIMEOUT_MS),)
