"""The expiry sweeper (functions/sweeper) against the real PostgreSQL, LocalStack S3 and OpenSearch.

Times are arranged with SQL (``expires_at``/``trashed_at``/``updated_at`` in the past), never by
waiting. The sweeper is global, like the scheduled function: assertions are about this test's rows.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from fileshare import expiry
from fileshare.config import settings
from tests.integration.conftest import Api, User, _load_handler
from tests.integration.lifecycle.conftest import (
    deletion_payload,
    msk_event_for,
    objects_of,
    ready_image,
    run_deleter,
    search_doc,
)
from tests.support.apigw import FakeContext

pytestmark = pytest.mark.usefixtures("isolated_stack")  # its own bucket and events topic


def sweep() -> dict[str, Any]:
    result: dict[str, Any] = _load_handler("sweeper").lambda_handler(
        {"source": "aws.scheduler"}, FakeContext(function_name="sweeper", timeout_ms=120_000))
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


def _abandon(db: Any, *file_ids: str, age: str = "2 days") -> None:
    db.execute("UPDATE files SET created_at = now() - %s::interval WHERE file_id = ANY(%s::uuid[])",
               (age, list(file_ids)))


def test_abandoned_uploads_are_rejected_cleaned_up_and_free_their_quota(
        files_api: Api, alice: User, db: Any, s3: Any) -> None:
    import requests

    bucket = settings().upload_bucket
    # Given a POST upload whose bytes arrived but were never processed (the event was lost) ...
    posted = files_api("POST", "/files", body={"name": "lost.txt", "size": 3, "content_type": "text/plain"}
                       ).body
    sent = requests.post(posted["upload"]["url"], data=posted["upload"]["fields"],
                         files={"file": ("f", b"abc", "text/plain")}, timeout=30)
    assert sent.status_code == 204
    # ... a multipart upload that was started and never completed ...
    big = settings().multipart_threshold_bytes
    multipart = files_api("POST", "/files", body={"name": "big.bin", "size": big,
                                                   "content_type": "application/octet-stream"}).body
    upload_id = multipart["upload"]["upload_id"]
    # ... both created two days ago, and two recent uploads still within their time
    fresh = files_api("POST", "/files", body={"name": "fresh.txt", "size": 3, "content_type": "text/plain"}
                      ).body["file_id"]
    recent = files_api("POST", "/files", body={"name": "recent.txt", "size": 3, "content_type": "text/plain"}
                       ).body["file_id"]
    old = [posted["file_id"], multipart["file_id"]]
    _abandon(db, *old)
    _abandon(db, recent, age="1 hour")
    # and a quota that the reserved (pending) bytes have used up
    db.execute("UPDATE users SET quota_bytes = %s WHERE user_id = %s", (3 + big + 3 + 3 + 50, alice.user_id))
    too_much = files_api("POST", "/files", body={"name": "n.txt", "size": 100, "content_type": "text/plain"})
    assert too_much.status == 413 and too_much.body["error"]["code"] == "quota_exceeded"

    # When the sweeper runs
    result = sweep()

    # Then the old uploads are rejected as abandoned, the recent ones untouched
    assert result["abandoned"] >= 2 and result["abandoned_failed"] == 0
    for file_id in old:
        row = db.execute("SELECT status, reject_reason, upload_id FROM files WHERE file_id = %s",
                         (file_id,)).fetchone()
        assert (row["status"], row["reject_reason"]) == ("rejected", "upload_abandoned")
        assert row["upload_id"] is None
        (event,) = [e for e in db.execute("SELECT type, payload FROM outbox WHERE aggregate_id = %s",
                                          (file_id,))]
        assert event["type"] == "file.rejected" and event["payload"]["data"]["reason"] == "upload_abandoned"
    assert status(db, fresh) == status(db, recent) == "pending"
    # and their bytes are gone: the object deleted, the multipart upload aborted
    assert objects_of(s3, alice.user_id, posted["file_id"]) == []
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=f"u/{alice.user_id}/").get("Uploads", [])
    assert upload_id not in {u["UploadId"] for u in uploads}
    # and the quota they reserved is free again
    assert files_api("POST", "/files", body={"name": "n.txt", "size": 100, "content_type": "text/plain"}
                     ).status == 201

    # And a second run changes nothing for them
    sweep()
    assert [e["type"] for e in db.execute("SELECT type FROM outbox WHERE aggregate_id = ANY(%s::uuid[])",
                                          (old,))] == ["file.rejected", "file.rejected"]


def test_abandoned_uploads_skip_locked_rows_and_respect_the_presign_lifetime(
        files_api: Api, db: Any, override_settings: Any) -> None:
    file_id = files_api("POST", "/files", body={"name": "held.txt", "size": 3, "content_type": "text/plain"}
                        ).body["file_id"]
    _abandon(db, file_id, age="2 days")
    # Given a TTL set below the presign lifetime: the presign lifetime plus a margin still applies
    override_settings(PENDING_UPLOAD_TTL_SECONDS="1", PRESIGN_TTL_SECONDS="900")
    assert expiry.abandoned_after_s() == 900 + expiry.PRESIGN_MARGIN_S
    _abandon(db, file_id, age="10 minutes")
    expiry.abandoned_batch()
    assert status(db, file_id) == "pending"
    # Given the row is old enough but held by another transaction, it is skipped, not waited for
    _abandon(db, file_id, age="2 days")
    with psycopg.connect(os.environ["DATABASE_URL"], row_factory=dict_row) as holder:
        holder.execute("SELECT 1 FROM files WHERE file_id = %s FOR UPDATE", (file_id,))
        expiry.abandoned_batch()
        assert status(db, file_id) == "pending"
        holder.rollback()
    expiry.abandoned_batch()
    assert status(db, file_id) == "rejected"


def test_multipart_parts_sign_their_length_and_a_purge_aborts_the_upload(
        files_api: Api, alice: User, db: Any, s3: Any) -> None:
    from urllib.parse import parse_qs, urlsplit

    from fileshare import deletion

    bucket = settings().upload_bucket
    # Given a multipart upload that was started but never completed
    size = settings().multipart_threshold_bytes + 1
    created = files_api("POST", "/files", body={"name": "parts.bin", "size": size,
                                                 "content_type": "application/octet-stream"}).body
    upload = created["upload"]
    # Then every part URL signs its exact Content-Length (real S3 refuses other sizes), and the
    # signed lengths add up to the declared size
    signed = [parse_qs(urlsplit(p["url"]).query)["X-Amz-SignedHeaders"][0] for p in upload["parts"]]
    assert all("content-length" in headers.split(";") for headers in signed)
    part_size, count = upload["part_size"], len(upload["parts"])
    assert part_size * (count - 1) < size <= part_size * count
    # When the file is purged before its upload completed
    db.execute("UPDATE files SET status = 'deleting' WHERE file_id = %s", (created["file_id"],))
    deletion.purge(created["file_id"], alice.user_id)
    # Then the multipart upload is aborted (no parts left behind) and the row is gone
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=f"u/{alice.user_id}/").get("Uploads", [])
    assert upload["upload_id"] not in {u["UploadId"] for u in uploads}
    assert status(db, created["file_id"]) is None
