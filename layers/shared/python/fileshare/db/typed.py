"""Typed reads: run a statement and get its rows as instances of a row dataclass (psycopg's
``class_row``: each column becomes the keyword argument of the same name, so a query must return
exactly the dataclass's fields)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Connection
from psycopg.rows import class_row

Params = Sequence[Any] | dict[str, Any]


def one[T](conn: Connection[Any], cls: type[T], sql: str, params: Params = ()) -> T | None:
    """The first row as ``cls``, or None."""
    with conn.cursor(row_factory=class_row(cls)) as cur:
        return cur.execute(sql, params).fetchone()


def many[T](conn: Connection[Any], cls: type[T], sql: str, params: Params = ()) -> list[T]:
    """Every row as ``cls``."""
    with conn.cursor(row_factory=class_row(cls)) as cur:
        return cur.execute(sql, params).fetchall()
