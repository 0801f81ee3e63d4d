"""Per-function invocation statistics: cold starts, durations, errors (served at /_local/stats)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 2)


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    crashes: int = 0
    cold_starts: list[dict[str, float]] = field(default_factory=list)  # init_ms, spawn_ms, total_ms
    warm_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2000))

    def as_dict(self) -> dict[str, Any]:
        warm = list(self.warm_ms)
        inits = [c["init_ms"] for c in self.cold_starts]
        totals = [c["total_ms"] for c in self.cold_starts]
        return {
            "invocations": self.invocations,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "crashes": self.crashes,
            "cold_start_count": len(self.cold_starts),
            "init_duration_ms": {"first": inits[0] if inits else None, "p50": _percentile(inits, 50),
                                 "max": max(inits) if inits else None},
            "cold_start_total_ms": {"first": totals[0] if totals else None,
                                    "p50": _percentile(totals, 50)},
            "warm_duration_ms": {"count": len(warm), "p50": _percentile(warm, 50),
                                 "p99": _percentile(warm, 99)},
        }


class RuntimeStats:
    """Thread-safe collection of every function's numbers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._functions: dict[str, FunctionStats] = {}

    def record(self, name: str, *, cold: dict[str, float] | None, duration_ms: float | None,
               error_type: str | None) -> None:
        with self._lock:
            fs = self._functions.setdefault(name, FunctionStats())
            fs.invocations += 1
            if cold is not None:
                fs.cold_starts.append({k: round(v, 2) for k, v in cold.items()})
            elif duration_ms is not None:
                fs.warm_ms.append(duration_ms)
            if error_type:
                fs.errors += 1
                if error_type == "Sandbox.Timedout":
                    fs.timeouts += 1
                elif error_type == "Runtime.ExitError":
                    fs.crashes += 1

    def function(self, name: str) -> dict[str, Any]:
        with self._lock:
            return self._functions.get(name, FunctionStats()).as_dict()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {name: fs.as_dict() for name, fs in sorted(self._functions.items())}
