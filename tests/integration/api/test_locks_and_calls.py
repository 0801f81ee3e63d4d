"""No S3 call while a row lock is held where the design can avoid it (issue 9), against the real
PostgreSQL and LocalStack S3: the check runs inside the S3 call and tries to take the lock from
another connection with NOWAIT, which fails at once if the caller still holds it."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest

from fileshare.adapters import storage
from tests.integration.conftest import Api, User


def _row_is_free(user_id: str) -> bool:
    with psycopg.connect(os.environ["DATABASE_URL"]) as other:
        try:
            other.execute("SELECT 1 FROM users WHERE user_id = %s FOR UPDATE NOWAIT", (user_id,))
        except psycopg.errors.LockNotAvailable:
            return False
        other.rollback()
    return True


def test_starting_a_multipart_upload_does_not_hold_the_users_row(
        files_api: Api, alice: User, override_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    override_settings(MULTIPART_THRESHOLD_BYTES="1024")
    assert files_api("GET", "/me").status == 200  # alice's row exists
    seen: list[bool] = []
    real_start = storage.start_multipart

    def checking_start(key: str, size: int, content_type: str, **options: Any) -> dict[str, Any]:
        seen.append(_row_is_free(alice.user_id))
        return real_start(key, size, content_type, **options)

    monkeypatch.setattr(storage, "start_multipart", checking_start)
    reply = files_api("POST", "/files", body={"name": "big.bin", "size": 20 * 1024**2,
                                              "content_type": "application/octet-stream"})
    assert reply.status == 201, reply.body
    assert reply.body["upload"]["method"] == "MULTIPART"
    assert seen == [True]


def test_a_refused_multipart_upload_is_aborted_again(
        files_api: Api, alice: User, override_settings: Any, monkeypatch: pytest.MonkeyPatch,
        s3: Any) -> None:
    override_settings(MULTIPART_THRESHOLD_BYTES="1024", DEFAULT_QUOTA_BYTES=str(5 * 1024**2))
    aborted: list[str] = []
    real_abort = storage.abort_multipart

    def recording_abort(key: str, upload_id: str) -> None:
        aborted.append(upload_id)
        real_abort(key, upload_id)

    monkeypatch.setattr(storage, "abort_multipart", recording_abort)
    reply = files_api("POST", "/files", body={"name": "too big.bin", "size": 6 * 1024**2,
                                              "content_type": "application/octet-stream"})
    assert reply.status == 413, reply.body
    assert len(aborted) == 1
