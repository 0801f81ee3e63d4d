"""Where a test run's time goes: seconds per test folder and the slowest tests, from pytest's junit
XML (``--junitxml``) or its ``--durations=0`` report, optionally side by side with an earlier run.

    python -m tests.support.durations .local/test-reports/junit.xml
    python -m tests.support.durations after.xml --before before.xml --markdown

A folder's time is the sum of its tests' setup, call and teardown (module and session fixtures are
counted in the first test that needs them). Tests run one after another, so the sum is the folder's
share of the run's wall time; collection and plugin start-up are outside every folder.
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

# `--durations=0` lines: "12.34s call     tests/integration/api/test_x.py::test_y[a b]"
_DURATION_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s+(setup|call|teardown)\s+(\S.*?)\s*$")


_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


@dataclass
class Report:
    """Seconds per test id (``path::name``), and how many tests failed, errored or were skipped."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    wall: float | None = None  # the run's own total (junit's testsuite time), when known

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def _module_path(classname: str) -> str:
    """``tests.integration.api.test_x.TestY`` -> ``tests/integration/api/test_x.py`` (the module is
    the first dotted part named like a test file)."""
    parts = classname.split(".")
    for index, part in enumerate(parts):
        if part.startswith("test_") or part.endswith("_test"):
            return "/".join(parts[: index + 1]) + ".py"
    return "/".join(parts) + ".py"


def read_junit(path: Path) -> Report:
    report = Report()
    root = ET.parse(path).getroot()  # noqa: S314 (our own pytest run's file)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    report.wall = sum(float(s.get("time", 0)) for s in suites)
    for case in root.iter("testcase"):
        test_id = f"{_module_path(case.get('classname', ''))}::{case.get('name', '')}"
        report.seconds[test_id] += float(case.get("time", 0))
        for outcome in ("failure", "error", "skipped"):
            if case.find(outcome) is not None:
                report.outcomes[outcome] += 1
        report.outcomes["tests"] += 1
    return report


def read_durations(path: Path) -> Report:
    """pytest's ``--durations=0`` section (the rest of the output is ignored)."""
    report = Report()
    seen: set[str] = set()
    for line in path.read_text(errors="replace").splitlines():
        match = _DURATION_LINE.match(line)
        if match:
            seconds, _phase, test_id = match.groups()
            report.seconds[test_id] += float(seconds)
            seen.add(test_id)
    report.outcomes["tests"] = len(seen)  # tests under pytest's 0.005 s floor are not listed
    return report


def read(path: Path) -> Report:
    return read_junit(path) if path.read_bytes().lstrip()[:1] == b"<" else read_durations(path)


def folder_of(test_id: str, depth: int) -> str:
    """The test's folder, at most ``depth`` levels deep (``tests/integration/api`` at depth 3)."""
    folders = test_id.split("::", 1)[0].split("/")[:-1]
    return "/".join(folders[:depth]) or "."


def per_folder(report: Report, depth: int) -> dict[str, tuple[float, int]]:
    """Folder -> (seconds, tests)."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for test_id, seconds in report.seconds.items():
        entry = totals[folder_of(test_id, depth)]
        entry[0] += seconds
        entry[1] += 1
    return {folder: (seconds, int(count)) for folder, (seconds, count) in totals.items()}


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def folder_table(after: Report, before: Report | None, depth: int, markdown: bool) -> list[str]:
    now = per_folder(after, depth)
    then = per_folder(before, depth) if before else {}
    rows: list[tuple[str, ...]] = []
    for folder in sorted(set(now) | set(then), key=lambda f: -max(now.get(f, (0, 0))[0],
                                                                  then.get(f, (0, 0))[0])):
        seconds, count = now.get(folder, (0.0, 0))
        row = [folder]
        if before is not None:
            old_seconds, old_count = then.get(folder, (0.0, 0))
            row += [f"{old_seconds:.1f}", str(old_count)]
        row += [f"{seconds:.1f}", str(count)]
        rows.append(tuple(row))
    total = [("total (tests)",
              *((f"{before.total:.1f}", str(len(before.seconds))) if before is not None else ()),
              f"{after.total:.1f}", str(len(after.seconds)))]
    header = ("folder", *(("before s", "tests") if before is not None else ()), "after s" if before
              else "seconds", "tests")
    return _render(header, [*rows, *total], markdown)


def slowest_table(report: Report, count: int, markdown: bool) -> list[str]:
    ranked = sorted(report.seconds.items(), key=lambda item: -item[1])[:count]
    return _render(("seconds", "test"), [(f"{s:.1f}", test_id) for test_id, s in ranked], markdown)


def _render(header: tuple[str, ...], rows: list[tuple[str, ...]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if _NUMBER.match(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)]
        return "  ".join(cells).rstrip()
    return [line(header), *(line(r) for r in rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("report", type=Path, help="junit XML or a --durations=0 output")
    parser.add_argument("--before", type=Path, help="an earlier run's junit XML or durations output")
    parser.add_argument("--depth", type=int, default=3, help="folder depth (3: tests/integration/api)")
    parser.add_argument("--slowest", type=int, default=15, help="list this many slowest tests (0: none)")
    parser.add_argument("--markdown", action="store_true", help="markdown tables (for a note)")
    args = parser.parse_args(argv)

    after = read(args.report)
    before = read(args.before) if args.before else None
    out = [f"Seconds per test folder ({args.report}"
           + (f" against {args.before}" if args.before else "") + "):", "",
           *folder_table(after, before, args.depth, args.markdown)]
    if after.wall is not None:
        out.append(f"pytest's own total: {_minutes(after.wall)} (m:s)")
    if args.slowest:
        out += ["", f"Slowest {args.slowest} tests (setup + call + teardown):", "",
                *slowest_table(after, args.slowest, args.markdown)]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
