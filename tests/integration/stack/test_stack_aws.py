"""The local AWS side (real LocalStack): presigned uploads, S3 -> SQS notifications, CORS, and what
provision() created.

Reads AWS_ENDPOINT_URL, UPLOAD_BUCKET, UPLOAD_QUEUE_URL, UPLOAD_DLQ_URL and EMAIL_SENDER from the
environment (.local/test.env).

The notification tests wait for records, so they use a bucket and queue of their own, wired by the
very function provision() uses for the real ones (``wire_upload_bucket``): a running `make dev`
poller consumes the real upload queue and would take their records. A separate test proves the real
bucket is wired exactly that way to the real queue.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from stackctl.services.localstack_aws import same_notifications, upload_notification, wire_upload_bucket

WEB_ORIGIN = os.environ.get("WEB_ORIGIN", "http://localhost:8081")  # the test namespace's (test.env)
MAX_BYTES = 1024
TEST_BUCKET = "fileshare-stack-test"
TEST_QUEUE = "fileshare-stack-test"
WAIT_FOR_MESSAGES_S = 30.0  # how long to keep polling for an expected record (not an assertion)


@pytest.fixture(scope="module")
def aws() -> dict[str, str]:
    names = ("AWS_ENDPOINT_URL", "UPLOAD_BUCKET", "UPLOAD_QUEUE_URL")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.fail(f"the local stack is not up (missing {missing} in .local/test.env): run `make up`")
    return {name: os.environ[name] for name in names}


def _client(service: str, endpoint: str) -> Any:
    return boto3.session.Session().client(
        service, endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="module")
def s3(aws: dict[str, str]) -> Any:
    return _client("s3", aws["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def sqs(aws: dict[str, str]) -> Any:
    return _client("sqs", aws["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def wired(s3: Any, sqs: Any) -> dict[str, str]:
    """A bucket and upload queue of the tests' own, wired like the real ones."""
    wiring = wire_upload_bucket(s3, sqs, TEST_BUCKET, queue_name=TEST_QUEUE, dlq_name=f"{TEST_QUEUE}-dlq")
    return {**wiring, "bucket": TEST_BUCKET}


@pytest.fixture
def keys(s3: Any) -> Iterator[list[tuple[str, str]]]:
    """(bucket, key) pairs a test writes; removed afterwards."""
    written: list[tuple[str, str]] = []
    yield written
    for bucket, key in written:
        s3.delete_object(Bucket=bucket, Key=key)


def presigned_post(s3: Any, bucket: str, key: str, content_type: str) -> dict[str, Any]:
    """What POST /files hands the browser: exact key, size range and content type pinned."""
    post: dict[str, Any] = s3.generate_presigned_post(
        Bucket=bucket, Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[["content-length-range", 1, MAX_BYTES], {"Content-Type": content_type}],
        ExpiresIn=300,
    )
    assert post["fields"]["key"] == key
    return post


def upload(post: dict[str, Any], body: bytes, content_type: str) -> requests.Response:
    return requests.post(post["url"], data=post["fields"],
                         files={"file": ("upload.bin", body, content_type)}, timeout=30)


