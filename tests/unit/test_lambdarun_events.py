"""Events are shaped as AWS shapes them; proxy responses are validated as API Gateway does."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from infra.declaration import Function, Uses
from lambdarun.environment import function_env, load_env_file
from lambdarun.events import (
    KafkaRecord,
    MalformedResponseError,
    msk_event,
    parse_proxy_response,
    rest_event,
    scheduled_event,
    sqs_event,
    stringify_claims,
)


def _event(**overrides: object) -> dict:
    args: dict = {
        "method": "POST", "path": "/files/f1", "query": "a=1&a=2&b=", "body": b'{"x": 1}',
        "headers": [("Content-Type", "application/json"), ("X-Multi", "1"), ("X-Multi", "2"),
                    ("User-Agent", "pytest")],
        "resource": "/files/{file_id}", "path_parameters": {"file_id": "f1"}, "source_ip": "10.0.0.1",
        "claims": {"sub": "u1", "email": "a@example.com"},
    }
    args.update(overrides)
    return rest_event(**args)


def test_rest_event_has_every_v1_field() -> None:
    event = _event(request_id="req-1")
    assert set(event) == {"resource", "path", "httpMethod", "headers", "multiValueHeaders",
                          "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
                          "stageVariables", "requestContext", "body", "isBase64Encoded"}
    assert event["resource"] == "/files/{file_id}" and event["path"] == "/files/f1"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["pathParameters"] == {"file_id": "f1"}
    assert event["body"] == '{"x": 1}' and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["resourcePath"] == "/files/{file_id}" and ctx["httpMethod"] == "POST"
    assert ctx["path"] == "/local/files/f1" and ctx["stage"] == "local" and ctx["requestId"] == "req-1"
    assert ctx["identity"]["sourceIp"] == "10.0.0.1" and ctx["identity"]["userAgent"] == "pytest"
    assert ctx["authorizer"] == {"claims": {"sub": "u1", "email": "a@example.com"}}


def test_rest_event_nulls_when_absent() -> None:
    event = _event(method="GET", query="", body=b"", path_parameters={}, claims=None, headers=[])
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None and event["body"] is None and event["headers"] is None
    assert "authorizer" not in event["requestContext"]


def test_binary_body_is_base64() -> None:
    raw = bytes(range(256))
    event = _event(body=raw, headers=[("Content-Type", "application/octet-stream")])
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == raw
    invalid_utf8 = _event(body=b"\xff\xfe", headers=[("Content-Type", "text/plain")])
    assert invalid_utf8["isBase64Encoded"] is True


def test_proxy_response_headers_and_body() -> None:
    response = parse_proxy_response({
        "statusCode": 201, "headers": {"X-A": "1", "Set-Cookie": "ignored"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    })
    assert response.status == 201 and response.body == b"\x00\x01"
    assert ("X-A", "1") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert parse_proxy_response({"statusCode": 204}).body == b""


@pytest.mark.parametrize("result", [None, "text", {"statusCode": "abc"}, {"statusCode": 99},
                                    {"statusCode": 200, "body": {"not": "a string"}},
                                    {"statusCode": 200, "headers": ["x"]},
                                    {"statusCode": 200, "body": "!!", "isBase64Encoded": True}])
def test_malformed_proxy_response(result: object) -> None:
    with pytest.raises(MalformedResponseError):
        parse_proxy_response(result)


def test_claims_become_strings_like_api_gateway() -> None:
    claims = stringify_claims({"sub": "u", "email_verified": True, "auth_time": 1700000000,
                               "exp": 1700003600, "cognito:groups": ["a", "b"]})
    assert claims == {"sub": "u", "email_verified": "true", "auth_time": "1700000000",
                      "exp": "Tue Nov 14 23:13:20 UTC 2023", "cognito:groups": "a,b"}


def test_sqs_event_shape() -> None:
    message = {"MessageId": "m1", "ReceiptHandle": "rh", "Body": "hello", "MD5OfBody": "md5",
               "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
               "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "k"},
                                     "blob": {"DataType": "Binary", "BinaryValue": b"\x01"}}}
    record = sqs_event([message], "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1")["Records"][0]
    assert record["messageId"] == "m1" and record["receiptHandle"] == "rh" and record["body"] == "hello"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["kind"] == {"stringValue": "k", "stringListValues": [],
                                                   "binaryListValues": [], "dataType": "String"}
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AQ=="
    assert record["md5OfBody"] == "md5" and record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":q") and record["awsRegion"] == "us-east-1"


def test_msk_event_shape() -> None:
    records = [KafkaRecord("t", 0, 5, 1700000000000, 0, b"k1", b"v1", (("h", b"AB"),)),
               KafkaRecord("t", 1, 9, 1700000000001, 1, None, b"v2")]
    event = msk_event(records, cluster_arn="arn:aws:kafka:x", bootstrap="b:9092")
    assert event["eventSource"] == "aws:kafka" and event["eventSourceArn"] == "arn:aws:kafka:x"
    assert event["bootstrapServers"] == "b:9092"
    assert set(event["records"]) == {"t-0", "t-1"}
    first = event["records"]["t-0"][0]
    assert first == {"topic": "t", "partition": 0, "offset": 5, "timestamp": 1700000000000,
                     "timestampType": "CREATE_TIME", "key": "azE=", "value": "djE=",
                     "headers": [{"h": [65, 66]}]}
    second = event["records"]["t-1"][0]
    assert "key" not in second and second["timestampType"] == "LOG_APPEND_TIME"


def test_scheduled_event_shape() -> None:
    event = scheduled_event("arn:aws:events:us-east-1:000000000000:rule/r", "us-east-1")
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/r"]
    assert event["time"].endswith("Z") and event["detail"] == {}


def test_function_env_hides_undeclared_resources(tmp_path: Path) -> None:
    fn = Function(name="f", description="t", memory_mb=512, uses=frozenset({Uses.CACHE}),
                  environment=(("EXTRA", "1"),))
    base = {"REDIS_URL": "redis://x", "DATABASE_URL": "postgresql://x", "AWS_REGION": "eu-west-1",
            "FILESHARE_LOCAL": "1", "PYTHONPATH": "/elsewhere"}
    env = function_env(fn, base, tmp_path)
    assert env["REDIS_URL"] == "redis://x" and "DATABASE_URL" not in env
    assert env["EXTRA"] == "1" and env["FILESHARE_LOCAL"] == "1" and "PYTHONPATH" not in env
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "f" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["POWERTOOLS_SERVICE_NAME"] == "f" and env["LAMBDA_TASK_ROOT"] == str(tmp_path)


def test_load_env_file(tmp_path: Path) -> None:
    path = tmp_path / "stack.env"
    path.write_text("# comment\n\nA=1\nexport B='two words'\nC=\"x=y\"\nnot a pair\n")
    assert load_env_file(path) == {"A": "1", "B": "two words", "C": "x=y"}
    assert load_env_file(tmp_path / "missing.env") == {}
