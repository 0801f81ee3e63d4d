"""At-least-once delivery: duplicates and concurrent workers give one transition, one document,
one outbox row and one Kafka event; a poison message fails alone."""

from __future__ import annotations

import hashlib
import json

from tests.support import rows
from tests.support.pipeline import (
    Pipeline,
    as_lambda_event,
    end_offsets,
    failed_ids,
    invoke,
    invoke_concurrently,
    records_since,
    s3_notification,
    search_doc_count,
    sqs_event,
)


def _pending_upload(pipeline: Pipeline, owner: str, data: bytes, name: str = "dup.txt",
                    content_type: str = "text/plain") -> tuple[rows.PendingFile, str]:
    pending = rows.create_pending_file(pipeline.db, owner, name=name, size=len(data),
                                       content_type=content_type)
    etag = pipeline.upload(pending.key, data, content_type)
    return pending, s3_notification(pipeline.bucket, pending.key, pending.size, etag)


def _assert_processed_once(pipeline: Pipeline, pending: rows.PendingFile, offsets: dict[int, int],
                           data: bytes) -> None:
    row = rows.file_row(pipeline.db, pending.file_id)
    assert row["status"] == "ready"
    assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    events = rows.outbox_rows(pipeline.db, pending.file_id)
    assert [e["type"] for e in events] == ["file.ready"]
    assert events[0]["published_at"] is not None
    records = records_since(pipeline.bootstrap, pipeline.topic, offsets, key=str(pending.file_id))
    assert len(records) == 1
    assert search_doc_count(pending.file_id) == 1


def test_the_same_event_twice_gives_one_transition(pipeline: Pipeline, owner: str) -> None:
    # Given an uploaded file
    data = b"delivered twice\n" * 50
    pending, body = _pending_upload(pipeline, owner, data)
    offsets = end_offsets(pipeline.bootstrap, pipeline.topic)
    # When S3's notification arrives twice in one batch and once more in a later invocation
    assert failed_ids(invoke("processor", sqs_event(body, body))) == []
    first_update = rows.file_row(pipeline.db, pending.file_id)["updated_at"]
    assert failed_ids(invoke("processor", sqs_event(body))) == []
    # Then one ready transition (the row untouched by the repeats), one event, one document
    assert rows.file_row(pipeline.db, pending.file_id)["updated_at"] == first_update
    _assert_processed_once(pipeline, pending, offsets, data)


def test_two_concurrent_invocations_give_one_transition(pipeline: Pipeline, owner: str) -> None:
    # Given an uploaded image (the slower path: thumbnail included)
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1200, 900), "navy").save(out, format="JPEG")
    data = out.getvalue()
    pending, body = _pending_upload(pipeline, owner, data, name="race.jpg", content_type="image/jpeg")
    offsets = end_offsets(pipeline.bootstrap, pipeline.topic)

    # When two execution environments (separate processes) process the same event at the same moment
    outcomes = invoke_concurrently("processor", sqs_event(body))

    # Then both succeed, and the file was made ready once: one event, one document
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert all(failed_ids(response) == [] for _, response in outcomes)
    _assert_processed_once(pipeline, pending, offsets, data)
    assert rows.file_row(pipeline.db, pending.file_id)["thumbnail_key"] is not None


def test_poison_message_fails_alone(pipeline: Pipeline, owner: str) -> None:
    # Given a batch with a good record, a body that is not JSON and a JSON body that is no S3 event
    data = b"good record\n"
    pending, good = _pending_upload(pipeline, owner, data)
    event = sqs_event(good, "this is not json {", '{"hello": "world"}',
                      message_ids=["good-1", "poison-1", "poison-2"])
    # When processed
    response = invoke("processor", event)
    # Then only the poison records are reported (SQS redelivers them; maxReceiveCount -> DLQ)
    assert sorted(failed_ids(response)) == ["poison-1", "poison-2"]
    assert rows.file_row(pipeline.db, pending.file_id)["status"] == "ready"


def test_poison_message_ends_in_the_dead_letter_queue(pipeline: Pipeline) -> None:
    # Given a queue that redrives to a DLQ after 2 receives, holding a message that is not JSON
    sqs = pipeline.sqs
    dlq_url = sqs.create_queue(QueueName="fileshare-pipeline-poison-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url,
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName="fileshare-pipeline-poison", Attributes={
        "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})["QueueUrl"]
    for url in (queue_url, dlq_url):
        sqs.purge_queue(QueueUrl=url)
    sent = sqs.send_message(QueueUrl=queue_url, MessageBody="<<not json>>")["MessageId"]

    # When it is received and handed to the processor until SQS gives up on it (as the event source
    # does: a reported failure is not deleted and comes back once its visibility ends, here at once)
    attempts = 0
    while attempts < 5:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                       AttributeNames=["All"]).get("Messages", [])
        if not received:
            break
        attempts += 1
        response = invoke("processor", as_lambda_event(received))
        assert failed_ids(response) == [sent]
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=received[0]["ReceiptHandle"],
                                      VisibilityTimeout=0)

    # Then it failed each time it was delivered and now sits in the DLQ, untouched
    assert attempts == 2
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=1, WaitTimeSeconds=5).get("Messages", [])
    assert [(m["MessageId"], m["Body"]) for m in dead] == [(sent, "<<not json>>")]
