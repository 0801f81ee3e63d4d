"""What every bench phase shares: percentiles, the timed HTTP client, bench users, the runtime's
stats and REPORT lines, and a machine-load meter (so a number taken on a busy machine says so)."""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
for _extra in (REPO_ROOT, REPO_ROOT / "layers" / "shared" / "python", REPO_ROOT / "localstack"):
    if str(_extra) not in sys.path:
        sys.path.insert(0, str(_extra))

import requests  # noqa: E402

BENCH_DIR = REPO_ROOT / ".local" / "bench"
LAMBDA_LOG_DIR = REPO_ROOT / ".local" / "logs" / "lambda"
PASSWORD = "Bench!Passw0rd9"
#: Set when the run overstays its budget: every loop ends at its next step, so the main thread can
#: unwind (stopping the gateway and removing seeded data) instead of being killed mid-way.
STOP = threading.Event()
#: Functions the runtime invokes on a timer; their invocations do not make the runtime "busy".
SCHEDULED = frozenset({"outbox_relay", "sweeper"})


# ---------------------------------------------------------------------------------------------
# numbers


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return round(ordered[rank - 1], 2)


def summary(values: list[float]) -> dict[str, float | int | None]:
    return {"count": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "max": round(max(values), 2) if values else None}


def fmt_ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def table(rows: list[list[str]], out: Callable[[str], None] = print) -> None:
    """Print rows as left-aligned columns (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(map(len, rows)))]
    for row in rows:
        out("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


class CpuMeter:
    """Machine-wide CPU busy share between ``start()`` and ``busy_pct()`` (from /proc/stat)."""

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> tuple[int, int]:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return (0, 0)
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields), idle)

    def start(self) -> CpuMeter:
        self._start = self._read()
        return self

    def busy_pct(self) -> float | None:
        total, idle = self._read()
        d_total, d_idle = total - self._start[0], idle - self._start[1]
        return round(100.0 * (d_total - d_idle) / d_total, 1) if d_total > 0 else None


def wait_cpu_quiet(*, below_pct: float = 30.0, window_s: float = 0.25, limit_s: float = 3.0) -> float | None:
    """Wait (at most ``limit_s``) for a ``window_s`` in which the machine was less than ``below_pct``
    busy; returns the last window's busy share (so a caller can say the machine never got quiet)."""
    deadline = time.monotonic() + limit_s
    busy = None
    while time.monotonic() < deadline:
        meter = CpuMeter().start()
        time.sleep(window_s)
        busy = meter.busy_pct()
        if busy is None or busy < below_pct:
            break
    return busy


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_average": [round(v, 2) for v in os.getloadavg()]}


# ---------------------------------------------------------------------------------------------
# the client side: timed API calls


class FlowError(Exception):
    """The flow broke: an unexpected status from the API or S3."""


@dataclass
class Call:
    phase: str
    route: str
    ms: float
    status: int
    request_id: str  # X-Amzn-RequestId, which the local runtime also uses as the Lambda request id
    cold: bool | None = None  # from the function's REPORT line; None when no line was found


class Client:
    """Timed calls to the gateway; one keep-alive ``requests.Session`` per thread.

    ``phase`` labels every call recorded from then on (set between phases, not during one).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.phase = "setup"
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def request(self, method: str, route: str, path: str, *, token: str | None = None, body: Any = None,
                headers: dict[str, str] | None = None, record: bool = True) -> requests.Response:
        """One timed request (redirects are not followed: a 302 is the answer being measured)."""
        sent = {"Accept": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        response = self.session().request(method, self.base_url + path, json=body, headers=sent,
                                          timeout=30, allow_redirects=False)
        elapsed = (time.perf_counter() - started) * 1000
        if record:
            with self._lock:
                self.calls.append(Call(self.phase, route, elapsed, response.status_code,
                                       response.headers.get("X-Amzn-RequestId", "")))
        return response

    def call(self, method: str, route: str, path: str, *, token: str | None = None, body: Any = None,
             headers: dict[str, str] | None = None, expect: tuple[int, ...] = (200,),
             record: bool = True) -> Any:
        """A timed request whose status must be in ``expect``; returns the JSON body (or None)."""
        response = self.request(method, route, path, token=token, body=body, headers=headers, record=record)
        if response.status_code not in expect:
            raise FlowError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json() if response.content and "json" in response.headers.get("Content-Type", "") \
            else None


@dataclass(frozen=True)
class User:
    email: str
    token: str
    user_id: str  # the Cognito ``sub``, which is the files' owner_id


def jwt_subject(token: str) -> str:
    """The ``sub`` claim of a JWT (read, not verified: the gateway verified it)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


def register_and_login(client: Client, email: str) -> User:
    credentials = {"email": email, "password": PASSWORD}
    client.call("POST", "POST /auth/register", "/auth/register", body=credentials, expect=(200, 201))
    from tests.support.mailbox import confirmation_code

    client.call("POST", "POST /auth/confirm", "/auth/confirm",
                body={"email": email, "code": confirmation_code(email)})
    tokens = client.call("POST", "POST /auth/login", "/auth/login", body=credentials)
    return User(email, tokens["id_token"], jwt_subject(tokens["id_token"]))


# ---------------------------------------------------------------------------------------------
# what the runtime says


def local_stats(base_url: str) -> dict[str, Any]:
    try:
        response = requests.get(base_url + "/_local/stats", timeout=5)
        return response.json() if response.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return {}


def wait_idle(base_url: str, *, quiet_s: float = 2.0, limit_s: float = 15.0) -> dict[str, Any]:
    """Wait until no function but the scheduled ones was invoked for ``quiet_s`` (the pipeline has
    drained: processor, indexer, notifier, deleter...), at most ``limit_s``. Returns the seconds
    waited and, when it never got quiet, the functions that kept being invoked."""
    def counts() -> dict[str, int]:
        return {name: int(fs.get("invocations") or 0) for name, fs in local_stats(base_url).items()
                if name not in SCHEDULED}

    started = time.monotonic()
    first = last = counts()
    quiet_since = time.monotonic()
    while time.monotonic() - started < limit_s and time.monotonic() - quiet_since < quiet_s:
        time.sleep(0.25)
        now = counts()
        if now != last:
            last, quiet_since = now, time.monotonic()
    waited = round(time.monotonic() - started, 2)
    if time.monotonic() - quiet_since >= quiet_s:
        return {"waited_s": waited}
    busy = {name: n - first.get(name, 0) for name, n in last.items() if n != first.get(name, 0)}
    return {"waited_s": waited, "still_busy": busy}


def log_offsets(log_dir: Path = LAMBDA_LOG_DIR) -> dict[Path, int]:
    return {path: path.stat().st_size for path in log_dir.glob("*.log")}


def report_lines(offsets: dict[Path, int], log_dir: Path = LAMBDA_LOG_DIR) -> dict[str, bool]:
    """Request id -> cold? from the REPORT lines written since ``offsets`` (Init Duration = cold,
    as in CloudWatch)."""
    seen: dict[str, bool] = {}
    for path in log_dir.glob("*.log"):
        with path.open("rb") as log:
            log.seek(offsets.get(path, 0))
            for raw in log:
                start = raw.find(b"REPORT RequestId: ")  # not always at the start: a worker's
                if start < 0:  # unterminated output may precede it on the same line
                    continue
                line = raw[start:].decode(errors="replace")
                request_id = line[len("REPORT RequestId: "):].split("\t", 1)[0].strip()
                seen[request_id] = "Init Duration:" in line
    return seen
