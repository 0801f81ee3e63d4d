"""Kafka down under load: concurrent uploads in one execution environment still all become ready.

The inline publish after each commit must not hold a pooled PostgreSQL connection while it waits
for Kafka (the pool has 4 connections and a 5 s timeout), and once one caller found Kafka down the
others must not each retry the 3 s bootstrap: otherwise the other steps of processing (and, in the
API, every request) time out waiting for a connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from fileshare import events
from fileshare.db.connection import pool
from fileshare.processing import Outcome, S3Object, process_object
from tests.support import rows
from tests.support.pipeline import Pipeline, free_port, reset_caches

UPLOADS = 10


@pytest.fixture
def kafka_down(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    reset_caches()
    yield
    monkeypatch.undo()
    reset_caches()


def test_concurrent_uploads_complete_without_pool_timeouts_while_kafka_is_down(
        pipeline: Pipeline, owner: str, kafka_down: None) -> None:
    # Given several uploaded files, and Kafka unreachable (a dead port) for this process
    uploads = []
    for i in range(UPLOADS):
        data = f"upload {i} while kafka is down\n".encode() * 20
        pending = rows.create_pending_file(pipeline.db, owner, name=f"k{i}.txt", size=len(data),
                                           content_type="text/plain")
        pipeline.upload(pending.key, data, "text/plain")
        uploads.append(pending)

    pool().pop_stats()  # count from here: requests_errors is the pool's own count of timed-out requests
    # When they are processed at the same moment by threads sharing the process's pool and producer
    barrier = threading.Barrier(UPLOADS)
    outcomes: dict[int, Outcome | BaseException] = {}

    def work(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            outcomes[i] = process_object(S3Object(bucket=pipeline.bucket, key=uploads[i].key))
        except BaseException as exc:  # a pool timeout lands here
            outcomes[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(UPLOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then every one completed, nothing to retry, and no request for a connection timed out (the inline
    # publish swallows its errors, so the pool's statistics are where a timeout there would show)
    assert outcomes == {i: Outcome.READY for i in range(UPLOADS)}
    assert pool().get_stats().get("requests_errors", 0) == 0
    for pending in uploads:
        assert rows.file_row(pipeline.db, pending.file_id)["status"] == "ready"
        # and each file.ready event is in the outbox for the relay (a running dev stack's relay may
        # already have sent it to the real broker, so only its presence is checked)
        assert [e["type"] for e in rows.outbox_rows(pipeline.db, pending.file_id)] == ["file.ready"]
    # and the failed bootstrap opened the breaker: later publishes skip Kafka at once
    assert events.publish_now([uploads[0].file_id]) == 0
