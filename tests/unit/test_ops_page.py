"""The local ops page's reading of the runtime's logs: EMF as CloudWatch extracts it, REPORT lines as
AWS/Lambda metrics, CloudWatch's statistics, and the SLO numbers of ``infra.slos``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.declaration import FUNCTIONS
from lambdarun import ops

NOW = 1_800_000_000.0


def emf(service: str, when: float, **values: list[float]) -> str:
    return json.dumps({"_aws": {"Timestamp": int(when * 1000), "CloudWatchMetrics": [{
        "Namespace": "Fileshare", "Dimensions": [["service"]],
        "Metrics": [{"Name": n, "Unit": "Count"} for n in values]}]}, "service": service, **values})


def report(request: str, ms: float, *, error: bool = False) -> str:
    line = f"REPORT RequestId: {request}\tDuration: {ms:.2f} ms\tBilled Duration: {int(ms) + 1} ms"
    return line + ("\tStatus: error\tError Type: Boom" if error else "")


def write(log_dir: Path, function: str, *lines: str) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / f"{function}.log").write_text("\n".join(lines) + "\n")


def test_an_emf_document_yields_one_point_per_value_and_dimension_set() -> None:
    doc = {"_aws": {"Timestamp": 1000, "CloudWatchMetrics": [{
        "Namespace": "Fileshare", "Dimensions": [["api"], ["api", "route"]],
        "Metrics": [{"Name": "ApiRequests"}, {"Name": "Api5xx"}]}]},
        "api": "v1", "route": "GET /files", "ApiRequests": [1.0, 1.0], "Api5xx": 0.0}

    points = list(ops.emf_points(doc))

    assert len(points) == 2 * (2 + 1)
    assert {p.dimensions for p in points} == {frozenset({("api", "v1")}),
                                              frozenset({("api", "v1"), ("route", "GET /files")})}


@pytest.mark.parametrize(("stat", "expected"), [
    ("Sum", 5050.0), ("Average", 50.5), ("Maximum", 100.0), ("SampleCount", 100.0), ("p50", 50.0),
    ("p99", 99.0), ("PR(:90)", 90.0)])
def test_statistics_are_cloudwatchs(stat: str, expected: float) -> None:
    assert ops.statistic([float(v) for v in range(1, 101)], stat) == expected


def test_report_lines_become_lambda_metrics_at_the_time_of_the_line_before(tmp_path: Path) -> None:
    write(tmp_path, "files",
          "START RequestId: a Version: $LATEST",
          json.dumps({"level": "INFO", "message": "hi", "timestamp": "2027-01-15T08:00:00.000000+00:00"}),
          "END RequestId: a", report("a", 12.5), report("b", 40.0, error=True))

    points = list(ops.read_log(tmp_path / "files.log", "files"))

    durations = [p for p in points if p.name == "Duration"]
    assert [p.value for p in durations] == [12.5, 40.0]
    assert [p.value for p in points if p.name == "Errors"] == [0.0, 1.0]
    assert {p.timestamp for p in durations} == {datetime(2027, 1, 15, 8, tzinfo=UTC).timestamp()}
    assert durations[0].dimensions == frozenset({("FunctionName", "files")})


def test_snapshot_computes_the_slos_and_the_lost_work_from_the_logs(tmp_path: Path) -> None:
    # Given the processor made 3 files ready (one slow) and rejected 1, and the relay saw an old event
    write(tmp_path, "processor",
          emf("processor", NOW - 60, UploadToReadyMs=[1000.0, 2000.0, 45_000.0], FilesReady=[1.0, 1.0, 1.0],
              FilesRejected=[1.0]),
          report("p", 300.0))
    write(tmp_path, "outbox_relay", emf("outbox_relay", NOW - 30, OutboxOldestUnpublishedAgeS=[420.0]))

    data = ops.snapshot(tmp_path, FUNCTIONS, now=NOW)

    slos = {s["name"]: s for s in data["slos"]}
    latency = slos["upload-ready-latency"]
    assert latency["samples"] == 3 and latency["bad_fraction"] == pytest.approx(1 / 3)
    assert latency["burn_rate"] == pytest.approx((1 / 3) / 0.01)
    assert slos["upload-rejections"]["bad_fraction"] == pytest.approx(0.25)
    assert slos["search-latency"]["bad_fraction"] is None  # no samples: no verdict
    lost = {a["name"]: a for a in data["lost_work"]}
    assert lost["outbox-stalled"]["value"] == 420.0 and lost["outbox-stalled"]["firing"]
    assert not lost["search-sync-failed"]["firing"]
    panel = next(p for p in data["panels"] if p["title"].startswith("Upload -> ready"))
    assert [s["points"][0][1] for s in panel["series"]] == [2000.0, 45_000.0]  # p50, p99
    duration = next(p for p in data["panels"] if p["title"] == "Lambda duration p99")
    assert [s["points"] for s in duration["series"] if s["label"] == "processor"] == [[(pytest.approx(
        (NOW - 60) // ops.BUCKET_S * ops.BUCKET_S), 300.0)]]


def test_the_page_marks_panels_without_a_local_source(tmp_path: Path) -> None:
    write(tmp_path, "processor", emf("processor", NOW - 10, FilesReady=[1.0]))

    page = ops.render_html(ops.snapshot(tmp_path, FUNCTIONS, now=NOW))

    assert "AWS-only metric: no local source" in page  # e.g. API Gateway latency
    assert "<polyline" in page


def test_the_gateways_own_metrics_feed_the_api_gateway_panels(tmp_path: Path) -> None:
    # Given the local gateway answered two requests, one of them with a 500
    write(tmp_path, "gateway", ops.api_gateway_emf(200, 12.0, now=NOW - 20),
          ops.api_gateway_emf(500, 30.0, now=NOW - 10))

    data = ops.snapshot(tmp_path, FUNCTIONS, now=NOW)

    errors = next(p for p in data["panels"] if p["title"] == "API errors")
    totals = {s["label"]: sum(v for _, v in s["points"]) for s in errors["series"]}
    assert totals == {"4xx": 0, "5xx": 1, "requests": 2}
    latency = next(p for p in data["panels"] if p["title"] == "API latency")
    assert max(v for s in latency["series"] for _, v in s["points"]) == 30.0
