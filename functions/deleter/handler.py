"""Deleter: consumes ``fileshare.events`` (MSK) and purges files on ``file.deleted``/``file.expired``.

Each Kafka record is handled on its own (Powertools BatchProcessor); a failing record is reported
in ``batchItemFailures`` so Lambda retries from it, and after the retries the batch goes to the
function's failure queue (the sweeper also finishes purges that stay stuck). Other event types are
skipped. Idempotent: see ``fileshare.deletion``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import deletion, events
from fileshare.consumers import envelope
from fileshare.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.Kafka, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    message = envelope(record.decoded_value)  # not an envelope: raises (retried, then dead-lettered)
    if message["type"] not in deletion.PURGE_EVENTS:
        return  # not ours (including types this code does not know): acknowledged unread
    event = events.Event.model_validate(message)  # a malformed deletion event raises likewise
    outcome = deletion.handle_event(event)
    if outcome is not None:
        metrics.add_metric(name="DeletionEventsHandled", unit="Count", value=1)
        logger.info("deletion event handled", extra={"file_id": str(event.file_id), "type": event.type.value,
                                                     "outcome": outcome.value})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    return dict(response)
