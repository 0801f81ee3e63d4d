"""Each SLO and lost-work alarm's metric, fired through the code path it watches.

The functions run in the local runtime's own worker processes (``lambdarun.Runtime``, one process per
function with its Lambda environment, so Powertools' ``service`` dimension is the function's name,
as in AWS), against the real local services; their EMF output lands in the runtime's log files and
is read back with the ops page's parser (``lambdarun.ops``), the way CloudWatch extracts it. Each
emitted metric (namespace, name, dimensions) must be one the alarm of that name in the synthesized
dev template watches, and where the alarm has a threshold the emitted value crosses it.

Failures are caused for real and only for the function under test: its worker gets an endpoint
where nothing listens (OpenSearch, Kafka, S3), the shared services keep running.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.declaration import FUNCTIONS
from lambdarun.events import KafkaRecord, msk_event
from lambdarun.ops import Point, read_log
from lambdarun.runtime import Runtime
from tests.support import rows
from tests.support.apigw import claims_for, event
from tests.support.pipeline import TEST_BUCKET, Pipeline, free_port, s3_notification, sqs_event
from tests.support.runtime import load_test_env

Metric = tuple[str, str, frozenset[tuple[str, str]]]
_LOCK_NAMESPACE_SQL = "SELECT pg_advisory_lock(%s, hashtext(%s))"


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[Metric]]:
    """Alarm name (without the stage prefix) -> the metrics it watches, from the synthesized template."""
    from tests.infra.conftest import synthesize

    template = synthesize(tmp_path_factory.mktemp("cdk-out-slo")).templates["Fileshare-dev"]
    result: dict[str, set[Metric]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        metrics = [props] if "MetricName" in props else [
            m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        result[props["AlarmName"].removeprefix("fileshare-dev-")] = {
            (m["Namespace"], m["MetricName"], frozenset(
                (d["Name"], d["Value"] if isinstance(d["Value"], str) else json.dumps(d["Value"]))
                for d in m.get("Dimensions", [])))
            for m in metrics}
    return result


class Functions:
    """Run declared functions in local workers with extra env; read back what they emitted."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.base = {**load_test_env(), "UPLOAD_BUCKET": TEST_BUCKET}
        self._runtimes: list[Runtime] = []

    def invoke(self, name: str, payload: Any, **env: str) -> Any:
        fns = [fn for fn in FUNCTIONS if fn.name == name]
        log_dir = self.log_dir / uuid.uuid4().hex[:8]
        runtime = Runtime(fns, base_env={**self.base, **env}, log_dir=log_dir, max_concurrency=1)
        self._runtimes.append(runtime)
        self.last_log = log_dir / f"{name}.log"
        return runtime.invoke(name, payload)

    def points(self, name: str) -> list[Point]:
        return list(read_log(self.last_log, name))

    def close(self) -> None:
        for runtime in self._runtimes:
            runtime.close()


@pytest.fixture
def functions(tmp_path: Path) -> Iterator[Functions]:
    fns = Functions(tmp_path)
    yield fns
    fns.close()


def emitted(points: list[Point], name: str) -> list[Point]:
    return [p for p in points if p.namespace == "Fileshare" and p.name == name]


def assert_watched(watched: dict[str, set[Metric]], alarm: str, point: Point) -> None:
    assert alarm in watched, f"no alarm {alarm} in the template ({sorted(watched)[:5]}...)"
    metric = (point.namespace, point.name, point.dimensions)
    assert metric in watched[alarm], f"{alarm} does not watch {metric}: it watches {watched[alarm]}"


def burn_alarms(slo: str) -> list[str]:
    return [f"slo-{slo}-{seconds}s" for seconds in (3600, 300, 21600, 1800)]


# --- SLOs ----------------------------------------------------------------------------------------

