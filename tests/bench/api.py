"""Phase (b): API latency on an otherwise idle runtime, end to end through the gateway.

1. first touch: each read route once, one at a time (the gateway's first call of a function is
   its cold start there; REPORT lines tell cold from warm);
2. warm-up, not measured: each read route ``clients`` times at the same instant (twice), so every
   function's pool has grown to the loops' concurrency (its cold starts happen here, not inside a
   measured loop), then a moment of the ``GET /files/{id}`` loop to fill the file cache;
3. ``GET /files/{id}`` in a closed loop (each client sends its next request when its previous one
   was answered) over keep-alive connections, for ``seconds``: first with one client (the request's
   own latency, no queueing), then with ``clients`` at once: the warm p50/p99 headline. A closed
   loop runs as fast as the machine goes, so on 2 cores it saturates them (the client included);
   hence also ``paced_rate`` requests per second on schedule (open loop), latency at a load the
   machine carries;
4. the read routes in the same closed loop, round robin, for ``seconds`` (after a warm-up that lets
   each function's pool grow to the loop's concurrency): p50/p99 per route.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.bench.common import STOP, Client, CpuMeter, FlowError, User, percentile

Request = tuple[str, str, str]  # method, route label, path
Next = Callable[[int, int], tuple[Request, str]]  # (thread, n) -> the request and its token
SINGLE_PHASE = "api: GET /files/{id}, 1 client"
LOOP_PHASE = "api: GET /files/{id}, N clients"
ROUTES_PHASE = "api: read routes, N clients"
PACED_PHASE = "api: GET /files/{id}, paced"


def read_routes(file_id: str) -> list[Request]:
    return [
        ("GET", "GET /health", "/health"),
        ("GET", "GET /me", "/me"),
        ("GET", "GET /files", "/files?limit=20"),
        ("GET", "GET /files/{id}", f"/files/{file_id}"),
        ("GET", "GET /files/{id}/download", f"/files/{file_id}/download"),
        ("GET", "GET /files/{id}/shares", f"/files/{file_id}/shares"),
        ("GET", "GET /files/{id}/links", f"/files/{file_id}/links"),
        ("GET", "GET /search", "/search?q=image"),
        ("GET", "GET /shared-with-me", "/shared-with-me"),
        ("GET", "GET /notifications", "/notifications"),
        ("GET", "GET /trash", "/trash"),
    ]


class Errors:
    """Non-2xx answers and transport errors during a loop (429s are counted apart: throttled)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.throttled = 0
        self.other: list[str] = []

    def add(self, exc: Exception) -> None:
        with self.lock:
            if isinstance(exc, FlowError) and " -> 429:" in str(exc):
                self.throttled += 1
            elif len(self.other) < 20:
                self.other.append(f"{type(exc).__name__}: {exc}")

    def as_dict(self) -> dict[str, Any]:
        return {"throttled_429": self.throttled, "errors": self.other}


def closed_loop(client: Client, *, clients: int, seconds: float,
                next_request: Next, errors: Errors) -> int:
    """``clients`` threads, each sending ``next_request(thread, n)`` back to back; returns the count."""
    stop_at = time.monotonic() + seconds
    counts = [0] * clients

    def loop(thread: int) -> None:
        n = 0
        while time.monotonic() < stop_at and not STOP.is_set():
            (method, route, path), token = next_request(thread, n)
            try:
                client.call(method, route, path, token=token)
            except (FlowError, requests.RequestException) as exc:
                errors.add(exc)
            n += 1
        counts[thread] = n

    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="api") as pool:
        list(pool.map(loop, range(clients)))
    return sum(counts)


def paced_loop(client: Client, *, rate: float, seconds: float, workers: int,
               next_request: Callable[[int], tuple[Request, str]], errors: Errors) -> list[float]:
    """Send ``rate`` requests per second for ``seconds`` (open loop: on schedule, whatever the
    answers' pace) from up to ``workers`` threads; returns how late each was sent (ms)."""
    lags: list[float] = []

    def send(n: int) -> None:
        (method, route, path), token = next_request(n)
        try:
            client.call(method, route, path, token=token)
        except (FlowError, requests.RequestException) as exc:
            errors.add(exc)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paced") as pool:
        for n in range(int(rate * seconds)):
            if STOP.is_set():
                break
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            lags.append(max(0.0, -delay) * 1000)
            pool.submit(send, n)
    return lags