def collect(sqs: Any, queue_url: str, *, wanted: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Records per object key from the tests' own queue, consuming everything received, until every
    key in ``wanted`` has a record and the queue has nothing more to give (or the wait ends).
    ``s3:TestEvent`` messages (sent when a notification configuration is put) are dropped."""
    found: dict[str, list[dict[str, Any]]] = {}
    drained = False
    deadline = time.monotonic() + WAIT_FOR_MESSAGES_S
    while time.monotonic() < deadline and not (drained and wanted <= found.keys()):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        drained = not messages
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            body = json.loads(message["Body"])
            for record in body.get("Records", []):
                found.setdefault(record["s3"]["object"]["key"], []).append(record)
    return found


def new_key(prefix: str, name: str) -> str:
    return f"{prefix}test-{uuid.uuid4()}/{uuid.uuid4()}/{name}"


def test_presigned_post_emits_object_created_on_the_upload_queue(s3, sqs, wired, keys):
    # Given a presigned POST for one exact key under the uploads prefix
    bucket, key = wired["bucket"], new_key("u/", "report.txt")
    body = b"hello fileshare\n" * 8
    post = presigned_post(s3, bucket, key, "text/plain")
    assert post["url"].rstrip("/").endswith(f"/{bucket}")  # path-style addressing
    keys.append((bucket, key))

    # When the browser posts the bytes straight to S3
    response = upload(post, body, "text/plain")

    # Then S3 accepts and stores them as declared, and a record for that key reaches the queue
    assert response.status_code == 204, response.text
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(body)
    assert head["ContentType"] == "text/plain"
    found = collect(sqs, wired["queue_url"], wanted={key})
    assert key in found, "no ObjectCreated record for the uploaded key reached the upload queue"
    record = found[key][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["size"] == len(body)


def test_post_over_the_size_range_is_refused_and_leaves_nothing(s3, sqs, wired, keys):
    # Given a presigned POST allowing at most MAX_BYTES
    bucket, key = wired["bucket"], new_key("u/", "big.bin")
    post = presigned_post(s3, bucket, key, "application/octet-stream")
    keys.append((bucket, key))

    # When more bytes than that are posted
    response = upload(post, b"x" * (MAX_BYTES * 2), "application/octet-stream")

    # Then S3 refuses it and no object exists
    assert response.status_code == 400, response.text
    assert "EntityTooLarge" in response.text
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=bucket, Key=key)
    assert missing.value.response["Error"]["Code"] in ("404", "NoSuchKey")


def test_post_with_another_key_than_signed_is_refused(s3, wired, keys):
    # Given a presigned POST for one key
    bucket, key, other = wired["bucket"], new_key("u/", "a.txt"), new_key("u/", "b.txt")
    post = presigned_post(s3, bucket, key, "text/plain")
    keys.extend([(bucket, key), (bucket, other)])

    # When the client swaps in another key
    post["fields"] = {**post["fields"], "key": other}
    response = upload(post, b"sneaky", "text/plain")

    # Then S3 refuses it and writes nothing under either key
    assert response.status_code == 403, response.text
    for written in (key, other):
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key=written)


def test_derived_objects_do_not_retrigger_processing(s3, sqs, wired, keys):
    # Given a derived object (thumbnail) written under t/, then a sentinel original under u/
    bucket = wired["bucket"]
    derived, sentinel = new_key("t/", "thumb.jpg"), new_key("u/", "sentinel.txt")
    keys.extend([(bucket, derived), (bucket, sentinel)])
    s3.put_object(Bucket=bucket, Key=derived, Body=b"\xff\xd8thumb", ContentType="image/jpeg")
    s3.put_object(Bucket=bucket, Key=sentinel, Body=b"after", ContentType="text/plain")

    # When the queue has delivered the sentinel's record (so notifications are flowing) and drained
    found = collect(sqs, wired["queue_url"], wanted={sentinel})

    # Then the derived object produced no record at all
    assert sentinel in found, "the sentinel's record never arrived; notifications are not flowing"
    assert derived not in found


def test_real_bucket_notifies_the_real_upload_queue_for_originals_only(s3, sqs, aws):
    queue_arn = sqs.get_queue_attributes(QueueUrl=aws["UPLOAD_QUEUE_URL"],
                                         AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    current = s3.get_bucket_notification_configuration(Bucket=aws["UPLOAD_BUCKET"])
    assert same_notifications(current.get("QueueConfigurations", []), upload_notification(queue_arn))
    assert not current.get("TopicConfigurations") and not current.get("LambdaFunctionConfigurations")


def test_upload_queue_redrives_to_its_dead_letter_queue(sqs, aws):
    dlq_url = os.environ.get("UPLOAD_DLQ_URL")
    assert dlq_url, "UPLOAD_DLQ_URL is not set"
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    queue_url = aws["UPLOAD_QUEUE_URL"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 3
    assert int(attributes["VisibilityTimeout"]) >= 60
    statement = json.loads(attributes["Policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:s3:::{aws['UPLOAD_BUCKET']}"


def test_cors_preflight_from_the_web_origin_is_answered(aws):
    url = f"{aws['AWS_ENDPOINT_URL']}/{aws['UPLOAD_BUCKET']}"
    # When the web page's origin asks to POST a form upload
    preflight = requests.options(url, headers={
        "Origin": WEB_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-date",
    }, timeout=10)
    # Then S3 allows exactly that origin and method
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers.get("Access-Control-Allow-Origin") == WEB_ORIGIN
    assert "POST" in preflight.headers.get("Access-Control-Allow-Methods", "")
    assert "content-type" in preflight.headers.get("Access-Control-Allow-Headers", "").lower()


def test_cors_exposes_etag_to_the_web_origin(s3, aws, keys):
    # Given an object in the real bucket (under t/, so no record lands on the real upload queue),
    # when the web origin reads it (multipart uploads need each part's ETag)
    bucket, key = aws["UPLOAD_BUCKET"], new_key("t/", "etag.txt")
    keys.append((bucket, key))
    s3.put_object(Bucket=bucket, Key=key, Body=b"etag", ContentType="text/plain")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60)
    response = requests.get(url, headers={"Origin": WEB_ORIGIN}, timeout=10)
    # Then the browser is allowed to see the ETag header
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == WEB_ORIGIN
    assert "etag" in response.headers.get("Access-Control-Expose-Headers", "").lower()
    assert response.headers.get("ETag")


def test_cors_preflight_from_a_foreign_origin_is_refused(aws):
    url = f"{aws['AWS_ENDPOINT_URL']}/{aws['UPLOAD_BUCKET']}"
    preflight = requests.options(url, headers={
        "Origin": "http://evil.example",
        "Access-Control-Request-Method": "POST",
    }, timeout=10)
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_email_sender_is_provisioned(aws):
    endpoint = aws["AWS_ENDPOINT_URL"]
    sender = os.environ.get("EMAIL_SENDER", "no-reply@fileshare.local")
    assert sender in _client("ses", endpoint).list_identities(IdentityType="EmailAddress")["Identities"]
