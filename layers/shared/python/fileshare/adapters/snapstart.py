"""Lambda SnapStart runtime hooks (``snapshot_restore_py``, part of the Python managed runtime).

A SnapStart function (``infra/functions.py``: the API functions) initializes once when a version is
published; Lambda snapshots that process and resumes every later execution environment from it.
So the hooks do two things:

- before the snapshot (``before_snapshot``): do now what each environment's first request would
  otherwise do, since it costs nothing on any request path: set up OpenTelemetry's SDK, exporter
  and instrumentation (at the first span in ``fileshare.adapters.tracing`` otherwise), import boto3, and
  build the deferred pydantic validators and each route's validation (``warm`` callables, one per
  API app, registered by ``fileshare.api.create_app``);
- after a restore (``after_restore``): drop what must not be shared by environments resumed from
  one snapshot or is stale after it: pooled PostgreSQL connections, the Redis, OpenSearch and
  Kafka clients, boto3 clients (their HTTP connections), the cached database secret, the rate
  limiter's degraded-until clocks, and the ``random`` module's state (reseeded from the OS).
  Identifiers and tokens come from ``uuid4``/``secrets`` (``os.urandom``), which a restore does
  not repeat. Nothing here opens a connection: every client is created again on first use.

Each client module registers its own reset (``on_restore``) and each warmer its own step (``warm``)
when it is imported, so this module imports nothing of the domain and finds nothing by name.

``install()`` registers both hooks only when Lambda initializes the function for a snapshot
(``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``); elsewhere (on-demand, the local runtime) it
imports nothing. ``tests/integration/runtime/test_snapstart_hooks.py`` runs the cycle locally.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SNAP_START = "snap-start"
Warmer = Callable[[], object]
Reset = Callable[[], list[str]]  # what it reset (labels for the log and the test); [] when nothing
_warmers: list[tuple[str | None, Warmer]] = []
_resets: list[Reset] = []


def enabled(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True while Lambda initializes this process to snapshot it."""
    return environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == SNAP_START


def warm(fn: Warmer, *, name: str | None = None) -> Warmer:
    """Run ``fn`` before the snapshot (if there is one): work every first request would repeat.
    Unnamed warmers are logged as ``warm0``, ``warm1``... in registration order."""
    _warmers.append((name, fn))
    return fn


def on_restore(fn: Reset) -> Reset:
    """Run ``fn`` after every restore: a client module registers the reset of what it holds
    (connections, clients, secrets, clocks) when it is imported, in import order."""
    _resets.append(fn)
    return fn


def before_snapshot() -> dict[str, float]:
    """Import and build what the first request of each restored environment would (ms per step)."""
    spent: dict[str, float] = {}

    def step(name: str, fn: Callable[[], object]) -> None:
        started = time.perf_counter()
        try:
            fn()
        except Exception:  # a warmer that fails costs its first request, never the snapshot
            log.exception("snapstart: warming %s failed", name)
        spent[name] = round((time.perf_counter() - started) * 1000, 1)

    step("boto3", _import_boto3)
    unnamed = 0
    for name, fn in _warmers:
        if name is None:
            name, unnamed = f"warm{unnamed}", unnamed + 1
        step(name, fn)
    log.info("snapstart: warmed before the snapshot", extra={"ms": spent})
    return spent


def after_restore() -> list[str]:
    """Forget every connection, client and secret the snapshot holds; reseed ``random``.
    Returns what it reset (for the log and the test)."""
    reset: list[str] = []
    random.seed()  # from os.urandom: environments restored from one snapshot must not share it
    reset.append("random")
    for fn in _resets:
        reset.extend(fn())
    log.info("snapstart: restored", extra={"reset": reset})
    return reset


def install(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Register the hooks with the runtime's ``snapshot_restore_py`` when SnapStart initializes us."""
    if not enabled(environ):
        return False
    from snapshot_restore_py import (  # only the SnapStart runtime has it
        register_after_restore,
        register_before_snapshot,
    )

    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def quietly(fn: Callable[[], Any]) -> None:
    """Close something whose socket the snapshot made stale: failing to close it is expected."""
    try:
        fn()
    except Exception as exc:  # a dead socket's close may raise anything
        log.debug("snapstart: closing a stale client failed: %r", exc)


def _import_boto3() -> None:
    import boto3  # noqa: F401 - before the snapshot: the import is the point (~120 ms), clients stay per environment
