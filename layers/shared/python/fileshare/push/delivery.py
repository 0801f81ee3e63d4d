"""Posting to connections through the stage's ``@connections`` API (``PUSH_ENDPOINT``).

The same boto3 ``apigatewaymanagementapi`` client in AWS and locally (the local gateway serves the
API at the endpoint the namespace's env names). A connection that is gone (410 ``GoneException``:
closed, or past API Gateway's limits) is removed from the store; any other failure is counted and
logged, and the next connection is tried: one bad connection never holds up the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fileshare import timeouts
from fileshare.adapters.observability import logger, metrics
from fileshare.config import settings
from fileshare.push import connections


@dataclass
class Delivery:
    sent: int = 0
    gone: int = 0
    failed: int = 0


@lru_cache(maxsize=1)
def client() -> Any:
    """The process's @connections client (endpoint: the stage's URL, ``PUSH_ENDPOINT``)."""
    import boto3
    from botocore.config import Config

    endpoint = settings().push_endpoint
    if not endpoint:
        raise RuntimeError("PUSH_ENDPOINT is not set (declare Uses.SOCKETS)")
    config = Config(region_name=settings().region, connect_timeout=timeouts.AWS_CONNECT_TIMEOUT_S,
                    read_timeout=timeouts.AWS_READ_TIMEOUT_S,
                    retries={"mode": "standard", "total_max_attempts": timeouts.AWS_MAX_ATTEMPTS})
    return boto3.session.Session().client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)


def post(connection_id: str, message: Mapping[str, Any], delivery: Delivery | None = None) -> bool:
    """Send one message to one connection; False when it failed (a gone one is removed)."""
    delivery = delivery if delivery is not None else Delivery()
    api = client()
    try:
        api.post_to_connection(ConnectionId=connection_id,
                               Data=json.dumps(message, separators=(",", ":")).encode())
    except api.exceptions.GoneException:
        connections.remove(connection_id)
        delivery.gone += 1
        return False
    except Exception as exc:  # a throttle, a network error: this message to this connection is lost
        logger.warning("push failed", extra={"error": type(exc).__name__})
        delivery.failed += 1
        return False
    delivery.sent += 1
    return True


def send(messages: Iterable[tuple[str, Mapping[str, Any]]]) -> Delivery:
    """Send (connection id, message) pairs; report what happened as metrics."""
    delivery = Delivery()
    for connection_id, message in messages:
        post(connection_id, message, delivery)
    record(delivery)
    return delivery


def record(delivery: Delivery) -> None:
    metrics.add_metric(name="PushSent", unit="Count", value=delivery.sent)
    metrics.add_metric(name="PushGone", unit="Count", value=delivery.gone)
    metrics.add_metric(name="PushFailed", unit="Count", value=delivery.failed)
