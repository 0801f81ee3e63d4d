"""``tests/support/durations.py``: the seconds per test folder that `make test` prints, read from a
junit file or a ``--durations=0`` report, and compared with an earlier run."""

from __future__ import annotations

from pathlib import Path

from tests.support import durations

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4" time="9.5">
<testcase classname="tests.integration.api.test_files" name="test_a" time="2.0"/>
<testcase classname="tests.integration.api.test_files.TestGroup" name="test_b[x]" time="3.0">
  <failure message="boom"/></testcase>
<testcase classname="tests.unit.test_rules" name="test_c" time="0.5"/>
<testcase classname="tests.integration.stack.test_redis" name="test_d" time="4.0"><skipped/></testcase>
</testsuite></testsuites>
"""

DURATIONS = """============================= slowest durations ==============================
3.00s call     tests/integration/api/test_files.py::test_a
1.00s setup    tests/integration/api/test_files.py::test_a
0.50s teardown tests/unit/test_rules.py::test_c[a b]

(2 durations < 0.005s hidden.  Use -vv to show these durations.)
========================= 3 passed in 4.60s =========================
"""


def test_junit_times_add_up_per_folder_with_classes_and_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    report = durations.read(path)
    assert report.wall == 9.5
    assert dict(report.outcomes) == {"tests": 4, "failure": 1, "skipped": 1}
    assert durations.per_folder(report, 3) == {"tests/integration/api": (5.0, 2),
                                               "tests/unit": (0.5, 1),
                                               "tests/integration/stack": (4.0, 1)}
    assert durations.per_folder(report, 2) == {"tests/integration": (9.0, 3), "tests/unit": (0.5, 1)}
    assert "tests/integration/api/test_files.py::test_b[x]" in report.seconds


def test_a_durations_report_sums_setup_call_and_teardown(tmp_path: Path) -> None:
    path = tmp_path / "durations.txt"
    path.write_text(DURATIONS)
    report = durations.read(path)
    assert report.seconds == {"tests/integration/api/test_files.py::test_a": 4.0,
                              "tests/unit/test_rules.py::test_c[a b]": 0.5}
    assert durations.per_folder(report, 3) == {"tests/integration/api": (4.0, 1), "tests/unit": (0.5, 1)}


def test_the_comparison_lists_folders_of_either_run(tmp_path: Path, capsys) -> None:
    before, after = tmp_path / "before.xml", tmp_path / "after.txt"
    before.write_text(JUNIT)
    after.write_text(DURATIONS)
    assert durations.main([str(after), "--before", str(before), "--markdown", "--slowest", "1"]) == 0
    out = capsys.readouterr().out
    assert "| tests/integration/api | 5.0 | 2 | 4.0 | 1 |" in out
    assert "| tests/integration/stack | 4.0 | 1 | 0.0 | 0 |" in out  # gone from the later run
    assert "| total (tests) | 9.5 | 4 | 4.5 | 2 |" in out
    assert "| 4.0 | tests/integration/api/test_files.py::test_a |" in out
