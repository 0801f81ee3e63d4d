"""Real outages (issue 3): the stack's Kafka or OpenSearch is stopped through the stack manager, not
faked with a dead port, while uploads go through the real flow, and started again.

The flow: ``POST /files`` (the files handler) -> presigned POST of the bytes to LocalStack S3 -> S3's
ObjectCreated notification -> SQS -> the local runtime's SQS poller -> the processor in a worker
process; the outbox relay runs on its local schedule in the same runtime. The bucket and queue are
the test's own, wired by the function ``provision()`` uses for the real ones (``wire_upload_bucket``)
but with a 10 s visibility timeout, so SQS redelivers a failed record within seconds instead of a
minute (and a running ``make dev`` cannot take the test's messages off the real queue).

Kafka stopped: uploads still become ready; their ``file.ready`` events wait in the outbox, and once
Kafka is back the relay publishes each exactly once (read back from Kafka).
OpenSearch stopped: the processor fails the record, SQS redelivers the same message after the
visibility timeout, and once OpenSearch is back a redelivery indexes the file: it is searchable.

Each test keeps its outage short and restores the service even when it fails (``tests.support.faults``).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import psycopg
import pytest
import requests

from fileshare import event_types
from infra.declaration import by_name
from lambdarun.pool import Invocation
from lambdarun.runtime import Runtime
from lambdarun.sources import EventSources
from stackctl.services.localstack_aws import aws_client, wire_upload_bucket
from tests.integration.conftest import Api, User
from tests.support import rows
from tests.support.faults import outage
from tests.support.pipeline import end_offsets, records_since, reset_caches

pytestmark = pytest.mark.fault

FAULT_BUCKET = "fileshare-fault-test"
FAULT_QUEUE = "fileshare-fault-test"
FAULT_DLQ = "fileshare-fault-test-dlq"
VISIBILITY_S = 10  # the real queue's is 60 s (>= the processor's timeout); a retry comes sooner here
MAX_RECEIVES = 20  # the real queue's is 3; enough redeliveries to outlast an OpenSearch restart
LIMIT_S = 90.0  # how long to wait for an outcome before giving up (a limit, not a timing assertion)


class RecordingRuntime(Runtime):
    """The local runtime, remembering every invocation (function, event, outcome)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, Any, Invocation]] = []
        self._calls_lock = threading.Lock()

    def invoke(self, name: str, event: Any, request_id: str | None = None) -> Invocation:
        invocation = super().invoke(name, event, request_id)
        with self._calls_lock:
            self.calls.append((name, event, invocation))
        return invocation


@dataclass
class Attempt:
    """One delivery of a file's S3 notification to the processor."""

    message_id: str
    receive_count: int
    failed: bool


@dataclass
class Flow:
    runtime: RecordingRuntime
    files: ModuleType
    db: psycopg.Connection[dict[str, Any]]
    bootstrap: str
    topic: str
    uploads: list[uuid.UUID] = field(default_factory=list)

    def upload(self, user: User, name: str, data: bytes) -> uuid.UUID:
        """What the web page does: POST /files, then the bytes straight to S3 with the presigned POST."""
        reply = Api(self.files, user.claims)("POST", "/files", body={
            "name": name, "size": len(data), "content_type": "text/plain"})
        assert reply.status == 201, reply.body
        upload = reply.body["upload"]
        assert upload["method"] == "POST" and FAULT_BUCKET in upload["url"]
        sent = requests.post(upload["url"], data=upload["fields"],
                             files={"file": ("blob", data, "text/plain")}, timeout=30)
        assert sent.status_code == 204, sent.text
        file_id = uuid.UUID(reply.body["file_id"])
        self.uploads.append(file_id)
        return file_id

    def status(self, file_id: uuid.UUID) -> str:
        return str(rows.file_row(self.db, file_id)["status"])

    def ready_event(self, file_id: uuid.UUID) -> dict[str, Any] | None:
        ready = [r for r in rows.outbox_rows(self.db, file_id) if r["type"] == "file.ready"]
        assert len(ready) <= 1, ready
        return ready[0] if ready else None

    def attempts(self, file_id: uuid.UUID) -> list[Attempt]:
        """The processor's deliveries of this file's notification, in order."""
        found = []
        for name, event, invocation in list(self.runtime.calls):
            if name != "processor":
                continue
            result = invocation.result if invocation.ok and isinstance(invocation.result, dict) else {}
            failed_ids = {f.get("itemIdentifier") for f in result.get("batchItemFailures") or []}
            for record in event.get("Records", []):
                if str(file_id) in record["body"]:
                    found.append(Attempt(record["messageId"],
                                         int(record["attributes"].get("ApproximateReceiveCount", "0")),
                                         not invocation.ok or record["messageId"] in failed_ids))
        return found


def wait_until(check: Callable[[], bool], limit_s: float = LIMIT_S) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


