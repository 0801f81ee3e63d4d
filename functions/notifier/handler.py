"""Notifier: Kafka (MSK) records from ``fileshare.events`` -> in-app inbox rows and SES emails.

Each record is handled on its own (Powertools BatchProcessor): a record that raises is reported in
``batchItemFailures`` (by partition and offset) and only it (and what follows it in its partition)
is redelivered; records of other partitions are committed. Event types that are not notifications
are acknowledged. Delivery is idempotent per event and recipient (``fileshare.notifications.notices``).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord

from fileshare.adapters import telemetry
from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.consumers import batch_entry_point
from fileshare.notifications import notices as notifications


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    outcome = notifications.handle(record.decoded_value)
    if outcome is notifications.Outcome.DELIVERED:  # the event's occurred_at -> the inbox commit
        telemetry.latency(telemetry.NOTIFICATION_DELIVERY, telemetry.epoch(_occurred_at(record)))
    metrics.add_metric(name="NotifierRecords", unit="Count", value=1)
    logger.debug("record handled", extra={"partition": record.partition, "offset": record.offset,
                                          "outcome": outcome.value})


def _occurred_at(record: KafkaEventRecord) -> str | None:
    value = record.json_value  # handle() accepted it, so it is a JSON object
    return value.get("occurred_at") if isinstance(value, dict) else None


lambda_handler = batch_entry_point(EventType.Kafka, record_handler)
