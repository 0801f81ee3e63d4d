"""Processor: SQS messages carrying S3 ObjectCreated notifications -> ``fileshare.processing``.

Each SQS record is processed on its own (Powertools BatchProcessor); a record that raises is
reported in ``batchItemFailures`` and only it is redelivered (and, after maxReceiveCount, moved to
the DLQ). One message body may hold several S3 records; all must succeed for the message to.
S3 URL-encodes keys in notifications (spaces as ``+``), so keys are decoded with ``unquote_plus``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import processing
from fileshare.observability import logger, metrics, tracer

# A batch where every record failed is reported item by item too (not as an invocation error), so
# SQS retries exactly those messages and the function's error metric means a crash, not bad input.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class MalformedMessageError(ValueError):
    """The body is not an S3 notification; redelivery will not help, so it ends in the DLQ."""


def s3_objects(body: str) -> list[processing.S3Object]:
    """The created objects a message body announces; [] for S3's test event. Raises on garbage."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError as exc:
        raise MalformedMessageError(f"body is not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise MalformedMessageError("body is not a JSON object")
    if message.get("Event") == "s3:TestEvent":
        return []
    records = message.get("Records")
    if not isinstance(records, list) or not records:
        raise MalformedMessageError("body has no S3 Records")
    objects = []
    for record in records:
        try:
            if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
                continue
            s3 = record["s3"]
            obj = s3["object"]
            objects.append(processing.S3Object(
                bucket=s3["bucket"]["name"], key=unquote_plus(obj["key"]),
                size=obj.get("size"), etag=obj.get("eTag")))
        except (KeyError, TypeError, AttributeError) as exc:
            raise MalformedMessageError(f"malformed S3 record: {exc!r}") from exc
    return objects


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    for obj in s3_objects(record.body):
        outcome = processing.process_object(obj)
        metrics.add_metric(name="ObjectsProcessed", unit="Count", value=1)
        logger.info("object processed", extra={"key": obj.key, "outcome": outcome.value})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    return dict(response)
