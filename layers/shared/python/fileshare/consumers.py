"""What the event consumers share: one batch entry point, and reading a record's envelope.

Every consumer (processor on SQS; notifier, indexer, deleter on Kafka) handles records one by one
through Powertools' BatchProcessor, so a failing record is reported in ``batchItemFailures`` and
only it is retried; a batch where every record failed is reported item by item too, so the
function's error metric means a crash, not bad input.

A consumer first looks only at ``type``: a type it does not handle (including one added after this
code was written, unknown to ``EventType``) is acknowledged without validating the rest. A record
that is not an envelope at all is ``MalformedEventError``: retrying cannot fix it, so it fails until
the trigger's retries are exhausted and it goes to the on-failure destination (dead letters).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Collection
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare.adapters import telemetry, tracing
from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.event_types import ENVELOPE_VERSION, Event


class MalformedEventError(ValueError):
    """Not an event envelope, or a data version this consumer does not know."""


def envelope(raw: bytes | str) -> dict[str, Any]:
    """The record's JSON object, which must carry a string ``type``."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEventError(f"the record is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise MalformedEventError("the record is not an event envelope (no type)")
    return payload


def wanted_event(raw: bytes | str, types: Collection[str], versions: Collection[int]) -> Event | None:
    """The event in a record's value if its type is one of ``types``; None for any other type.

    The type is checked before the envelope is validated, so a type added later (or one this
    consumer does not care about) is acknowledged, not dead-lettered.
    """
    payload = envelope(raw)
    if payload["type"] not in types:
        return None
    if payload.get("version", ENVELOPE_VERSION) not in versions:
        raise MalformedEventError(f"unsupported version {payload.get('version')!r} of {payload['type']}")
    try:
        return Event.model_validate(payload)
    except ValueError as exc:
        raise MalformedEventError(f"invalid {payload['type']} envelope: {exc}") from exc


def record_keys(record: Any) -> tuple[str | None, str | None]:
    """(correlation id, file id) of a Kafka record: the ``correlation-id`` header and the envelope's
    ``file_id``; (None, None) for anything else (an SQS record: the processor finds them itself)."""
    headers = getattr(record, "decoded_headers", None)
    if not isinstance(headers, dict):
        return None, None
    raw = headers.get(telemetry.CORRELATION_HEADER)
    correlation = raw.decode(errors="replace") if isinstance(raw, bytes) else None
    try:
        file_id = json.loads(record.decoded_value).get("file_id")
    except (ValueError, AttributeError, TypeError):
        file_id = None
    return correlation, str(file_id) if file_id else None


def _record_span(record: Any) -> Any:
    """A Kafka record's consumer span, continuing the producer's trace (its ``traceparent``
    header); none for an SQS record (the processor continues the trace the object's metadata
    carries, once it has read it)."""
    headers = getattr(record, "decoded_headers", None)
    if not isinstance(headers, dict):
        return contextlib.nullcontext()
    topic = getattr(record, "topic", None)
    return tracing.record_span(f"{topic} process", headers, **{
        "messaging.system": "kafka", "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(getattr(record, "partition", "")),
        "messaging.kafka.offset": getattr(record, "offset", None)})


def batch_entry_point(event_type: EventType, record_handler: Callable[[Any], None]
                      ) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of a consumer: partial batch responses around ``record_handler``."""
    processor = BatchProcessor(event_type=event_type, raise_on_entire_batch_failure=False)

    def traced(record: Any) -> None:
        """The record handler, logging under the correlation id and file id the record carries."""
        telemetry.adopt(*record_keys(record))
        try:
            with _record_span(record):
                record_handler(record)
        finally:
            telemetry.forget()

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return dict(process_partial_response(event=event, record_handler=traced,
                                             processor=processor, context=context))

    return lambda_handler
