"""Pusher: the WebSocket API's routes, and events -> the readers' connections (``fileshare.push``).

One function, two kinds of invocation, told apart by the event's shape:
- a WebSocket route (``requestContext.routeKey``): ``$connect`` verifies the id token in the
  ``token`` query parameter (a refused token is a 401 and no connection), ``$disconnect`` forgets
  the connection, ``resume`` / ``$default`` handle what the client sends (``fileshare.push.socket``);
- a batch of Kafka records from ``fileshare.events``: each event goes to its readers' connections
  with its outbox cursor (the ``outbox-seq`` header), record by record (Powertools BatchProcessor).
  A push that fails is counted, not retried: the client resumes from its cursor.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.consumers import batch_entry_point
from fileshare.errors import DomainError
from fileshare.events import SEQ_HEADER
from fileshare.push import delivery, fanout, socket


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    raw = (record.decoded_headers or {}).get(SEQ_HEADER)
    seq = int(raw) if isinstance(raw, bytes) and raw.isdigit() else None
    outcome = fanout.handle(record.decoded_value, seq)
    logger.debug("record handled", extra={"partition": record.partition, "offset": record.offset,
                                          "outcome": outcome.value})


_consume = batch_entry_point(EventType.Kafka, record_handler)


def _reply(status: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps(body or {})}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def _route(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event["requestContext"]
    route, connection_id = request["routeKey"], request["connectionId"]
    try:
        if route == "$connect":
            token = (event.get("queryStringParameters") or {}).get("token")
            socket.connect(connection_id, token)
        elif route == "$disconnect":
            socket.disconnect(connection_id)
        else:
            socket.receive(connection_id, event.get("body"))
    except DomainError as exc:
        logger.info("socket route refused", extra={"route": route, "code": exc.code})
        if route not in ("$connect", "$disconnect"):  # the client hears why on its own connection
            delivery.post(connection_id, socket.error_message(exc))
        return _reply(exc.status, socket.error_message(exc))
    return _reply(200)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "routeKey" in (event.get("requestContext") or {}):
        return _route(event, context)
    return _consume(event, context)
