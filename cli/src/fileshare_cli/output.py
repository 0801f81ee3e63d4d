"""What the command prints: JSON for scripts (``--json``), tables and progress bars for people.

Progress bars go to stderr, and only when stderr is a terminal; stdout carries only results.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)


class Meter(Protocol):
    def advance(self, count: int) -> None: ...

    def reset(self, completed: int) -> None: ...


class Silent:
    def advance(self, count: int) -> None:
        pass

    def reset(self, completed: int) -> None:
        pass


class _Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress, self._task = progress, task

    def advance(self, count: int) -> None:
        self._progress.update(self._task, advance=count)

    def reset(self, completed: int) -> None:
        self._progress.update(self._task, completed=completed)


@contextmanager
def meter(description: str, total: int, *, enabled: bool) -> Iterator[Meter]:
    """A byte progress bar on a terminal's stderr; a silent meter anywhere else."""
    if not (enabled and sys.stderr.isatty()):
        yield Silent()
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=True),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=False) as progress:
        yield _Bar(progress, progress.add_task(description, total=total))


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        stdout.print("(nothing)")
        return
    grid = Table(*columns, box=None, pad_edge=False, header_style="bold")
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    stdout.print(grid)