@pytest.fixture(scope="module")
def flow(files_module: ModuleType, test_env: dict[str, str]) -> Iterator[Flow]:
    stack_env = test_env
    endpoint = stack_env["AWS_ENDPOINT_URL"]
    sqs = aws_client("sqs", endpoint)
    wiring = wire_upload_bucket(aws_client("s3", endpoint), sqs, FAULT_BUCKET, queue_name=FAULT_QUEUE,
                                dlq_name=FAULT_DLQ, visibility_timeout_s=VISIBILITY_S,
                                max_receives=MAX_RECEIVES)
    for url in (wiring["queue_url"], wiring["dlq_url"]):  # leftovers of an earlier run
        with contextlib.suppress(sqs.exceptions.PurgeQueueInProgress):
            sqs.purge_queue(QueueUrl=url)
    env = {**stack_env, "UPLOAD_BUCKET": FAULT_BUCKET, "UPLOAD_QUEUE_URL": wiring["queue_url"]}
    runtime = RecordingRuntime([by_name("processor"), by_name("outbox_relay")], base_env=env,
                               max_concurrency=2)
    sources = EventSources(runtime, env, sqs_pollers_per_queue=1)
    db = rows.connect(stack_env["DATABASE_URL"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UPLOAD_BUCKET", FAULT_BUCKET)  # the files handler runs in this process
        reset_caches()
        sources.start()
        try:
            yield Flow(runtime, files_module, db, stack_env["KAFKA_BOOTSTRAP_SERVERS"],
                       stack_env.get("EVENTS_TOPIC", "fileshare.events"))
        finally:
            sources.stop()
            runtime.close()
            db.close()
    reset_caches()


def test_kafka_stopped_uploads_become_ready_and_their_events_are_published_once_it_is_back(
        flow: Flow, new_user: Callable[[], User]) -> None:
    user = new_user()
    offsets = end_offsets(flow.bootstrap, flow.topic)
    with outage("kafka") as kafka:
        # Given Kafka stopped, when two files are uploaded through the real flow
        file_ids = [flow.upload(user, f"kafka outage {i}.txt", f"uploaded while Kafka is down {i}\n".encode())
                    for i in range(2)]

        # Then both become ready anyway, each with its file.ready event waiting in the outbox
        assert wait_until(lambda: all(flow.status(f) == "ready" for f in file_ids)), \
            [flow.status(f) for f in file_ids]
        waiting = {f: flow.ready_event(f) for f in file_ids}
        assert all(row is not None and row["published_at"] is None for row in waiting.values()), waiting

        # When Kafka is started again
        kafka.restore()

    # Then the relay publishes every waiting event (the inline publish could not)
    assert wait_until(lambda: all((flow.ready_event(f) or {}).get("published_at") for f in file_ids))
    # and each is in Kafka exactly once, keyed by its file, with the outbox event's id
    for file_id, row in waiting.items():
        assert row is not None
        (record,) = records_since(flow.bootstrap, flow.topic, offsets, key=str(file_id))
        event = event_types.Event.from_json(record.value)
        assert (event.id, event.type) == (row["event_id"], event_types.EventType.FILE_READY)


def test_opensearch_stopped_processing_retries_and_the_file_is_searchable_once_it_is_back(
        flow: Flow, new_user: Callable[[], User], search_module: ModuleType) -> None:
    user = new_user()
    token = f"t{uuid.uuid4().hex[:12]}"
    with outage("opensearch") as opensearch:
        # Given OpenSearch stopped, when a file is uploaded through the real flow
        file_id = flow.upload(user, f"search outage {token}.txt", b"uploaded while OpenSearch is down\n")

        # Then the processor fails its record (it cannot be indexed), so SQS will deliver it again
        assert wait_until(lambda: any(a.failed for a in flow.attempts(file_id))), flow.attempts(file_id)

        # When OpenSearch is started again
        opensearch.restore()

    # Then a redelivery of the same message succeeds, and the owner finds the file by searching
    def searchable() -> bool:
        reply = Api(search_module, user.claims)("GET", "/search", query={"q": token})
        return reply.status == 200 and [i["file_id"] for i in reply.body["items"]] == [str(file_id)]

    assert wait_until(searchable), flow.attempts(file_id)
    wait_until(lambda: not flow.attempts(file_id)[-1].failed, 10.0)  # that invocation's result is recorded
    attempts = flow.attempts(file_id)
    assert attempts[0].failed and not attempts[-1].failed, attempts
    assert len({a.message_id for a in attempts}) == 1  # redeliveries of one SQS message, not new ones
    assert attempts[-1].receive_count >= 2
    assert flow.status(file_id) == "ready"
    # and another user still does not see it
    stranger = Api(search_module, claims=None).as_user(User(str(uuid.uuid4()), "stranger@example.com"))
    assert stranger("GET", "/search", query={"q": token}).body["items"] == []
