"""Upload processing against the real local stack: S3 (LocalStack), PostgreSQL, OpenSearch, Kafka, Redis.

Each test writes a pending row, puts real bytes under its key and calls the processor handler
with the SQS event S3's notification produces (built here, or received from a real queue).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import pytest
from PIL import Image

from fileshare.event_types import Event
from tests.support import rows
from tests.support.pipeline import (
    Pipeline,
    as_lambda_event,
    end_offsets,
    failed_ids,
    invoke,
    payload,
    receive_notifications,
    records_since,
    s3_notification,
    search_doc,
    search_doc_count,
    sqs_event,
)


def _png(size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 140, 90)).save(out, format="PNG")
    return out.getvalue()


def _process(pipeline: Pipeline, pending: rows.PendingFile, etag: str = "") -> dict[str, object]:
    body = s3_notification(pipeline.bucket, pending.key, pending.size, etag)
    return invoke("processor", sqs_event(body))


def test_image_becomes_ready_with_checksum_thumbnail_search_doc_and_event(pipeline: Pipeline,
                                                                          owner: str) -> None:
    # Given a pending PNG whose bytes are in S3, and a stale cache entry for it
    from fileshare.adapters.cache import file_key, redis_client

    data = _png()
    pending = rows.create_pending_file(pipeline.db, owner, name="holiday photo.png", size=len(data),
                                       content_type="image/png", tags=["trip"])
    etag = pipeline.upload(pending.key, data, "image/png")
    redis = redis_client()
    assert redis is not None
    redis.set(file_key(pending.file_id), json.dumps({"status": "pending"}))
    offsets = end_offsets(pipeline.bootstrap, pipeline.topic)

    # When the processor gets the S3 notification
    response = _process(pipeline, pending, etag)

    # Then the record succeeded and the file is ready with the SHA-256 of its bytes
    assert failed_ids(response) == []
    row = rows.file_row(pipeline.db, pending.file_id)
    assert row["status"] == "ready"
    assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert row["reject_reason"] is None
    # and a WebP thumbnail of at most 256 px sits under t/, outside the notified prefix
    assert row["thumbnail_key"] == f"t/{owner}/{pending.file_id}.webp"
    thumb = pipeline.s3.get_object(Bucket=pipeline.bucket, Key=row["thumbnail_key"])
    assert thumb["ContentType"] == "image/webp"
    image = Image.open(io.BytesIO(thumb["Body"].read()))
    assert (image.format, image.size) == ("WEBP", (256, 192))
    # and the cache entry is gone
    assert redis.get(file_key(pending.file_id)) is None
    # and one file.ready event was written and published to Kafka, keyed by the file id
    (event_row,) = rows.outbox_rows(pipeline.db, pending.file_id)
    assert event_row["type"] == "file.ready" and event_row["published_at"] is not None
    (record,) = records_since(pipeline.bootstrap, pipeline.topic, offsets, key=str(pending.file_id))
    event = Event.from_json(record.value)
    assert event.id == event_row["event_id"]
    assert (event.type, event.file_id, event.owner_id) == ("file.ready", pending.file_id, owner)
    assert event.data["checksum_sha256"] == row["checksum_sha256"]
    # and the file is in the search index, readable by its owner only
    doc = search_doc(pending.file_id)
    assert doc is not None
    assert doc["readers"] == [owner]
    assert (doc["name"], doc["category"], doc["status"], doc["tags"]) == (
        "holiday photo.png", "image", "ready", ["trip"])


def test_document_becomes_ready_without_thumbnail(pipeline: Pipeline, owner: str) -> None:
    data = b"%PDF-1.7\n" + b"0" * 20_000 + b"\n%%EOF\n"
    pending = rows.create_pending_file(pipeline.db, owner, name="report.pdf", size=len(data),
                                       content_type="application/pdf")
    pipeline.upload(pending.key, data, "application/pdf")

    assert failed_ids(_process(pipeline, pending)) == []

    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["thumbnail_key"]) == ("ready", None)
    assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    doc = search_doc(pending.file_id)
    assert doc is not None and doc["category"] == "document"


def test_real_s3_notification_with_an_encoded_key_is_processed(pipeline: Pipeline, owner: str) -> None:
    # Given a file whose name needs URL-encoding in S3 events (spaces, parentheses, non-ASCII)
    data = b"plain text, nothing to sniff\n" * 100
    pending = rows.create_pending_file(pipeline.db, owner, name="notes (1) é+ü.txt", size=len(data),
                                       content_type="text/plain")
    pipeline.upload(pending.key, data, "text/plain")

    # When the message S3 really sent to the queue is delivered to the processor
    messages = receive_notifications(pipeline, pending.key)
    assert len(messages) == 1
    s3_key_in_event = json.loads(messages[0]["Body"])["Records"][0]["s3"]["object"]["key"]
    assert s3_key_in_event != pending.key  # it is encoded
    response = invoke("processor", as_lambda_event(messages))

    # Then the decoded key found the row and the file is ready
    assert failed_ids(response) == []
    row = rows.file_row(pipeline.db, pending.file_id)
    assert row["status"] == "ready"
    assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("declared", "data", "name"), [
    ("image/jpeg", _png((32, 32)), "actually-a.png"),  # a PNG declared as JPEG
    ("image/png", b"just some text pretending to be an image\n" * 10, "fake.png"),  # text as PNG
])
def test_type_mismatch_is_rejected_and_the_object_removed(pipeline: Pipeline, owner: str, declared: str,
                                                          data: bytes, name: str) -> None:
    pending = rows.create_pending_file(pipeline.db, owner, name=name, size=len(data), content_type=declared)
    pipeline.upload(pending.key, data, declared)
    offsets = end_offsets(pipeline.bootstrap, pipeline.topic)

    response = _process(pipeline, pending)

    assert failed_ids(response) == []  # a rejection is a processed record, not a failure
    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["reject_reason"]) == ("rejected", "content_type_mismatch")
    assert row["checksum_sha256"] is None and row["thumbnail_key"] is None
    assert not pipeline.exists(pending.key)
    (event_row,) = rows.outbox_rows(pipeline.db, pending.file_id)
    assert event_row["type"] == "file.rejected"
    assert payload(event_row)["data"]["reason"] == "content_type_mismatch"
    (record,) = records_since(pipeline.bootstrap, pipeline.topic, offsets, key=str(pending.file_id))
    assert Event.from_json(record.value).type == "file.rejected"
    assert search_doc(pending.file_id) is None


def test_size_different_from_the_declared_one_is_rejected(pipeline: Pipeline, owner: str) -> None:
    data = b"x" * 1000
    pending = rows.create_pending_file(pipeline.db, owner, name="a.bin", size=999,
                                       content_type="application/octet-stream")
    pipeline.upload(pending.key, data, "application/octet-stream")

    assert failed_ids(_process(pipeline, pending)) == []

    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["reject_reason"]) == ("rejected", "size_mismatch")
    assert not pipeline.exists(pending.key)


def test_quota_is_checked_again_when_processing(pipeline: Pipeline) -> None:
    # Given a user with 1000 bytes of quota, 600 already stored, and a 500-byte upload
    owner = rows.create_user(pipeline.db, quota_bytes=1000)
    rows.create_pending_file(pipeline.db, owner, name="old.bin", size=600,
                             content_type="application/octet-stream", status="ready")
    data = b"y" * 500
    pending = rows.create_pending_file(pipeline.db, owner, name="new.bin", size=len(data),
                                       content_type="application/octet-stream")
    pipeline.upload(pending.key, data, "application/octet-stream")

    # When it is processed / Then it is rejected for the quota and removed
    assert failed_ids(_process(pipeline, pending)) == []
    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["reject_reason"]) == ("rejected", "quota_exceeded")
    assert not pipeline.exists(pending.key)


def test_allow_list_rejects_other_types(pipeline: Pipeline, owner: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare.config import settings

    monkeypatch.setenv("ALLOWED_CONTENT_TYPES", "image/*,application/pdf")
    settings.cache_clear()
    try:
        data = b"a,b\n1,2\n"
        pending = rows.create_pending_file(pipeline.db, owner, name="t.csv", size=len(data),
                                           content_type="text/csv")
        pipeline.upload(pending.key, data, "text/csv")
        assert failed_ids(_process(pipeline, pending)) == []
    finally:
        monkeypatch.delenv("ALLOWED_CONTENT_TYPES")
        settings.cache_clear()
    row = rows.file_row(pipeline.db, pending.file_id)
    assert (row["status"], row["reject_reason"]) == ("rejected", "content_type_not_allowed")


def test_test_events_unknown_keys_and_other_prefixes_are_skipped(pipeline: Pipeline) -> None:
    # Given S3's test event, an object nobody registered, and a thumbnail (t/ prefix)
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": pipeline.bucket})
    unknown_key = f"u/nobody/{uuid.uuid4()}/x.txt"
    pipeline.upload(unknown_key, b"x", "text/plain")
    thumb_key = f"t/nobody/{uuid.uuid4()}.webp"
    # When they are delivered / Then nothing fails (nothing to retry) and nothing is created
    response = invoke("processor", sqs_event(
        test_event, s3_notification(pipeline.bucket, unknown_key, 1),
        s3_notification(pipeline.bucket, thumb_key, 1)))
    assert failed_ids(response) == []
    count = pipeline.db.execute("SELECT count(*) AS n FROM files WHERE s3_key = %s",
                                (unknown_key,)).fetchone()
    assert count is not None and count["n"] == 0


def test_search_doc_count_helper_sees_exactly_the_indexed_file(pipeline: Pipeline, owner: str) -> None:
    # Guard for the idempotency tests: the count helper finds an indexed file once, a missing one zero.
    data = b"count me\n"
    pending = rows.create_pending_file(pipeline.db, owner, name="c.txt", size=len(data),
                                       content_type="text/plain")
    assert search_doc_count(pending.file_id) == 0
    pipeline.upload(pending.key, data, "text/plain")
    assert failed_ids(_process(pipeline, pending)) == []
    assert search_doc_count(pending.file_id) == 1
