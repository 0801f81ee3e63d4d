"""The expiry sweeper (functions/sweeper) against the real PostgreSQL, LocalStack S3 and OpenSearch.

Times are arranged with SQL (``expires_at``/``trashed_at``/``updated_at`` in the past), never by
waiting. The sweeper is global, like the scheduled function: assertions are about this test's rows.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fileshare import expiry
from fileshare.config import settings
from tests.integration.conftest import Api, User, _load_handler
from tests.integration.test_trash_deletion import (  # noqa: F401 - isolated_stack is a fixture
    deletion_payload,
    isolated_stack,
    msk_event_for,
    objects_of,
    ready_image,
    run_deleter,
    search_doc,
)
from tests.support.pipeline import Context


def sweep() -> dict[str, Any]:
    result: dict[str, Any] = _load_handler("sweeper").lambda_handler(
        {"source": "aws.scheduler"}, Context(function_name="sweeper", timeout_ms=120_000))
    return result


def status(db: Any, file_id: str) -> str | None:
    row = db.execute("SELECT status FROM files WHERE file_id = %s", (file_id,)).fetchone()
    return row["status"] if row else None


def test_expired_files_go_down_the_purge_path(files_api: Api, alice: User, db: Any, s3: Any) -> None:
    # Given a ready file that expired, a pending one that expired, and one that expires tomorrow
    expired = ready_image(files_api, db, name="expired.png")
    pending = files_api("POST", "/files", body={"name": "p.txt", "size": 3, "content_type": "text/plain"}
                        ).body["file_id"]
    later = ready_image(files_api, db, name="later.png")
    db.execute("UPDATE files SET expires_at = now() - interval '1 minute' WHERE file_id = ANY(%s::uuid[])",
               ([expired, pending],))
    db.execute("UPDATE files SET expires_at = now() + interval '1 day' WHERE file_id = %s", (later,))

    # When the sweeper runs
    sweep()

    # Then the expired ones are deleting with a file.expired event naming owner and file; the other stays
    assert status(db, expired) == status(db, pending) == "deleting"
    assert status(db, later) == "ready"
    payload = deletion_payload(db, expired)
    assert payload["type"] == "file.expired" and payload["owner_id"] == alice.user_id
    assert payload["data"]["name"] == "expired.png" and payload["data"]["reason"] == "expired"
    assert files_api("GET", f"/files/{expired}").status == 404

    # And the deleter finishes the purge from that event
    deleter = _load_handler("deleter").lambda_handler
    assert run_deleter(deleter, msk_event_for(payload)) == {"batchItemFailures": []}
    assert status(db, expired) is None and objects_of(s3, alice.user_id, expired) == []
    assert search_doc(expired) is None

    # And a second run does not announce them again
    sweep()
    assert len([p for p in db.execute("SELECT type FROM outbox WHERE aggregate_id = %s", (pending,))
                if p["type"] == "file.expired"]) == 1


def test_trash_past_retention_is_purged_and_younger_trash_is_kept(files_api: Api, alice: User,
                                                                   db: Any) -> None:
    old, young = (files_api("POST", "/files", body={"name": n, "size": 3, "content_type": "text/plain"}
                            ).body["file_id"] for n in ("old.txt", "young.txt"))
    for file_id in (old, young):
        assert files_api("DELETE", f"/files/{file_id}").status == 204
    days = settings().trash_retention_days
    db.execute("UPDATE files SET trashed_at = now() - make_interval(days => %s, mins => 1)"
               " WHERE file_id = %s", (days, old))
    db.execute("UPDATE files SET trashed_at = now() - make_interval(days => %s) + interval '1 hour'"
               " WHERE file_id = %s", (days, young))

    sweep()

    assert status(db, old) == "deleting" and status(db, young) == "trashed"
    payload = deletion_payload(db, old)
    assert payload["type"] == "file.deleted" and payload["data"]["reason"] == "trash_retention"
    assert payload["owner_id"] == alice.user_id and payload["data"]["name"] == "old.txt"


def test_a_stalled_purge_is_finished_by_the_sweeper(files_api: Api, alice: User, db: Any, s3: Any) -> None:
    # Given a purge whose event never got its deletion done (retries exhausted) an hour ago
    file_id = ready_image(files_api, db, name="stalled.png")
    files_api("DELETE", f"/files/{file_id}")
    assert Api(_load_handler("trash"), alice.claims)("DELETE", f"/trash/{file_id}").status == 204
    db.execute("UPDATE files SET updated_at = now() - interval '2 hours' WHERE file_id = %s", (file_id,))
    assert len(objects_of(s3, alice.user_id, file_id)) == 2

    # When the sweeper runs, it purges the file itself
    sweep()

    # Then everything is gone, and no second deletion event was written (no second notification)
    assert status(db, file_id) is None
    assert objects_of(s3, alice.user_id, file_id) == [] and search_doc(file_id) is None
    types = [r["type"] for r in db.execute("SELECT type FROM outbox WHERE aggregate_id = %s", (file_id,))]
    assert types.count("file.deleted") == 1


def test_a_row_locked_by_a_request_is_skipped_not_waited_for(files_api: Api, db: Any) -> None:
    # Given an expired file whose row another transaction holds (a request renaming it, say)
    file_id = files_api("POST", "/files", body={"name": "busy.txt", "size": 3, "content_type": "text/plain"}
                        ).body["file_id"]
    db.execute("UPDATE files SET expires_at = now() - interval '1 minute' WHERE file_id = %s", (file_id,))
    with psycopg.connect(os.environ["DATABASE_URL"], row_factory=dict_row) as holder:
        holder.execute("SELECT 1 FROM files WHERE file_id = %s FOR UPDATE", (file_id,))
        # When a batch runs meanwhile, it skips the locked row (SKIP LOCKED) instead of blocking
        expiry.expire_batch()
        assert status(db, file_id) == "pending"
        holder.rollback()
    # Then the next batch takes it
    expiry.expire_batch()
    assert status(db, file_id) == "deleting"


def test_batches_are_bounded(files_api: Api, db: Any) -> None:
    ids = [files_api("POST", "/files", body={"name": f"b{i}.txt", "size": 3, "content_type": "text/plain"}
                     ).body["file_id"] for i in range(3)]
    db.execute("UPDATE files SET expires_at = now() - interval '1 minute' WHERE file_id = ANY(%s::uuid[])",
               (ids,))
    taken = [expiry.expire_batch(limit=2)]
    while taken[-1] and {status(db, i) for i in ids} != {"deleting"}:  # older due rows may come first
        taken.append(expiry.expire_batch(limit=2))
    assert taken[0] == 2 and max(taken) == 2 and len(taken) >= 2
    assert {status(db, i) for i in ids} == {"deleting"}
