"""Indexer: Kafka (MSK) records from ``fileshare.events`` -> the file's search document re-synced.

For renames, retags, expiry changes, trash, restore, share and unshare (and deletion) it rewrites
the document from the file's current PostgreSQL row (``fileshare.search.index``): idempotent and
order-insensitive. Other event types are acknowledged. A record whose OpenSearch write fails is
reported in ``batchItemFailures`` and retried; the rest of the batch is committed.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord

from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.consumers import batch_entry_point
from fileshare.search import index as search_index


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    action = search_index.handle(record.decoded_value)
    metrics.add_metric(name="IndexerRecords", unit="Count", value=1)
    logger.debug("record handled", extra={"partition": record.partition, "offset": record.offset,
                                          "action": action.value})


lambda_handler = batch_entry_point(EventType.Kafka, record_handler)
