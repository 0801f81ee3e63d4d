"""``make trace``'s timeline: the lines with the file's id, plus those under a correlation id seen on
them (or on the event it published), in time order across the function logs; nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from lambdarun import trace

FILE = "5b1c0d5e-0000-4000-8000-000000000001"


def line(ts: str, message: str, **keys: object) -> str:
    return json.dumps({"level": "INFO", "message": message, "timestamp": f"2026-12-01 10:00:{ts}+0000",
                       **keys})


def test_the_timeline_follows_the_file_and_its_correlation_ids(tmp_path: Path) -> None:
    (tmp_path / "files.log").write_text("\n".join([
        "START RequestId: r1 Version: $LATEST",
        line("01,000", "request handled", route="POST /files", status=201, file_id=FILE,
             correlation_id="c-1"),
        line("01,010", "quota checked", correlation_id="c-1"),  # same request, no file id yet
        line("02,000", "request handled", route="GET /files", status=200, correlation_id="c-other"),
        "REPORT RequestId: r1\tDuration: 3.00 ms",
    ]) + "\n")
    (tmp_path / "processor.log").write_text("\n".join([
        line("03,500", "search document created", file_id=FILE, correlation_id="c-1"),
        line("03,400", "event published", file_id=FILE, event_type="file.ready", event_correlation_id="c-1"),
        json.dumps({"_aws": {"Timestamp": 1}, "file_id": FILE}),  # an EMF document is not a log line
    ]) + "\n")
    (tmp_path / "notifier.log").write_text(
        line("04,000", "notification handled", file_id=FILE, correlation_id="c-1",
             outcome="delivered") + "\n")

    story = trace.timeline(FILE, trace.read(tmp_path))

    assert [(s.step, s.record["message"]) for s in story] == [
        ("request", "request handled"), ("files", "quota checked"), ("event", "event published"),
        ("index", "search document created"), ("notification", "notification handled")]
    printed = trace.render(story)
    assert "route=POST /files status=201" in printed and "c-other" not in printed


def test_an_unknown_file_prints_nothing_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "files.log").write_text(line("01,000", "request handled", file_id="other") + "\n")

    assert trace.main([FILE, "--log-dir", str(tmp_path)]) == 1