def test_upload_ready_latency_and_rejections_come_from_the_processor(
        pipeline: Pipeline, owner: str, functions: Functions, watched: dict[str, set[Metric]]) -> None:
    # Given one good and one bad upload, whose S3 events are 2 s old
    good = b"%PDF-1.7\n" + b"1" * 5_000 + b"\n%%EOF\n"
    ok = rows.create_pending_file(pipeline.db, owner, name="a.pdf", size=len(good),
                                  content_type="application/pdf")
    bad = b"plain text, not a PNG at all\n" * 10
    no = rows.create_pending_file(pipeline.db, owner, name="b.png", size=len(bad), content_type="image/png")
    pipeline.upload(ok.key, good, "application/pdf")
    pipeline.upload(no.key, bad, "image/png")
    sent = (datetime.now(UTC) - timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    bodies = [json.loads(s3_notification(pipeline.bucket, f.key, f.size)) for f in (ok, no)]
    for body in bodies:
        body["Records"][0]["eventTime"] = sent

    # When the processor handles both
    result = functions.invoke("processor", sqs_event(*(json.dumps(b) for b in bodies)))

    # Then the ready commit reports its latency from S3's event time, and both outcomes are counted
    assert result.ok and result.result == {"batchItemFailures": []}
    assert rows.file_row(pipeline.db, ok.file_id)["status"] == "ready"
    assert rows.file_row(pipeline.db, no.file_id)["status"] == "rejected"
    points = functions.points("processor")
    (latency,) = emitted(points, "UploadToReadyMs")
    assert latency.value >= 2000
    assert latency.dimensions == frozenset({("service", "processor")})
    for alarm in burn_alarms("upload-ready-latency"):
        assert_watched(watched, alarm, latency)
    (ready,) = emitted(points, "FilesReady")
    (rejected,) = emitted(points, "FilesRejected")
    for alarm in burn_alarms("upload-rejections"):
        assert_watched(watched, alarm, ready)
        assert_watched(watched, alarm, rejected)


def test_notification_latency_is_measured_from_the_event(
        pipeline: Pipeline, owner: str, functions: Functions, watched: dict[str, set[Metric]]) -> None:
    from fileshare.event_types import Event, EventType

    # Given a file.ready event that occurred 5 s ago
    ev = Event(type=EventType.FILE_READY, file_id=uuid.uuid4(), owner_id=owner,
               occurred_at=datetime.now(UTC) - timedelta(seconds=5),
               data={"name": "late.pdf", "size": 10, "content_type": "application/pdf"})
    record = KafkaRecord("fileshare.events", 0, 0, int(time.time() * 1000), 0, None, ev.to_json(), ())
    batch = msk_event([record], cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/t/1",
                      bootstrap="127.0.0.1:9092")

    # When the notifier delivers it
    result = functions.invoke("notifier", batch)

    # Then the delivery latency counts from occurred_at
    assert result.ok and result.result == {"batchItemFailures": []}
    (latency,) = emitted(functions.points("notifier"), "NotificationDeliveryMs")
    assert latency.value >= 5000
    for alarm in burn_alarms("notification-latency"):
        assert_watched(watched, alarm, latency)


def _search_event(user: str) -> dict[str, Any]:
    return event("GET", "/search", query={"q": "report"}, claims=claims_for(user, f"{user}@example.com"))


def test_search_latency_and_api_requests(functions: Functions, watched: dict[str, set[Metric]]) -> None:
    result = functions.invoke("search", _search_event(f"u-{uuid.uuid4()}"))

    assert result.ok and result.result["statusCode"] == 200
    points = functions.points("search")
    (latency,) = emitted(points, "SearchLatencyMs")
    assert latency.dimensions == frozenset({("service", "search")})
    for alarm in burn_alarms("search-latency"):
        assert_watched(watched, alarm, latency)
    requests = emitted(points, "ApiRequests")
    assert {p.dimensions for p in requests} == {
        frozenset({("api", "v1")}), frozenset({("api", "v1"), ("route", "GET /search")})}
    whole = next(p for p in requests if len(p.dimensions) == 1)
    for alarm in burn_alarms("api-availability"):
        assert_watched(watched, alarm, whole)
    assert [p.value for p in emitted(points, "Api5xx")] == [0.0, 0.0]


def test_a_5xx_counts_against_the_api_availability_slo(
        functions: Functions, watched: dict[str, set[Metric]]) -> None:
    # Given OpenSearch is unreachable for this search function
    dead = f"http://127.0.0.1:{free_port()}"

    result = functions.invoke("search", _search_event(f"u-{uuid.uuid4()}"), OPENSEARCH_URL=dead)

    assert result.ok and result.result["statusCode"] == 503
    failures = emitted(functions.points("search"), "Api5xx")
    assert [p.value for p in failures] == [1.0, 1.0]
    whole = next(p for p in failures if len(p.dimensions) == 1)
    for alarm in burn_alarms("api-availability"):
        assert_watched(watched, alarm, whole)


# --- lost or delayed work -------------------------------------------------------------------------

def test_a_stuck_outbox_row_fires_outbox_stalled(
        pipeline: Pipeline, owner: str, functions: Functions, watched: dict[str, set[Metric]]) -> None:
    from fileshare.events import _LOCK_NAMESPACE

    # Given an event that has waited 10 minutes (of a type no consumer handles), held by this test
    # so that no other relay on the shared stack publishes it, and Kafka unreachable for our relay
    aggregate = uuid.uuid4()
    db = pipeline.db
    db.execute(_LOCK_NAMESPACE_SQL, (_LOCK_NAMESPACE, str(aggregate)))
    db.execute("INSERT INTO outbox (event_id, aggregate_id, type, payload, created_at)"
               " VALUES (%s, %s, 'test.observability', %s, now() - interval '10 minutes')",
               (uuid.uuid4(), aggregate, json.dumps({"type": "test.observability"})))
    try:
        # When the relay runs
        result = functions.invoke("outbox_relay", {}, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}")
    finally:
        db.execute("DELETE FROM outbox WHERE aggregate_id = %s", (aggregate,))
        db.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_LOCK_NAMESPACE, str(aggregate)))

    # Then the run fails visibly and still reports an oldest-unpublished age over the threshold
    assert not result.ok
    (age,) = emitted(functions.points("outbox_relay"), "OutboxOldestUnpublishedAgeS")
    assert age.value >= 600
    assert_watched(watched, "outbox-stalled", age)
    (backlog,) = emitted(functions.points("outbox_relay"), "OutboxBacklog")
    assert backlog.value >= 1
    # and the failed run is a Lambda error of the function, as its errors alarm sees it
    (error,) = [p for p in functions.points("outbox_relay")
                if (p.namespace, p.name) == ("AWS/Lambda", "Errors")]
    assert error.value == 1.0
    in_aws = Point(error.namespace, error.name, frozenset({("FunctionName", "fileshare-dev-outbox_relay")}),
                   error.timestamp, error.value)
    assert_watched(watched, "outbox_relay-errors", in_aws)


