"""Reading the outbox's backlog (what the relay has not published yet)."""

from __future__ import annotations

from typing import Any

from psycopg import Connection


def backlog(conn: Connection[Any]) -> tuple[int, float]:
    """(unpublished rows, age in seconds of the oldest one; 0 when there is none)."""
    row = conn.execute(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age"
        " FROM outbox WHERE published_at IS NULL").fetchone()
    if row is None:
        return 0, 0.0
    n, age = (row["n"], row["age"]) if isinstance(row, dict) else (row[0], row[1])
    return int(n), float(age)
