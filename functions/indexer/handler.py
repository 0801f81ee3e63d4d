"""Indexer: Kafka (MSK) records from ``fileshare.events`` -> the file's search document re-synced.

For renames, retags, expiry changes, trash, restore, share and unshare (and deletion) it rewrites
the document from the file's current PostgreSQL row (``fileshare.indexing``): idempotent and
order-insensitive. Other event types are acknowledged. A record whose OpenSearch write fails is
reported in ``batchItemFailures`` and retried; the rest of the batch is committed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import indexing
from fileshare.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.Kafka, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    action = indexing.handle(record.decoded_value)
    metrics.add_metric(name="IndexerRecords", unit="Count", value=1)
    logger.debug("record handled", extra={"partition": record.partition, "offset": record.offset,
                                          "action": action.value})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    return dict(response)
