"""``make bench``: Fileshare's numbers against the real local stack, one thing at a time.

    .venv/bin/python tests/bench/run.py [--quick] [--phases cold,coldimport,api,uploads,...] ...

Phases, each on an otherwise idle runtime (the bench waits until the pipeline has drained between
them) so that a number on a 2-core machine measures one thing:

  cold     before any gateway runs: every declared function (API, SQS, Kafka, scheduled) cold-started
           in a fresh worker process by the runtime's own pool, one at a time (tests/bench/coldstart.py):
           Init Duration (interpreter + import), the import alone, the first invoke, a warm invoke;
  coldimport each handler's import from staged assets (the layers and code as bundled, read-only) in a
           fresh ``python3.13 -B``, with the bundled bytecode and without it, and the Powertools
           baseline's the same way (tests/bench/coldimport.py); needs no service;
  api      (gateway) warm GET /files/{id} p50/p99 in a closed loop of a few keep-alive clients, then
           every read route the same way; per route cold and warm apart (tests/bench/api.py);
  uploads  the web page's upload flow at a sustained --rate for --duration: upload->ready p50/p95/p99,
           processing throughput, file cache hit ratio (tests/bench/uploads.py);
  links    public-link redirect latency, without and with a password (tests/bench/issue4.py);
  search   search p99 over --search-docs files seeded straight into PostgreSQL and OpenSearch;
  notify   notification delivery latency through the gateway's notifier (tests/bench/notifications.py);
  archive  ZIP throughput (MB/s) of the archiver's job against a raw S3 copy of the same bytes, in-process
           on a bucket of its own (tests/bench/archive.py);
  push     push delivery, an event's commit to the change on 1 and 50 connected sockets, p50/p99, on a
           WebSocket API and pusher of its own (tests/bench/push.py).

The gateway (``localstack/serve.py``, with pollers and schedules) is started by the bench with a
high per-user rate limit, in the test namespace (``.local/test.env``, gateway :8081: the bench's
thousands of users and files stay out of ``make dev``'s), unless one already answers on :8081
(then it is reused: its rate limit applies and its cold starts are its own). A request is cold
when the function's REPORT line for its request id carries an ``Init Duration``, as in CloudWatch.
Every phase also records how busy the whole machine was (``machine_busy_pct``; on 2 cores one
busy process alone is ~50 %).

Prints each number next to its target (upload->ready p99 < 1 s at 10/s; warm GET /files/{id}
p99 < 20 ms; cold start at most 0.6x (API) or 0.8x (others) of a minimal Powertools
handler's, measured in the same run) and writes ``.local/bench/latest.json``. Timings are
never asserted: the exit status is 0 unless the flow itself breaks (an API or S3 error, a file that
never becomes ready, a function that cannot start, a search that finds nothing, a lost notification).
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import requests  # noqa: E402

from tests.bench import api, archive, bulk, coldimport, coldstart, issue4, push, scale, tracers, uploads  # noqa: E402
from tests.bench.common import (  # noqa: E402
    BENCH_DIR,
    SCHEDULED,
    STOP,
    Call,
    Client,
    FlowError,
    User,
    fmt_ms,
    local_stats,
    log_offsets,
    machine,
    percentile,
    register_and_login,
    report_lines,
    table,
    wait_idle,
)
from tests.support.runtime import TEST_ENV, RuntimeUnavailableError, load_test_env, running_gateway  # noqa: E402

#: The bench's own gateway gets a high per-user rate limit, so the throttle is not what is measured.
GATEWAY_ENV_OVERRIDES = {"RATE_LIMIT_PER_MINUTE": "1000000", "IP_RATE_LIMIT_PER_MINUTE": "0",
                         "READ_RATE_LIMIT_PER_MINUTE": "1000000", "UPLOAD_FILES_PER_HOUR": "0",
                         "UPLOAD_BYTES_PER_HOUR": "0"}
PHASES = ("cold", "coldimport", "api", "uploads", "links", "search", "notify", "scale", "archive", "bulk",
          "push")
GATEWAY_PHASES = frozenset(PHASES) - {"cold", "coldimport", "scale", "archive", "bulk", "push"}
SCALE_SIZES = {"100k": (10_000, 100_000), "1m": (10_000, 100_000, 1_000_000), "10k": (10_000,)}

TARGET_READY_P99_MS = 1000.0
TARGET_WARM_GET_P99_MS = 20.0


@dataclass
class Config:
    phases: tuple[str, ...]
    cold_rounds: int
    clients: int
    api_seconds: float
    get_rate: float
    duration_s: float
    rate: float
    users: int
    big_mb: float
    poll_ms: float
    ready_timeout_s: float
    link_opens: int
    search_docs: int
    search_queries: int
    notify_count: int
    notify_rate: float
    seed: int
    workers: int
    reuse: bool
    quick: bool
    out: Path
    scale_sizes: tuple[int, ...] = (10_000, 100_000)
    archive_mb: int = 1024
    bulk_files: int = 1000

    def budget_s(self) -> float:
        """A generous bound on the whole run; past it the bench gives up (it must stop by itself)."""
        seconds = 60.0
        if "cold" in self.phases:
            # every declared function and the baseline twice, each up to ~5 s on a busy machine
            # (the quiet wait of up to 3 s, the spawn and import, two invokes)
            from infra.declaration import FUNCTIONS

            seconds += self.cold_rounds * (len(FUNCTIONS) + 2) * 5.0
        if "coldimport" in self.phases:
            # staging (a first pip build of the layer ~2 min), then every handler and the baseline
            # twice per round, each up to ~6 s without bytecode on a busy machine (and the quiet wait)
            from infra.declaration import FUNCTIONS

            seconds += 300 + self.cold_rounds * (len(FUNCTIONS) + 1) * 2 * 9.0
        if GATEWAY_PHASES & set(self.phases):
            seconds += 60 + 60  # start, setup and the idle waits
        if "api" in self.phases:
            seconds += 4 * self.api_seconds + 30
        if "uploads" in self.phases:
            seconds += self.duration_s + self.ready_timeout_s + 30
        if "links" in self.phases:
            seconds += self.link_opens * 0.5 + 30
        if "search" in self.phases:
            seconds += self.search_docs / 100 + self.search_queries * 0.2 + 30
        if "notify" in self.phases:
            seconds += self.notify_count / self.notify_rate + 40
        if "scale" in self.phases:  # seeding ~1 s per 5 000 files here, plus 1 600 requests per size
            seconds += sum(size / 2_500 + 240 for size in self.scale_sizes)
        if "archive" in self.phases:  # writing the sources, three copies of them at >= 10 MB/s
            seconds += 4 * self.archive_mb / 10 + 60
        if "bulk" in self.phases:  # a gateway, N uploads through the page's flow (~10/s), N raw PUTs
            seconds += 120 + self.bulk_files / 5 + 600
        if "push" in self.phases:  # two runs of 100 events at 10/s, sockets and a cold pusher
            seconds += 2 * (100 / 10 + 60)
        return seconds


@dataclass
class Run:
    config: Config
    gateway_started_here: bool | None = None
    setup_errors: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    cold: dict[str, Any] = field(default_factory=dict)
    coldimport: dict[str, Any] = field(default_factory=dict)
    api: dict[str, Any] = field(default_factory=dict)
    uploads: dict[str, Any] = field(default_factory=dict)
    links: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)
    notify: dict[str, Any] = field(default_factory=dict)
    scale: dict[str, Any] = field(default_factory=dict)
    archive: dict[str, Any] = field(default_factory=dict)
    bulk: dict[str, Any] = field(default_factory=dict)
    push: dict[str, Any] = field(default_factory=dict)
    idle_waits: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    runtime_stats: dict[str, Any] = field(default_factory=dict)
    machine_start: dict[str, Any] = field(default_factory=dict)
    phase_s: dict[str, float] = field(default_factory=dict)


def bench_env() -> dict[str, str]:
    return {**load_test_env(TEST_ENV), **GATEWAY_ENV_OVERRIDES}


def bench_env_file() -> Path:
    """The stack env plus the bench's overrides, for the gateway the bench starts."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / "gateway.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in bench_env().items()))
    return path


