"""Processor: SQS messages carrying S3 ObjectCreated notifications -> ``fileshare.processing``.

Each SQS record is processed on its own (Powertools BatchProcessor); a record that raises is
reported in ``batchItemFailures`` and only it is redelivered (and, after maxReceiveCount, moved to
the DLQ). One message body may hold several S3 records; all must succeed for the message to.
S3 URL-encodes keys in notifications (spaces as ``+``), so keys are decoded with ``unquote_plus``.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from fileshare import processing
from fileshare.adapters import telemetry
from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.consumers import batch_entry_point


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
                size=obj.get("size"), etag=obj.get("eTag"),
                event_time=telemetry.epoch(record.get("eventTime"))))
        except (KeyError, TypeError, AttributeError) as exc:
            raise MalformedMessageError(f"malformed S3 record: {exc!r}") from exc
    return objects


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    for obj in s3_objects(record.body):
        outcome = processing.process_object(obj)
        metrics.add_metric(name="ObjectsProcessed", unit="Count", value=1)
        logger.info("object processed", extra={"key": obj.key, "outcome": outcome.value})


lambda_handler = batch_entry_point(EventType.SQS, record_handler)
