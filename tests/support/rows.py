"""Rows for pipeline tests, written with plain SQL (independent of the API's code paths)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row


def connect(database_url: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(database_url, autocommit=True, row_factory=dict_row)


@dataclass(frozen=True)
class PendingFile:
    file_id: uuid.UUID
    owner_id: str
    key: str
    size: int
    content_type: str


def create_user(conn: psycopg.Connection[Any], *, quota_bytes: int = 10 * 1024**3) -> str:
    user_id = f"test-{uuid.uuid4()}"
    conn.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s)",
                 (user_id, f"{user_id}@pipeline.test", quota_bytes))
    return user_id


def create_pending_file(conn: psycopg.Connection[Any], owner_id: str, *, name: str, size: int,
                        content_type: str, status: str = "pending", tags: list[str] | None = None,
                        ) -> PendingFile:
    """A ``pending`` row as ``POST /files`` leaves it: key ``u/<owner>/<file_id>/<name>``."""
    file_id = uuid.uuid4()
    key = f"u/{owner_id}/{file_id}/{name}"
    conn.execute(
        "INSERT INTO files (file_id, owner_id, name, s3_key, size, content_type, status, tags)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (file_id, owner_id, name, key, size, content_type, status, tags or []))
    return PendingFile(file_id, owner_id, key, size, content_type)


def file_row(conn: psycopg.Connection[Any], file_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM files WHERE file_id = %s", (file_id,)).fetchone()
    assert row is not None
    return dict(row)


def outbox_rows(conn: psycopg.Connection[Any], file_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        "SELECT seq, event_id, type, payload, published_at FROM outbox WHERE aggregate_id = %s ORDER BY seq",
        (file_id,)).fetchall()]
