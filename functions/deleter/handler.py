"""Deleter: consumes ``fileshare.events`` (MSK) and purges files on ``file.deleted``/``file.expired``.

Each Kafka record is handled on its own (Powertools BatchProcessor); a failing record is reported
in ``batchItemFailures`` so Lambda retries from it, and after the retries the batch goes to the
function's failure queue (the sweeper also finishes purges that stay stuck). Other event types are
skipped. Idempotent: see ``fileshare.deletion``.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord

from fileshare import deletion, event_types
from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.consumers import batch_entry_point, envelope


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    message = envelope(record.decoded_value)  # not an envelope: raises (retried, then dead-lettered)
    if message["type"] not in deletion.PURGE_EVENTS:
        return  # not ours (including types this code does not know): acknowledged unread
    event = event_types.Event.model_validate(message)  # a malformed deletion event raises likewise
    outcome = deletion.handle_event(event)
    if outcome is not None:
        metrics.add_metric(name="DeletionEventsHandled", unit="Count", value=1)
        logger.info("deletion event handled", extra={"file_id": str(event.file_id), "type": event.type.value,
                                                     "outcome": outcome.value})


lambda_handler = batch_entry_point(EventType.Kafka, record_handler)
