"""The service-level metrics (EMF through Powertools) that ``infra/slos.py`` declares SLOs and alarms on.

Names here and there must agree; ``tests/integration/test_slo_metrics.py`` runs each code path and
checks the EMF it prints against the synthesized alarms. Function-level metrics carry Powertools'
``service`` dimension (the function's name); the API's request metrics carry ``api`` (the stage
name, one series for the whole API) and ``api`` + ``route`` (one series per route).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from fileshare.adapters.observability import logger, metrics

API_STAGE = "v1"
UPLOAD_TO_READY = "UploadToReadyMs"
NOTIFICATION_DELIVERY = "NotificationDeliveryMs"
SEARCH_LATENCY = "SearchLatencyMs"
OUTBOX_BACKLOG = "OutboxBacklog"
OUTBOX_OLDEST_AGE = "OutboxOldestUnpublishedAgeS"
API_REQUESTS, API_5XX, API_4XX = "ApiRequests", "Api5xx", "Api4xx"
CORRELATION_META = "correlation-id"  # S3 object metadata (x-amz-meta-correlation-id)
CORRELATION_HEADER = "correlation-id"  # Kafka record header


def correlation_id() -> str | None:
    """The correlation id of what this invocation is doing (the API request's id, or the one a
    record brought along)."""
    value = logger.get_correlation_id()
    return str(value) if value else None


def adopt(correlation: str | None = None, file_id: str | None = None) -> None:
    """Log from now on under this correlation id and file id (the ones a record carries)."""
    if correlation:
        logger.set_correlation_id(correlation)
    if file_id:
        logger.append_keys(file_id=file_id)


def forget() -> None:
    """Drop what :func:`adopt` set (after each record of a batch)."""
    logger.remove_keys(["correlation_id", "file_id"])


def ms_since(epoch_s: float, now: float | None = None) -> float:
    """Milliseconds from ``epoch_s`` to now, never negative (clocks of S3 and Lambda differ a little)."""
    return max(0.0, ((time.time() if now is None else now) - epoch_s) * 1000)


def epoch(value: str | datetime | None) -> float | None:
    """Seconds since the epoch of an ISO-8601 time (S3's ``eventTime``, an event's ``occurred_at``)."""
    if value is None or value == "":
        return None
    try:
        when = (value if isinstance(value, datetime)
                else datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None
    return when.timestamp()


def latency(name: str, since_epoch_s: float | None) -> None:
    """Add a latency metric (ms) measured from ``since_epoch_s``; nothing when that time is unknown."""
    if since_epoch_s is not None:
        metrics.add_metric(name=name, unit="Milliseconds", value=ms_since(since_epoch_s))


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Add the block's wall time as a latency metric (ms), also when it raises."""
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics.add_metric(name=name, unit="Milliseconds", value=(time.perf_counter() - started) * 1000)


def outbox_backlog(count: int, oldest_age_s: float) -> None:
    metrics.add_metric(name=OUTBOX_BACKLOG, unit="Count", value=count)
    metrics.add_metric(name=OUTBOX_OLDEST_AGE, unit="Seconds", value=oldest_age_s)


def observe_api(event: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    """One EMF document per API request: requests, 5xx and 4xx for the whole API and for its route.

    The route is the resource template (``GET /files/{file_id}``), never the concrete path, so ids
    and link tokens stay out of the dimensions. Written at once (not with the handler's metrics),
    because its dimension sets differ from the function's ``service``.
    """
    status = int(response.get("statusCode") or 0)
    route = f"{event.get('httpMethod', '?')} {event.get('resource') or 'unknown'}"
    file_id = _file_of(event, response, status)
    logger.info("request handled", extra={"route": route, "status": status,
                                          **({"file_id": file_id} if file_id else {})})
    emf = AmazonCloudWatchEMFProvider(namespace=metrics.namespace, service="")
    emf.add_dimension("api", API_STAGE)
    emf.add_dimensions(api=API_STAGE, route=route)
    emf.add_metric(name=API_REQUESTS, unit="Count", value=1)
    emf.add_metric(name=API_5XX, unit="Count", value=1 if status >= 500 else 0)
    emf.add_metric(name=API_4XX, unit="Count", value=1 if 400 <= status < 500 else 0)
    emf.flush_metrics()


def _file_of(event: Mapping[str, Any], response: Mapping[str, Any], status: int) -> str | None:
    """The file a request was about: its path parameter, or the one ``POST /files`` created."""
    file_id = (event.get("pathParameters") or {}).get("file_id")
    if file_id or status != 201 or event.get("resource") != "/files":
        return str(file_id) if file_id else None
    try:
        created = json.loads(response.get("body") or "{}")
    except ValueError:
        return None
    return str(created["file_id"]) if isinstance(created, dict) and created.get("file_id") else None
