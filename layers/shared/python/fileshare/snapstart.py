"""Lambda SnapStart runtime hooks (``snapshot_restore_py``, part of the Python managed runtime).

A SnapStart function (``infra/functions.py``: the API functions) initializes once when a version is
published; Lambda snapshots that process and resumes every later execution environment from it.
So the hooks do two things:

- before the snapshot (``before_snapshot``): do now what each environment's first request would
  otherwise do, since it costs nothing on any request path: set up OpenTelemetry's SDK, exporter
  and instrumentation (at the first span in ``fileshare.tracing`` otherwise), import boto3, and
  build the deferred pydantic validators and each route's validation (``warm`` callables, one per
  API app, registered by ``fileshare.api.create_app``);
- after a restore (``after_restore``): drop what must not be shared by environments resumed from
  one snapshot or is stale after it: pooled PostgreSQL connections, the Redis, OpenSearch and
  Kafka clients, boto3 clients (their HTTP connections), the cached database secret, the rate
  limiter's degraded-until clocks, and the ``random`` module's state (reseeded from the OS).
  Identifiers and tokens come from ``uuid4``/``secrets`` (``os.urandom``), which a restore does
  not repeat. Nothing here opens a connection: every client is created again on first use.

``install()`` registers both hooks only when Lambda initializes the function for a snapshot
(``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``); elsewhere (on-demand, the local runtime) it
imports nothing. ``tests/integration/runtime/test_snapstart_hooks.py`` runs the cycle locally.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SNAP_START = "snap-start"
_warmers: list[Callable[[], object]] = []


def enabled(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True while Lambda initializes this process to snapshot it."""
    return environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == SNAP_START


def warm(fn: Callable[[], object]) -> Callable[[], object]:
    """Run ``fn`` before the snapshot (if there is one): work every first request would repeat."""
    _warmers.append(fn)
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

    step("otel", _set_up_tracing)
    step("boto3", _import_boto3)
    step("models", _build_models)
    for index, fn in enumerate(_warmers):
        step(f"warm{index}", fn)
    log.info("snapstart: warmed before the snapshot", extra={"ms": spent})
    return spent


def after_restore() -> list[str]:
    """Forget every connection, client and secret the snapshot holds; reseed ``random``.
    Returns what it reset (for the log and the test)."""
    reset: list[str] = []
    random.seed()  # from os.urandom: environments restored from one snapshot must not share it
    reset.append("random")
    connection = sys.modules.get("fileshare.db.connection")
    if connection is not None:
        if connection.pool.cache_info().currsize:
            _quietly(lambda: connection.pool().close(timeout=0))
            connection.pool.cache_clear()
            reset.append("database pool")
        connection.forget_credentials()
        reset.append("database secret")
    cache = sys.modules.get("fileshare.cache")
    if cache is not None and cache.redis_client.cache_info().currsize:
        client = cache.redis_client()
        if client is not None:
            _quietly(lambda: client.connection_pool.disconnect(inuse_connections=True))
        limiter = sys.modules.get("fileshare.limiter")
        if limiter is not None:
            limiter.reset()  # its scripts and degraded-until clocks, and the client cache
        cache.redis_client.cache_clear()
        reset.append("redis")
    search = sys.modules.get("fileshare.search_index")
    if search is not None and search.client.cache_info().currsize:
        _quietly(lambda: search.client().close())
        search.client.cache_clear()
        reset.append("opensearch")
    events = sys.modules.get("fileshare.events")
    if events is not None:
        had_producer = events._producer is not None
        _quietly(events.reset_producer)  # also the inline-publish breaker's monotonic deadline
        if had_producer:
            reset.append("kafka producer")
    aws = sys.modules.get("fileshare.aws")
    if aws is not None and aws.client.cache_info().currsize:
        aws.client.cache_clear()
        reset.append("boto3 clients")  # the longer-budget clients for completes too
    log.info("snapstart: restored", extra={"reset": reset})
    return reset


def install(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Register the hooks with the runtime's ``snapshot_restore_py`` when SnapStart initializes us."""
    if not enabled(environ):
        return False
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def _quietly(fn: Callable[[], Any]) -> None:
    """Close something whose socket the snapshot made stale: failing to close it is expected."""
    try:
        fn()
    except Exception as exc:  # a dead socket's close may raise anything
        log.debug("snapstart: closing a stale client failed: %r", exc)


def _set_up_tracing() -> None:
    from fileshare import tracing

    tracing.setup()  # the OpenTelemetry SDK, its exporter and instrumentation (when tracing is on)


def _import_boto3() -> None:
    import boto3  # noqa: F401 - the import is the point (~120 ms), clients stay per environment


def _build_models() -> None:
    """Build the validators ``fileshare.models`` defers (defer_build) if this function loaded it."""
    models = sys.modules.get("fileshare.models")
    if models is None:
        return
    from pydantic import BaseModel

    for value in vars(models).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == models.__name__:
            value.model_rebuild(force=True)
