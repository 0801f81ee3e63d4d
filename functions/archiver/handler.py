"""Archiver: consumes ``fileshare.events`` (MSK) and builds the ZIP an ``archive.requested`` asks for.

The job streams ZIP64 into an S3 multipart upload with bounded memory and reports progress on the
job's row (``fileshare.archives.worker``). A job that fails for a reason retrying cannot fix (a source
gone, an S3 error) is marked failed and its record acknowledged; an unexpected error gives the job
back and fails the record, so Lambda retries it (then the failure queue). Other event types are
acknowledged unread. Idempotent: a redelivered record of a finished job does nothing.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord

from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.archives import worker as archiving
from fileshare.consumers import batch_entry_point


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    outcome = archiving.handle(record.decoded_value)
    if outcome is not archiving.Outcome.IGNORED:
        metrics.add_metric(name="ArchiverJobs", unit="Count", value=1)
        logger.info("archive job handled", extra={"partition": record.partition, "offset": record.offset,
                                                  "outcome": outcome.value})


lambda_handler = batch_entry_point(EventType.Kafka, record_handler)