def test_an_index_sync_failure_fires_search_sync_failed(
        functions: Functions, watched: dict[str, set[Metric]]) -> None:
    from fileshare.event_types import Event, EventType

    ev = Event(type=EventType.FILE_UPDATED, file_id=uuid.uuid4(), owner_id="someone", data={})
    record = KafkaRecord("fileshare.events", 0, 0, int(time.time() * 1000), 0, None, ev.to_json(), ())
    batch = msk_event([record], cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/t/1",
                      bootstrap="127.0.0.1:9092")

    result = functions.invoke("indexer", batch, OPENSEARCH_URL=f"http://127.0.0.1:{free_port()}")

    assert result.ok and len(result.result["batchItemFailures"]) == 1  # retried, not lost
    (failed,) = emitted(functions.points("indexer"), "IndexSyncFailed")
    assert failed.value >= 1
    assert_watched(watched, "search-sync-failed", failed)


def test_a_stalled_purge_that_fails_fires_sweeper_failures(
        pipeline: Pipeline, owner: str, functions: Functions, watched: dict[str, set[Metric]]) -> None:
    # Given a file stuck in deleting for two hours, and S3 unreachable for the sweeper
    stuck = rows.create_pending_file(pipeline.db, owner, name="gone.bin", size=1,
                                     content_type="application/octet-stream", status="deleting")
    pipeline.db.execute("UPDATE files SET updated_at = now() - interval '2 hours' WHERE file_id = %s",
                        (stuck.file_id,))
    try:
        result = functions.invoke("sweeper", {}, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    finally:
        pipeline.db.execute("DELETE FROM files WHERE file_id = %s", (stuck.file_id,))

    assert result.ok
    (failed,) = emitted(functions.points("sweeper"), "StalledPurgesFailed")
    assert failed.value >= 1
    assert_watched(watched, "sweeper-failures", failed)
