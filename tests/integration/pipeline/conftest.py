"""Fixtures of the processing-pipeline tests: an upload's way through the processor, Kafka and the
consumers, and what it emits on the way (trace, SLO metrics).

The pipeline tests use their own bucket and, for real S3 notification messages, their own queue
(see ``tests.support.pipeline``): a running ``make dev`` (whose poller consumes the real upload
queue) cannot take their messages, and their objects never reach the real pipeline. The processor
only accepts objects of ``settings().upload_bucket``, so UPLOAD_BUCKET points at the test bucket
for the module's duration and is restored afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from tests.support import rows
from tests.support.pipeline import _LOCAL_DEFAULTS, TEST_BUCKET, TEST_QUEUE, Pipeline, reset_caches


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    for name, value in _LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    config = Config(region_name=os.environ["AWS_REGION"], s3={"addressing_style": "path"})
    s3 = boto3.client("s3", endpoint_url=endpoint, config=config)
    sqs = boto3.client("sqs", endpoint_url=endpoint, config=config)
    try:
        s3.head_bucket(Bucket=TEST_BUCKET)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=TEST_BUCKET)
    queue_url = sqs.create_queue(QueueName=TEST_QUEUE, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=TEST_BUCKET, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "pipeline-test", "QueueArn": queue_arn,
                                 "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "u/"}]}}}]})
    sqs.purge_queue(QueueUrl=queue_url)
    db = rows.connect(os.environ["DATABASE_URL"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UPLOAD_BUCKET", TEST_BUCKET)
        reset_caches()
        yield Pipeline(TEST_BUCKET, queue_url, s3, sqs, db, os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                       os.environ.get("EVENTS_TOPIC", "fileshare.events"))
    reset_caches()
    db.close()


@pytest.fixture
def owner(pipeline: Pipeline) -> str:
    return rows.create_user(pipeline.db)