def grow_pools(client: Client, token: str | None, requests_: list[Request], clients: int, *,
               rounds: int = 2, headers: dict[str, str] | None = None) -> None:
    """Send each request ``clients`` times at the same instant (a barrier), ``rounds`` times, so the
    function behind it has ``clients`` warm workers; answers are not checked (it is a warm-up)."""
    barrier = threading.Barrier(clients)

    def fire(request: Request) -> None:
        method, route, path = request
        barrier.wait()
        with contextlib.suppress(requests.RequestException):
            client.request(method, route, path, token=token, headers=headers)

    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="grow") as pool:
        for _ in range(rounds):
            for request in requests_:
                list(pool.map(fire, [request] * clients))


def run_phase(client: Client, owners: list[tuple[User, str]], *, clients: int, seconds: float,
              warmup_s: float, grow_rounds: int, paced_rate: float, seed: int) -> dict[str, Any]:
    """``owners``: (user, a ready file of theirs) pairs; returns loop counts, errors, machine load."""
    rng = random.Random(seed)
    errors = Errors()
    user, file_id = owners[0]

    client.phase = "api: first touch"
    for method, route, path in read_routes(file_id):
        try:
            client.call(method, route, path, token=user.token)
        except (FlowError, requests.RequestException) as exc:
            errors.add(exc)

    def get_file(_thread: int, _n: int) -> tuple[Request, str]:
        owner, fid = rng.choice(owners)
        return ("GET", "GET /files/{id}", f"/files/{fid}"), owner.token

    # every function behind the read routes grows its pool to the loops' concurrency now (cold
    # starts), not in the middle of a measured loop; then the file cache is warmed
    client.phase = "api: warm-up"
    grow_pools(client, user.token, read_routes(file_id), clients, rounds=grow_rounds)
    closed_loop(client, clients=clients, seconds=warmup_s, next_request=get_file, errors=Errors())

    loops: dict[str, Any] = {}

    def measure(phase: str, key: str, threads: int, next_request: Next) -> None:
        client.phase = phase
        cpu = CpuMeter().start()
        started = time.monotonic()
        count = closed_loop(client, clients=threads, seconds=seconds, next_request=next_request,
                            errors=errors)
        loops[key] = {"clients": threads, "requests": count,
                      "per_s": round(count / (time.monotonic() - started), 1),
                      "machine_busy_pct": cpu.busy_pct()}

    measure(SINGLE_PHASE, "get_file_single", 1, get_file)  # no queueing: the request's own latency
    measure(LOOP_PHASE, "get_file_loop", clients, get_file)  # the headline: a few clients at once
    if paced_rate > 0:  # an open loop at a steady rate: latency at a load the machine can carry
        client.phase = PACED_PHASE
        cpu = CpuMeter().start()
        lag = paced_loop(client, rate=paced_rate, seconds=seconds, workers=clients,
                         next_request=lambda n: get_file(0, n), errors=errors)
        loops["get_file_paced"] = {"rate_per_s": paced_rate, "requests": int(paced_rate * seconds),
                                   "schedule_lag_p99_ms": percentile(lag, 99),
                                   "machine_busy_pct": cpu.busy_pct()}

    per_owner = {owner.user_id: read_routes(fid) for owner, fid in owners}

    def round_robin(thread: int, n: int) -> tuple[Request, str]:
        owner, _ = owners[(thread + n) % len(owners)]
        routes = per_owner[owner.user_id]
        return routes[(thread + n) % len(routes)], owner.token

    measure(ROUTES_PHASE, "read_routes_loop", clients, round_robin)
    return {"clients": clients, "seconds": seconds, **loops, **errors.as_dict()}
