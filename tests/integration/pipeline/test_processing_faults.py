"""Fault cases: Kafka down never fails an upload (the relay publishes later, once, in order);
OpenSearch down fails the record so SQS retries it, and the retry makes the file searchable.

"Down" is a dead port (nothing listens there): the same connection refusal a stopped service gives.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from fileshare import event_types, events
from fileshare.db.connection import transaction
from tests.support import rows
from tests.support.apigw import FakeContext
from tests.support.pipeline import (
    Pipeline,
    end_offsets,
    failed_ids,
    free_port,
    invoke,
    load_handler,
    records_since,
    reset_caches,
    s3_notification,
    search_doc,
    sqs_event,
)


@pytest.fixture
def dead(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Point env vars at a dead port inside a test; caches are reset on the way in and out."""
    yield monkeypatch
    monkeypatch.undo()
    reset_caches()


def _uploaded(pipeline: Pipeline, owner: str, data: bytes) -> tuple[rows.PendingFile, str]:
    pending = rows.create_pending_file(pipeline.db, owner, name="f.txt", size=len(data),
                                       content_type="text/plain")
    etag = pipeline.upload(pending.key, data, "text/plain")
    return pending, s3_notification(pipeline.bucket, pending.key, pending.size, etag)


def test_kafka_down_upload_still_ready_and_relay_publishes_later(pipeline: Pipeline, owner: str,
                                                                  dead: pytest.MonkeyPatch) -> None:
    # Given Kafka unreachable for the processor
    pending, body = _uploaded(pipeline, owner, b"kafka is down\n")
    offsets = end_offsets(pipeline.bootstrap, pipeline.topic)
    dead.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    reset_caches()

    # When the upload is processed
    response = invoke("processor", sqs_event(body))

    # Then it succeeded: the file is ready and searchable, its event waits in the outbox
    assert failed_ids(response) == []
    assert rows.file_row(pipeline.db, pending.file_id)["status"] == "ready"
    assert search_doc(pending.file_id) is not None
    (event_row,) = rows.outbox_rows(pipeline.db, pending.file_id)
    assert event_row["type"] == "file.ready" and event_row["published_at"] is None
    # and the relay, with Kafka still down, fails visibly without losing anything
    with pytest.raises(Exception):  # noqa: B017 - whichever Kafka error the client raises
        invoke("outbox_relay", {})
    assert rows.outbox_rows(pipeline.db, pending.file_id)[0]["published_at"] is None

    # When Kafka is reachable again and the relay runs
    dead.undo()
    reset_caches()
    result = invoke("outbox_relay", {})

    # Then the event is published once and marked; reading it back from Kafka proves it
    assert result["published"] >= 1
    assert rows.outbox_rows(pipeline.db, pending.file_id)[0]["published_at"] is not None
    (record,) = records_since(pipeline.bootstrap, pipeline.topic, offsets, key=str(pending.file_id))
    assert event_types.Event.from_json(record.value).id == event_row["event_id"]
    # and running the relay again sends nothing more for it
    invoke("outbox_relay", {})
    assert len(records_since(pipeline.bootstrap, pipeline.topic, offsets, key=str(pending.file_id))) == 1


def test_opensearch_down_fails_the_record_and_the_retry_indexes_it(pipeline: Pipeline, owner: str,
                                                                    dead: pytest.MonkeyPatch) -> None:
    # Given OpenSearch unreachable
    pending, body = _uploaded(pipeline, owner, b"opensearch is down\n")
    dead.setenv("OPENSEARCH_URL", f"http://127.0.0.1:{free_port()}")
    reset_caches()
    event = sqs_event(body, message_ids=["msg-1"])

    # When the upload is processed / Then the record fails (SQS will redeliver it)
    assert failed_ids(invoke("processor", event)) == ["msg-1"]
    # though the database already says ready, and the event was still announced
    assert rows.file_row(pipeline.db, pending.file_id)["status"] == "ready"
    (event_row,) = rows.outbox_rows(pipeline.db, pending.file_id)
    assert event_row["published_at"] is not None

    # When OpenSearch is back and SQS redelivers the message
    dead.undo()
    reset_caches()
    assert search_doc(pending.file_id) is None
    assert failed_ids(invoke("processor", event)) == []

    # Then the file is searchable, and the retry changed nothing else: still one event
    doc = search_doc(pending.file_id)
    assert doc is not None and doc["readers"] == [owner]
    assert len(rows.outbox_rows(pipeline.db, pending.file_id)) == 1


def test_relay_keeps_each_files_order_and_concurrent_relays_send_each_event_once(pipeline: Pipeline,
                                                                                  owner: str) -> None:
    # Given several files each with three unpublished events, written in order
    file_ids = [uuid.uuid4() for _ in range(4)]
    expected: dict[uuid.UUID, list[uuid.UUID]] = {}
    with transaction() as conn:
        for file_id in file_ids:
            rows_for_file = []
            for kind in (event_types.EventType.FILE_READY, event_types.EventType.FILE_UPDATED,
                         event_types.EventType.FILE_TRASHED):
                event = event_types.Event(type=kind, file_id=file_id, owner_id=owner)
                events.record(conn, event)
                rows_for_file.append(event.id)
            expected[file_id] = rows_for_file
    offsets = end_offsets(pipeline.bootstrap, pipeline.topic)

    # When two relays run at the same moment (two scheduled invocations overlapping)
    relay = load_handler("outbox_relay")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait(timeout=30)
        try:
            relay.lambda_handler({}, FakeContext(function_name="outbox_relay"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    # Then every event was sent exactly once, each file's events in the order they were written
    for file_id, ids in expected.items():
        records = records_since(pipeline.bootstrap, pipeline.topic, offsets, key=str(file_id))
        assert [event_types.Event.from_json(r.value).id for r in records] == ids
        assert len({r.partition for r in records}) == 1
        assert all(r["published_at"] is not None for r in rows.outbox_rows(pipeline.db, file_id))