def wait_scheduled_warm(base_url: str, limit_s: float = 20.0) -> None:
    """Wait until each scheduled function has had its first (cold) run, so no such cold start
    lands inside a measured phase (schedules first fire one interval after the gateway starts)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        stats = local_stats(base_url)
        if all(int((stats.get(name) or {}).get("cold_start_count") or 0) > 0 for name in SCHEDULED):
            return
        time.sleep(0.5)


def _timed(run: Run, name: str, action: Callable[[], None]) -> None:
    started = time.monotonic()
    print(f"bench: {name}...", flush=True)
    action()
    run.phase_s[name] = round(time.monotonic() - started, 1)


def execute_gateway_phases(config: Config, base_url: str, run: Run) -> None:
    setup_started = time.monotonic()
    rng = random.Random(config.seed)
    client = Client(base_url)
    offsets = log_offsets()
    tag = uuid.uuid4().hex[:8]
    env = {**load_test_env(TEST_ENV), **os.environ}

    users: list[User] = []
    for i in range(config.users):
        try:
            users.append(register_and_login(client, f"bench-{tag}-{i}@example.com"))
        except (FlowError, requests.RequestException, KeyError) as exc:
            run.setup_errors.append(f"user {i}: {exc}")
    if not users:
        return
    pools = uploads.make_payloads(rng, config.big_mb)

    # a few ready files through the real flow, one at a time: GET /files/{id}'s targets, the links'
    # file, and the pipeline's first (cold) run in the gateway, all before anything is measured
    owners: list[tuple[User, str]] = []
    for i, kind in enumerate(("png", "jpeg", "pdf", "text")):
        user = users[i % len(users)]
        done = uploads.run_upload(client, user, pools[kind][1 % len(pools[kind])], index=90000 + i,
                                  poll_s=0.1, ready_timeout_s=config.ready_timeout_s, reads=False)
        if done.ok:
            owners.append((user, done.file_id))
        else:
            run.setup_errors.append(f"setup upload {kind}: {done.error}")
    if not owners:
        return
    if not config.quick:  # quick: a scheduled function's first run may land inside a phase
        wait_scheduled_warm(base_url)
    run.phase_s["setup"] = round(time.monotonic() - setup_started, 1)

    def idle(before: str) -> None:
        run.idle_waits[before] = wait_idle(base_url, quiet_s=1.0 if config.quick else 2.0,
                                           limit_s=8.0 if config.quick else 15.0)

    if "api" in config.phases:
        idle("api")
        _timed(run, "api", lambda: run.api.update(api.run_phase(
            client, owners, clients=config.clients, seconds=config.api_seconds,
            warmup_s=1.0 if config.quick else 2.0, grow_rounds=1 if config.quick else 2,
            paced_rate=config.get_rate,
            seed=config.seed)))
    if "uploads" in config.phases:
        idle("uploads")
        client.phase = "uploads"

        def upload_phase() -> None:
            phase = uploads.run_phase(client, users, pools, rng, duration_s=config.duration_s,
                                      rate=config.rate,
                                      poll_ms=config.poll_ms, ready_timeout_s=config.ready_timeout_s,
                                      workers=config.workers, redis_url=env.get("REDIS_URL"),
                                      database_url=env.get("DATABASE_URL"))
            run.uploads = uploads.phase_report(phase, duration_s=config.duration_s, rate=config.rate)

        _timed(run, "uploads", upload_phase)
    if "links" in config.phases:
        idle("links")
        owner, file_id = owners[0]
        _timed(run, "links", lambda: run.links.update(issue4.link_phase(
            client, owner, file_id, opens=config.link_opens, clients=min(config.clients, 2))))
    if "search" in config.phases:
        idle("search")

        def search_phase() -> None:
            client.phase = "search: setup"
            searcher = register_and_login(client, f"bench-search-{tag}@example.com")
            client.call("GET", "GET /me", "/me", token=searcher.token)  # creates the users row
            run.search.update(issue4.search_phase(
                client, searcher, docs=config.search_docs, queries=config.search_queries,
                clients=config.clients, seed=config.seed, database_url=env["DATABASE_URL"]))

        try:
            _timed(run, "search", search_phase)
        except Exception as exc:  # seeding or querying failed: reported, and the flow counts as broken
            run.search["error"] = f"{type(exc).__name__}: {exc}"
    if "notify" in config.phases:
        idle("notify")
        _timed(run, "notify", lambda: run.notify.update(issue4.notification_phase(
            count=config.notify_count, rate=config.notify_rate)))

    run.runtime_stats = local_stats(base_url)
    time.sleep(0.3)  # the REPORT line is written just after the response
    cold = report_lines(offsets)
    for c in client.calls:
        c.cold = cold.get(c.request_id)
    run.calls = client.calls


# ---------------------------------------------------------------------------------------------
# the report


def _latency(values: list[float]) -> dict[str, Any]:
    return {"count": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": round(max(values), 2) if values else None}


def routes_by_phase(calls: list[Call]) -> dict[str, dict[str, dict[str, Any]]]:
    """phase -> route -> {cold, warm, unknown: latency; statuses}."""
    times: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    statuses: dict[str, dict[str, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int)))
    for c in calls:
        bucket = "unknown" if c.cold is None else ("cold" if c.cold else "warm")
        times[c.phase][c.route][bucket].append(c.ms)
        statuses[c.phase][c.route][c.status] += 1
    return {phase: {route: {**{b: _latency(v) for b, v in sorted(buckets.items())},
                            "statuses": dict(sorted(statuses[phase][route].items()))}
                    for route, buckets in sorted(routes.items())}
            for phase, routes in times.items()}


def _warm(calls: list[Call], phase: str, route: str | None = None,
          ok: tuple[int, ...] = (200,)) -> list[float]:
    return [c.ms for c in calls if c.phase == phase and (route is None or c.route == route)
            and c.cold is False and c.status in ok]


def _target(name: str, measured: float | None, target: float | None, basis: str = "",
            unit: str = "ms") -> dict[str, Any]:
    met = None if target is None or measured is None else measured < target
    return {"name": name, "measured": measured, "unit": unit, "target": target, "met": met, "basis": basis}


def report(run: Run) -> dict[str, Any]:
    cfg = run.config
    calls = run.calls
    routes = routes_by_phase(calls)
    targets: list[dict[str, Any]] = []
    if run.uploads:
        targets.append(_target(f"upload->ready p99 at {cfg.rate:g}/s", run.uploads["ready_p99_ms"],
                               TARGET_READY_P99_MS, run.uploads["ready_p99_basis"]))
        targets.append(_target("processing throughput", run.uploads["processing_throughput_files_per_s"],
                               None, unit="files/s"))
        ratio = run.uploads["cache"]["file_cache"]["hit_ratio"]
        targets.append(_target("file cache hit ratio (uploads)", ratio, None, unit="ratio"))
    if run.api:
        single = _warm(calls, api.SINGLE_PHASE, "GET /files/{id}")
        warm_get = _warm(calls, api.LOOP_PHASE, "GET /files/{id}")
        run.api["get_file_warm_ms"] = _latency(warm_get)
        run.api["get_file_single_client_warm_ms"] = _latency(single)
        targets.append(_target("warm GET /files/{id} p50, 1 client", percentile(single, 50), None,
                               "closed loop, no queueing"))
        targets.append(_target("warm GET /files/{id} p99, 1 client", percentile(single, 99), None,
                               "closed loop, no queueing"))
        paced = _warm(calls, api.PACED_PHASE, "GET /files/{id}")
        run.api["get_file_paced_warm_ms"] = _latency(paced)
        if paced:
            for pct in (50, 99):
                targets.append(_target(f"warm GET /files/{{id}} p{pct}, paced", percentile(paced, pct), None,
                                       f"open loop, {cfg.get_rate:g}/s"))
        targets.append(_target("warm GET /files/{id} p50", percentile(warm_get, 50), None,
                               f"{cfg.clients} clients, closed loop"))
        targets.append(_target("warm GET /files/{id} p99", percentile(warm_get, 99), TARGET_WARM_GET_P99_MS,
                               f"{cfg.clients} clients, closed loop"))
    for name, cs in run.cold.items():
        if cs.get("ratio_goal") is None:  # the baseline itself
            continue
        # <= goal counts as met: the target is "at most"; _target compares with <, so nudge it.
        targets.append(_target(f"cold start {name} / baseline", cs.get("ratio"), cs["ratio_goal"] + 1e-9,
                               f"Init Duration ratio, median of {cs['rounds']}", unit="x"))
    if run.links:
        for label in ("no password", "password"):
            warm = _warm(calls, f"links: {label}", ok=(302,))
            run.links.setdefault(label, {})["warm_ms"] = _latency(warm)
            for pct in (50, 99):
                targets.append(_target(f"link redirect p{pct} ({label})", percentile(warm, pct), None))
    if run.search and "error" not in run.search:
        warm = [c.ms for c in calls if c.phase == "search" and c.cold is False and c.status == 200]
        run.search["warm_ms"] = _latency(warm)
        run.search["by_kind_ms"] = {route.removeprefix("GET /search (").rstrip(")"): r.get("warm")
                                    for route, r in routes.get("search", {}).items()}
        targets.append(_target(f"search p50 ({cfg.search_docs} files)", percentile(warm, 50), None))
        targets.append(_target(f"search p99 ({cfg.search_docs} files)", percentile(warm, 99), None))
    if run.notify and "error" not in run.notify:
        for pct in (50, 99):
            targets.append(_target(f"notification delivery p{pct}", run.notify.get(f"p{pct}_ms"), None,
                                   f"{run.notify.get('rate_per_s')}/s via the gateway's notifier"))
    return {
        "config": {**asdict(cfg), "out": str(cfg.out)},
        "machine_start": run.machine_start,
        "machine_end": machine(),
        "gateway_started_here": run.gateway_started_here,
        "setup_errors": run.setup_errors,
        "broken": run.broken,
        "phase_seconds": run.phase_s,
        "idle_waits": run.idle_waits,
        "cold_starts": run.cold,
        "cold_imports": run.coldimport,
        "api": {**run.api, "routes_by_phase": routes},
        "uploads": run.uploads,
        "links": run.links,
        "search": run.search,
        "notifications": run.notify,
        "scale": run.scale,
        "archive": run.archive,
        "bulk": run.bulk,
        "push": run.push,
        "runtime_stats": run.runtime_stats,
        "targets": targets,
    }


def flow_breaks(run: Run) -> list[str]:
    """What makes the exit status 1: the flow broke somewhere (timings never do)."""
    problems = [f"setup: {e}" for e in run.setup_errors]
    for name, cs in run.cold.items():
        if not cs["all_cold"] or str(cs["outcome"]).startswith("error"):
            problems.append(f"cold start {name}: {cs['outcome']}")
    problems += coldimport.broken(run.coldimport)
    if run.api.get("errors"):
        problems.append(f"api: {run.api['errors'][0]}")
    if run.push.get("error"):
        problems.append(f"push: {run.push['error']}")
    if run.archive.get("error"):
        problems.append(f"archive: {run.archive['error']}")
    if run.bulk.get("error") or run.bulk.get("throttled"):  # the page's flow must never be refused
        problems.append(f"bulk: {run.bulk.get('error') or str(run.bulk['throttled']) + ' throttled'}")
    for size, data in (run.scale.get("sizes") or {}).items():
        for kind, latency in data["latency"].items():
            if set(latency["statuses"]) - {200}:
                problems.append(f"scale {size} {kind}: statuses {latency['statuses']}")
    if run.uploads and (run.uploads["failed"] or not run.uploads["scheduled"]):
        problems.append(f"uploads: {run.uploads['failed']} failed {run.uploads['errors'][:1]}")
    for label in ("no password", "password"):
        errors = (run.links.get(label) or {}).get("errors")
        if errors:
            problems.append(f"links ({label}): {errors[0]}")
    if run.search:
        if run.search.get("error") or run.search.get("errors"):
            problems.append(f"search: {run.search.get('error') or run.search['errors'][0]}")
        elif all(k["empty"] == k["queries"] for k in run.search.get("hits_per_query", {}).values()):
            problems.append("search: no query found any of the seeded files")
    if run.notify and (run.notify.get("error") or run.notify.get("delivered") != run.notify.get("count")):
        problems.append(f"notifications: {run.notify.get('error') or 'delivered '}"
                        f"{run.notify.get('delivered')}/{run.notify.get('count')}")
    return problems


def _pair(s: dict[str, Any] | None) -> str:
    if not s or not s.get("count"):
        return "-"
    return f"{fmt_ms(s.get('p50'))} / {fmt_ms(s.get('p99'))} (n={s['count']})"


def print_report(result: dict[str, Any], out: Callable[[str], None] = print) -> None:
    cfg = result["config"]
    out("")
    start, end = result["machine_start"], result["machine_end"]
    out(f"Fileshare bench ({'quick' if cfg['quick'] else 'full'}): phases {', '.join(cfg['phases'])}; "
        f"{start.get('cpus')} CPUs, load average at start {start.get('load_average')}"
        f", at end {end.get('load_average')}")
    if result["gateway_started_here"] is False:
        out("  gateway REUSED (make dev?): its rate limit applies and its cold starts are its own")
    out(f"  phase seconds {result['phase_seconds']}")
    for phase, wait in result["idle_waits"].items():
        busy = wait.get("still_busy")
        out(f"  before {phase}: waited {wait['waited_s']} s for the pipeline to drain"
            + (f"; NOT idle, still invoked: {busy}" if busy else ""))
    for error in result["setup_errors"]:
        out(f"  setup failed: {error}")

    if result["cold_starts"]:
        out("")
        out("(a) cold starts: each function alone, fresh worker process, no gateway "
            "(median over rounds; machine busy % while it ran, ~50 % = the cold start alone on 2 cores)")
        out("  ratio = Init Duration / the baseline's (a minimal Powertools REST handler, same pool, tracing "
            "on as deployed); goal: API functions <= 0.6x, the others <= 0.8x")
        out("  cold request = Init Duration + the first invoke; its ratio is against the baseline's (what a "
            "cold caller waits: an import moved into the first invoke shows there)")
        rows = [["function", "first event", "Init Duration", "ratio", "goal", "import", "interpreter",
                 "first invoke", "cold request", "ratio", "warm invoke", "answer", "busy"]]
        for name, cs in result["cold_starts"].items():
            ratio, goal = cs.get("ratio"), cs.get("ratio_goal")
            verdict = "-" if goal is None or ratio is None else (
                f"<= {goal} met" if ratio <= goal else f"<= {goal} MISSED")
            rows.append([name, cs["probe"], fmt_ms(cs["init_ms"]),
                         "-" if ratio is None else f"{ratio:.2f}x", verdict, fmt_ms(cs["import_ms"]),
                         fmt_ms(cs["interpreter_ms"]), fmt_ms(cs["first_invoke_ms"]),
                         fmt_ms(cs["cold_request_ms"]),
                         "-" if cs.get("cold_request_ratio") is None else f"{cs['cold_request_ratio']:.2f}x",
                         fmt_ms(cs["warm_invoke_ms"]), str(cs["outcome"]),
                         "-" if cs["machine_busy_pct"] is None else f"{cs['machine_busy_pct']:.0f}%"])
        table(rows, out)
        snap = [name for name, cs in result["cold_starts"].items() if cs.get("snap_start")]
        if snap:
            out(f"  SnapStart in AWS ({', '.join(snap)}): Lambda runs their Init once per published "
                "version and restores it; a cold caller there waits Restore Duration + the after-restore "
                "hook + a first invoke already warmed (fileshare.adapters.snapstart): not measurable here")

    if result["cold_imports"]:
        imports = result["cold_imports"]
        out("")
        out("(a') cold imports from staged assets: each handler's import in a fresh "
            f"`{imports['python']} -B`, layers and code read-only, median of {imports['rounds']} round(s); "
            "'with .pyc' as bundled "
            "(compileall, unchecked-hash), 'without' the same files minus every .pyc; baseline = the minimal "
            "Powertools handler, same run, same variant")
        table(coldimport.report_lines(imports), out)
        if imports.get("tracers"):
            out("")
            out("(a'') tracing's cold-start cost from the same staged layer: import, set-up and a first span "
                "exported to a local receiver, in a fresh interpreter that already loaded botocore, psycopg, "
                "requests and Powertools (tests/bench/tracers.py)")
            table(tracers.report_lines(imports["tracers"]), out)

    routes = result["api"].get("routes_by_phase", {})
    api_phases = [p for p in routes if p.startswith("api:") and p != "api: warm-up"]
    if api_phases:
        loops = result["api"]
        out("")
        out(f"(b) API latency, end to end through the gateway: {loops['clients']} keep-alive clients in a "
            f"closed loop (N = {loops['clients']}), {loops['seconds']:g} s per loop; throttled (429) "
            f"{loops['throttled_429']}")
        for key in ("get_file_single", "get_file_loop", "read_routes_loop"):
            loop = loops.get(key) or {}
            out(f"    {key}: {loop.get('clients')} client(s), {loop.get('per_s')} requests/s, machine busy "
                f"{loop.get('machine_busy_pct')}%")
        if paced := loops.get("get_file_paced"):
            out(f"    get_file_paced: {paced['rate_per_s']:g} requests/s on schedule (open loop), "
                f"machine busy {paced['machine_busy_pct']}%, "
                f"send lag p99 {fmt_ms(paced['schedule_lag_p99_ms'])}")
        rows = [["phase", "route", "cold p50 / p99", "warm p50 / p99", "unknown", "non-2xx"]]
        for phase in api_phases:
            for route, r in routes[phase].items():
                bad = {s: n for s, n in r["statuses"].items() if int(s) >= 300}
                rows.append([phase.removeprefix("api: "), route, _pair(r.get("cold")), _pair(r.get("warm")),
                             _pair(r.get("unknown")), str(bad) if bad else ""])
        table(rows, out)
        for error in loops.get("errors", [])[:5]:
            out(f"    error: {error}")

    up = result["uploads"]
    if up:
        out("")
        out(f"(c) uploads: {up['rate_per_s']:g}/s for {up['duration_s']:g} s: {up['scheduled']} started, "
            f"{up['ready']} ready, {up['failed']} failed, {up['bytes'] / 1e6:.1f} MB; "
            f"by kind {up['by_kind']}; machine busy {up['machine_busy_pct']}%; "
            f"client schedule lag p99 {fmt_ms(up['schedule_lag_ms']['p99'])}")
        for error in up["errors"]:
            out(f"    failed: {error}")
        rows = [["latency", "p50", "p95", "p99", "max", "n"]]
        for label, key in (("upload->ready (committed)", "upload_to_ready_committed_ms"),
                           ("upload->ready (polled)", "upload_to_ready_polled_ms"),
                           ("POST /files -> ready seen", "end_to_end_ms"),
                           ("POST /files", "create_ms"), ("S3 presigned upload", "s3_upload_ms")):
            s = up[key]
            rows.append([label, fmt_ms(s["p50"]), fmt_ms(s["p95"]), fmt_ms(s["p99"]), fmt_ms(s["max"]),
                         str(s["count"])])
        table(rows, out)
        out("  (committed: S3 accepted the bytes -> the ready row's updated_at; polled: -> the first GET that"
            f" shows ready, every {cfg['poll_ms']:g} ms)")
        out(f"  processing throughput {up['processing_throughput_files_per_s']} files/s")
        caches = up["cache"]
        for label, c in (("file cache", caches["file_cache"]), ("Redis server", caches["redis_server"])):
            out(f"  {label} hit ratio {c['hit_ratio']} ({c.get('CacheHits', c.get('hits', '-'))} hits / "
                f"{c.get('CacheMisses', c.get('misses', '-'))} misses; {c['source']})")
        rows = [["route during uploads", "cold p50 / p99", "warm p50 / p99", "non-2xx"]]
        for route, r in routes.get("uploads", {}).items():
            bad = {s: n for s, n in r["statuses"].items() if int(s) >= 300}
            rows.append([route, _pair(r.get("cold")), _pair(r.get("warm")), str(bad) if bad else ""])
        table(rows, out)

    links, search, notify = result["links"], result["search"], result["notifications"]
    if links or search or notify:
        out("")
        out("(d) issue 4")
    if links:
        for label in ("no password", "password"):
            r = routes.get(f"links: {label}", {}).get("GET /s/{token}", {})
            data = links.get(label, {})
            out(f"  GET /s/{{token}} ({label}): warm {_pair(r.get('warm'))}, cold {_pair(r.get('cold'))}, "
                f"{links['clients']} clients, busy {data.get('machine_busy_pct')}%")
            for error in data.get("errors", [])[:3]:
                out(f"    error: {error}")
    if search:
        if "error" in search:
            out(f"  search: FAILED {search['error']}")
        else:
            seeded = search["seeded"]
            out(f"  search over {seeded['docs']} seeded files (COPY {seeded.get('copy_rows_s')} s, "
                f"bulk index {seeded.get('bulk_index_s')} s, cleanup {seeded.get('cleanup_s')} s): "
                f"{search['queries']} queries, {search['clients']} clients, "
                f"busy {search['machine_busy_pct']}%: warm {_pair(search.get('warm_ms'))}")
            rows = [["  query kind", "warm p50 / p99", "empty results", "items p50"]]
            for kind, lat in search.get("by_kind_ms", {}).items():
                h = search["hits_per_query"].get(kind, {})
                rows.append([f"  {kind}", _pair(lat), f"{h.get('empty')}/{h.get('queries')}",
                             str(h.get("p50_items"))])
            table(rows, out)
            for error in search.get("errors", [])[:3]:
                out(f"    error: {error}")
    if notify:
        if "error" in notify:
            out(f"  notifications: FAILED {notify['error']}")
        else:
            out(f"  notification delivery ({notify['count']} events at {notify['rate_per_s']:g}/s, consumer "
                f"{notify['consumer']}): p50 {fmt_ms(notify['p50_ms'])}, p95 {fmt_ms(notify['p95_ms'])}, "
                f"p99 {fmt_ms(notify['p99_ms'])}, max {fmt_ms(notify['max_ms'])}; delivered "
                f"{notify['delivered']}/{notify['count']}; first (warm-up) {fmt_ms(notify['warmup_ms'])}")

    out("")
    out("(e) against the targets (2-core machine; '-' = reported, no target)")
    rows = [["number", "measured", "target", "verdict", "basis"]]
    for t in result["targets"]:
        unit = t["unit"]
        if unit == "ms":
            shown = fmt_ms(t["measured"])
        else:
            shown = "-" if t["measured"] is None else f"{t['measured']} {unit}"
        target = "-" if t["target"] is None else f"< {t['target']:g} {unit}"
        verdict = "-" if t["met"] is None else ("met" if t["met"] else "MISSED")
        rows.append([t["name"], shown, target, verdict, t["basis"]])
    table(rows, out)
    out("")
    for problem in result["broken"]:
        out(f"  FLOW BROKEN: {problem}")
    scale.print_scale(result.get("scale") or {}, out)
    archive.print_archive(result.get("archive") or {}, out)
    bulk.print_bulk(result.get("bulk") or {}, out)
    for row in (result.get("push") or {}).get("push_delivery", []):
        out(f"  push delivery, {row['clients']} socket(s): p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms "
            f"({row['delivered']} of {row['expected']} delivered)")
    out(f"  results: {cfg['out']}")


# ---------------------------------------------------------------------------------------------
# command line


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(description="Fileshare bench (real local stack), phase by phase; "
                                     "[default] or [full; quick] defaults")
    parser.add_argument("--quick", action="store_true",
                        help="about a minute: 1 cold round and short phases (explicit flags still win)")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated subset of {','.join(PHASES)}")
    parser.add_argument("--cold-rounds", type=int,
                        help="cold starts (and cold imports) per function (median reported) [3; quick 1]")
    parser.add_argument("--clients", type=int, default=4,
                        help="closed-loop clients for the latency phases [%(default)s]")
    parser.add_argument("--api-seconds", type=float, help="seconds per API loop (four loops) [10; quick 3]")
    parser.add_argument("--get-rate", type=float, default=100.0,
                        help="GET /files/{id} per second in the paced (open) loop; 0 skips it [%(default)s]")
    parser.add_argument("--duration", type=float, help="seconds of sustained uploads [30; quick 6]")
    parser.add_argument("--rate", type=float, default=10.0, help="uploads started per second [%(default)s]")
    parser.add_argument("--users", type=int, default=5, help="users uploading [%(default)s]")
    parser.add_argument("--big-mb", type=float, default=3.0, help="size of the binary files [%(default)s]")
    parser.add_argument("--poll-ms", type=float, default=500.0,
                        help="GET /files/{id} interval while pending (the web page polls every 500 ms)"
                             " [%(default)s]")
    parser.add_argument("--ready-timeout", type=float, default=30.0,
                        help="give up on a file after this [%(default)s]")
    parser.add_argument("--link-opens", type=int, help="opens per public link [200; quick 30]")
    parser.add_argument("--search-docs", type=int,
                        help="files seeded for the search phase [10000; quick 2000]")
    parser.add_argument("--search-queries", type=int, help="searches run [300; quick 50]")
    parser.add_argument("--notify-count", type=int, help="events for the notification phase [200; quick 40]")
    parser.add_argument("--notify-rate", type=float, default=20.0, help="events per second [%(default)s]")
    parser.add_argument("--workers", type=int, default=64,
                        help="client threads for the upload phase [%(default)s]")
    parser.add_argument("--scale", choices=sorted(SCALE_SIZES), default="100k",
                        help="file counts of the scale phase: 10k; 100k = 10k and 100k; 1m adds 1 000 000 "
                             "(~15 min more) [%(default)s]")
    parser.add_argument("--archive-mb", type=int,
                        help="MB of sources zipped by the archive phase [1024; quick 128]")
    parser.add_argument("--bulk-files", type=int,
                        help="files the bulk phase sends through the page's flow and as raw PUTs "
                             "[1000; quick 100]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-reuse", action="store_true", help="fail rather than reuse a running gateway")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "latest.json")
    args = parser.parse_args(argv)

    def pick(value: Any, full: Any, quick: Any) -> Any:
        return value if value is not None else (quick if args.quick else full)

    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = set(phases) - set(PHASES)
    if unknown or not phases:
        parser.error(f"unknown phase(s) {sorted(unknown)}; choose from {','.join(PHASES)}")
    config = Config(
        phases=tuple(p for p in PHASES if p in phases), cold_rounds=pick(args.cold_rounds, 3, 1),
        clients=args.clients, api_seconds=pick(args.api_seconds, 10.0, 3.0), get_rate=args.get_rate,
        duration_s=pick(args.duration, 30.0, 6.0),
        rate=args.rate, users=args.users, big_mb=args.big_mb, poll_ms=args.poll_ms,
        ready_timeout_s=args.ready_timeout, link_opens=pick(args.link_opens, 200, 30),
        search_docs=pick(args.search_docs, 10_000, 2_000), search_queries=pick(args.search_queries, 300, 50),
        notify_count=pick(args.notify_count, 200, 40), notify_rate=args.notify_rate, seed=args.seed,
        workers=args.workers, reuse=not args.no_reuse, quick=args.quick, out=args.out,
        scale_sizes=SCALE_SIZES["10k" if args.quick and args.scale == "100k" else args.scale],
        archive_mb=pick(args.archive_mb, 1024, 128), bulk_files=pick(args.bulk_files, 1000, 100))
    if min(config.cold_rounds, config.clients, config.users, config.link_opens, config.search_queries,
           config.notify_count) < 1 or config.search_docs < 1:
        parser.error("counts must be at least 1")
    if config.duration_s <= 0 or config.rate <= 0 or config.duration_s * config.rate > 5000:
        parser.error("need duration > 0, rate > 0 and at most 5000 uploads")
    if config.api_seconds <= 0 or config.notify_rate <= 0 or config.get_rate < 0:
        parser.error("need --api-seconds > 0, --notify-rate > 0 and --get-rate >= 0")
    return config


def _last_resort() -> None:
    """Stop the gateway(s) this process started (its own children, each in its own process group),
    then exit."""
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if int(fields[1]) == me and b"serve.py" in cmdline:  # fields[1]: the parent pid
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGTERM)
    time.sleep(3)
    os._exit(2)


@dataclass
class _Deadline:
    """Ends the process if the run overstays (it must stop by itself)."""

    seconds: float
    timer: threading.Timer | None = None

    def __enter__(self) -> _Deadline:
        def expire() -> None:
            print(f"bench: still running after {self.seconds:.0f} s; giving up", file=sys.stderr, flush=True)
            # every loop stops at its next step and the main thread gets a KeyboardInterrupt, so the
            # gateway, the cold-start workers and the seeded search files are cleaned up on the way
            # out; if that hangs, the gateway this process started is stopped and the process leaves
            STOP.set()
            killer = threading.Timer(30.0, _last_resort)
            killer.daemon = True
            killer.start()
            _thread.interrupt_main()

        self.timer = threading.Timer(self.seconds, expire)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.timer:
            self.timer.cancel()


def _archive_phase(config: Config) -> dict[str, Any]:
    try:
        return archive.run_archive(bench_env(), config.archive_mb, log=lambda line: print(line, flush=True))
    except Exception as exc:  # reported as a broken flow, the other phases still run
        return {"error": repr(exc)}


def _bulk_phase(config: Config) -> dict[str, Any]:
    try:
        return bulk.run_bulk(load_test_env(TEST_ENV), BENCH_DIR, config.bulk_files,
                             log=lambda line: print(line, flush=True))
    except Exception as exc:  # reported as a broken flow, the other phases still run
        return {"error": repr(exc)}


def _push_phase() -> dict[str, Any]:
    try:
        env = bench_env()
        return {"push_delivery": [push.measure(clients, 100, 10.0, env) for clients in (1, 50)]}
    except Exception as exc:  # reported as a broken flow, the other phases still run
        return {"error": repr(exc)}


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    for key, value in load_test_env(TEST_ENV).items():
        os.environ.setdefault(key, value)
    run = Run(config, machine_start=machine())
    started = time.monotonic()
    print(f"bench: phases {','.join(config.phases)}; gives up after {config.budget_s():.0f} s", flush=True)
    with _Deadline(config.budget_s()):
        try:
            if "cold" in config.phases:
                # before the gateway: nothing of ours runs but the one worker being measured
                _timed(run, "cold", lambda: run.cold.update(
                    coldstart.measure_cold_starts(bench_env(), rounds=config.cold_rounds,
                                                  quiet_limit_s=1.0 if config.quick else 3.0)))
            if "coldimport" in config.phases:  # no service: staged assets and fresh interpreters
                _timed(run, "coldimport", lambda: run.coldimport.update(
                    coldimport.measure_cold_imports(bench_env(), rounds=config.cold_rounds,
                                                    quiet_limit_s=1.0 if config.quick else 3.0,
                                                    log=lambda line: print(line, flush=True))))
            if "scale" in config.phases:  # its own database and alias; before the gateway starts
                _timed(run, "scale", lambda: run.scale.update(
                    scale.run_scale(bench_env(), config.scale_sizes,
                                    log=lambda line: print(line, flush=True))))
            if "archive" in config.phases:  # in-process, its own bucket; before the gateway starts
                _timed(run, "archive", lambda: run.archive.update(_archive_phase(config)))
            if "bulk" in config.phases:  # a gateway of its own with the default limits
                _timed(run, "bulk", lambda: run.bulk.update(_bulk_phase(config)))
            if "push" in config.phases:  # its own socket gateway and pusher; before the gateway starts
                _timed(run, "push", lambda: run.push.update(_push_phase()))
            if GATEWAY_PHASES & set(config.phases):
                with running_gateway(log_name="serve-bench", reuse=config.reuse,
                                     args=["--env-file", str(bench_env_file())]) as gateway:
                    run.gateway_started_here = gateway.started_here
                    print(f"bench: gateway {gateway.url} ({'started' if gateway.started_here else 'REUSED'})",
                          flush=True)
                    execute_gateway_phases(config, gateway.url, run)
        except RuntimeUnavailableError as exc:
            print(f"bench: local runtime unavailable: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("bench: interrupted; nothing reported", file=sys.stderr)
            return 2
    run.phase_s["total"] = round(time.monotonic() - started, 1)
    run.broken = flow_breaks(run)
    result = report(run)
    config.out.parent.mkdir(parents=True, exist_ok=True)
    config.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print_report(result)
    if run.broken:
        print("bench: the flow broke (see FLOW BROKEN above)", file=sys.stderr)
    return 1 if run.broken else 0


if __name__ == "__main__":
    sys.exit(main())
