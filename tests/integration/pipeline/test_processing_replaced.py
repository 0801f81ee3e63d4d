"""Objects the first verification did not see: a key written again after the file became ready, an
object no live file owns, and an upload that arrived while its file was in the trash.

Uploads go through a real presigned POST (the policy ``fileshare.adapters.storage`` signs) to LocalStack S3,
and the processor gets the notifications S3 really sent (from the pipeline tests' own queue).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

import requests
from PIL import Image

from fileshare import files as files_domain
from fileshare import trash
from fileshare.adapters import storage
from fileshare.adapters.storage import thumbnail_key
from tests.support import rows
from tests.support.pipeline import (
    Pipeline,
    as_lambda_event,
    failed_ids,
    invoke,
    payload,
    receive_notifications,
    s3_notification,
    search_doc,
    sqs_event,
)


def _png(color: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="PNG")
    return out.getvalue()


def _post(upload: dict[str, Any], data: bytes, content_type: str) -> None:
    """Send bytes with a presigned POST, as the browser does."""
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("f", data, content_type)},
                         timeout=30)
    assert sent.status_code == 204, sent.text


def _deliver(pipeline: Pipeline, key: str) -> dict[str, Any]:
    """Hand the notification S3 sent for the latest write of ``key`` to the processor."""
    messages = receive_notifications(pipeline, key)
    assert len(messages) == 1
    return invoke("processor", as_lambda_event(messages))


def _ready_via_post(pipeline: Pipeline, owner: str, data: bytes, *, name: str,
                    content_type: str) -> tuple[rows.PendingFile, dict[str, Any]]:
    """A pending row, its presigned POST, the bytes sent and processed: a ready file."""
    pending = rows.create_pending_file(pipeline.db, owner, name=name, size=len(data),
                                       content_type=content_type)
    upload = storage.presigned_post(pending.key, pending.size, content_type)
    _post(upload, data, content_type)
    assert failed_ids(_deliver(pipeline, pending.key)) == []
    row = rows.file_row(pipeline.db, pending.file_id)
    assert row["status"] == "ready" and row["verified_etag"] is not None
    return pending, upload


def _event_types(pipeline: Pipeline, file_id: uuid.UUID) -> list[str]:
    return [e["type"] for e in rows.outbox_rows(pipeline.db, file_id)]


# ---- 1. the key written again after verification -------------------------------------------------

def test_bytes_posted_again_after_ready_are_verified_and_a_mismatch_rejects_the_file(
        pipeline: Pipeline, owner: str) -> None:
    # Given a PNG made ready through its presigned POST: thumbnail and search document exist
    png = _png()
    pending, upload = _ready_via_post(pipeline, owner, png, name="photo.png", content_type="image/png")
    thumb = thumbnail_key(owner, pending.file_id)
    assert pipeline.exists(thumb) and search_doc(pending.file_id) is not None

    # When the owner POSTs other bytes of the same size with the same, still valid, policy
    impostor = b"#!/bin/sh\necho not an image\n".ljust(len(png), b"#")
    _post(upload, impostor, "image/png")  # S3 accepts it: the policy pins key, size and type only
    response = _deliver(pipeline, pending.key)

    # Then the new bytes were sniffed: the file is rejected with the reason, its bytes and thumbnail
    # are gone, it left the search index, and file.rejected announces it
    assert failed_ids(response) == []
    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["reject_reason"]) == ("rejected", "content_type_mismatch")
    assert row["checksum_sha256"] is None and row["thumbnail_key"] is None and row["verified_etag"] is None
    assert not pipeline.exists(pending.key) and not pipeline.exists(thumb)
    assert search_doc(pending.file_id) is None
    events = rows.outbox_rows(pipeline.db, pending.file_id)
    assert [e["type"] for e in events] == ["file.ready", "file.rejected"]
    assert payload(events[-1])["data"]["reason"] == "content_type_mismatch"


def test_bytes_posted_again_that_pass_update_checksum_etag_and_search(pipeline: Pipeline, owner: str) -> None:
    # Given a ready text file
    first = b"first version\n".ljust(400, b".")
    pending, upload = _ready_via_post(pipeline, owner, first, name="notes.txt", content_type="text/plain")
    before = rows.file_row(pipeline.db, pending.file_id)
    first_event = s3_notification(pipeline.bucket, pending.key, pending.size, before["verified_etag"])

    # When the owner POSTs a second version (same size, same type) and its event is processed
    second = b"second version\n".ljust(400, b".")
    _post(upload, second, "text/plain")
    assert failed_ids(_deliver(pipeline, pending.key)) == []

    # Then the file stays ready with the checksum and ETag of the bytes now stored
    row = rows.file_row(pipeline.db, pending.file_id)
    assert row["status"] == "ready"
    assert row["checksum_sha256"] == hashlib.sha256(second).hexdigest()
    head = pipeline.s3.head_object(Bucket=pipeline.bucket, Key=pending.key)
    assert row["verified_etag"] == head["ETag"].strip('"') != before["verified_etag"]
    # and file.updated says what changed; the search document carries the new checksum
    events = rows.outbox_rows(pipeline.db, pending.file_id)
    assert [e["type"] for e in events] == ["file.ready", "file.updated"]
    assert payload(events[-1])["data"]["changes"] == {"checksum_sha256": row["checksum_sha256"]}
    doc = search_doc(pending.file_id)
    assert doc is not None and doc["checksum_sha256"] == row["checksum_sha256"]

    # And a late duplicate of the first version's event changes nothing (the current bytes are verified)
    assert failed_ids(invoke("processor", sqs_event(first_event))) == []
    assert rows.file_row(pipeline.db, pending.file_id)["updated_at"] == row["updated_at"]
    assert _event_types(pipeline, pending.file_id) == ["file.ready", "file.updated"]


# ---- 2. objects no live file owns ----------------------------------------------------------------

def test_an_object_without_a_file_row_is_deleted_idempotently(pipeline: Pipeline, owner: str) -> None:
    # Given bytes under u/ for which no row exists (sent after a purge, with a still valid POST)
    key = f"u/{owner}/{uuid.uuid4()}/late.txt"
    etag = pipeline.upload(key, b"nobody owns me\n", "text/plain")
    body = s3_notification(pipeline.bucket, key, 15, etag)

    # When its event is processed, twice (at-least-once delivery)
    assert failed_ids(invoke("processor", sqs_event(body))) == []
    assert failed_ids(invoke("processor", sqs_event(body))) == []

    # Then the object is gone, and no row was made for it
    assert not pipeline.exists(key)
    found = pipeline.db.execute("SELECT count(*) AS n FROM files WHERE s3_key = %s", (key,)).fetchone()
    assert found is not None and found["n"] == 0


def test_an_object_of_a_file_being_purged_is_deleted(pipeline: Pipeline, owner: str) -> None:
    # Given a file being purged (deleting) whose bytes land only now
    data = b"too late\n"
    pending = rows.create_pending_file(pipeline.db, owner, name="late.txt", size=len(data),
                                       content_type="text/plain", status="deleting")
    etag = pipeline.upload(pending.key, data, "text/plain")

    # When the event is processed / Then the object is deleted and the row left to the purge
    response = invoke("processor", sqs_event(s3_notification(pipeline.bucket, pending.key, len(data), etag)))
    assert failed_ids(response) == []
    assert not pipeline.exists(pending.key)
    assert rows.file_row(pipeline.db, pending.file_id)["status"] == "deleting"
    assert _event_types(pipeline, pending.file_id) == []


# ---- 3. an upload that arrives while its file is in the trash ------------------------------------

def test_a_file_trashed_while_pending_is_verified_and_restored_as_ready(pipeline: Pipeline) -> None:
    # Given a pending upload the owner trashed before its bytes were processed
    owner = rows.create_user(pipeline.db)
    data = _png((10, 120, 200))
    pending = rows.create_pending_file(pipeline.db, owner, name="early.png", size=len(data),
                                       content_type="image/png")
    files_domain.trash_file(owner, pending.file_id)
    etag = pipeline.upload(pending.key, data, "image/png")

    # When the upload's event is processed
    body = s3_notification(pipeline.bucket, pending.key, len(data), etag)
    assert failed_ids(invoke("processor", sqs_event(body))) == []

    # Then the file stays in the trash, verified: restoring it will make it ready
    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["status_before_trash"]) == ("trashed", "ready")
    assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert row["thumbnail_key"] == thumbnail_key(owner, pending.file_id)
    doc = search_doc(pending.file_id)
    assert doc is not None and doc["status"] == "trashed"  # indexed, but not found while trashed

    # When the owner restores it / Then it is ready (and searchable) at once
    restored = trash.restore_file(owner, pending.file_id)
    assert restored.status == "ready"
    doc = search_doc(pending.file_id)
    assert doc is not None and doc["status"] == "ready"
    assert _event_types(pipeline, pending.file_id) == ["file.trashed", "file.ready", "file.restored"]


def test_a_file_trashed_while_pending_with_bad_bytes_is_restored_as_rejected(pipeline: Pipeline) -> None:
    owner = rows.create_user(pipeline.db)
    data = b"text, not a PDF\n" * 10
    pending = rows.create_pending_file(pipeline.db, owner, name="fake.pdf", size=len(data),
                                       content_type="application/pdf")
    files_domain.trash_file(owner, pending.file_id)
    etag = pipeline.upload(pending.key, data, "application/pdf")

    body = s3_notification(pipeline.bucket, pending.key, len(data), etag)
    assert failed_ids(invoke("processor", sqs_event(body))) == []

    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["status_before_trash"], row["reject_reason"]) == (
        "trashed", "rejected", "content_type_mismatch")
    assert not pipeline.exists(pending.key)
    assert trash.restore_file(owner, pending.file_id).status == "rejected"


def test_two_workers_verifying_a_replaced_object_record_it_once(pipeline: Pipeline, owner: str) -> None:

    from tests.support.pipeline import invoke_concurrently

    # Given a ready text file whose key was written again
    first = b"one\n".ljust(300, b"-")
    pending, upload = _ready_via_post(pipeline, owner, first, name="race.txt", content_type="text/plain")
    second = b"two\n".ljust(300, b"-")
    _post(upload, second, "text/plain")
    (message,) = receive_notifications(pipeline, pending.key)

    # When two execution environments process that event at the same moment
    event = as_lambda_event([message])
    outcomes = invoke_concurrently("processor", event)

    # Then both succeed and the new bytes were recorded once: one file.updated
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert all(failed_ids(response) == [] for _, response in outcomes)
    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["checksum_sha256"]) == ("ready", hashlib.sha256(second).hexdigest())
    assert _event_types(pipeline, pending.file_id) == ["file.ready", "file.updated"]
