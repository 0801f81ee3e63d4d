"""Notifier: Kafka (MSK) records from ``fileshare.events`` -> in-app inbox rows and SES emails.

Each record is handled on its own (Powertools BatchProcessor): a record that raises is reported in
``batchItemFailures`` (by partition and offset) and only it (and what follows it in its partition)
is redelivered; records of other partitions are committed. Event types that are not notifications
are acknowledged. Delivery is idempotent per event and recipient (``fileshare.notifications``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import notifications
from fileshare.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.Kafka, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    outcome = notifications.handle(record.decoded_value)
    metrics.add_metric(name="NotifierRecords", unit="Count", value=1)
    logger.debug("record handled", extra={"partition": record.partition, "offset": record.offset,
                                          "outcome": outcome.value})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    return dict(response)
