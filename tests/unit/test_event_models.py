"""The local runtime's events are the ones AWS sends: each builder's output parses with the models
Powertools' parser keeps for those events (``aws_lambda_powertools.utilities.parser.models``), and the
parsed fields are the ones built. The REST builder is the one both the gateway and the tests use."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    EventBridgeModel,
    KafkaMskEventModel,
    SqsModel,
)

from lambdarun.events import KafkaRecord, msk_event, rest_event, scheduled_event, sqs_event
from tests.support.apigw import claims_for, event


def test_the_gateway_s_rest_event_is_an_api_gateway_proxy_event() -> None:
    built = rest_event(method="POST", path="/files/f1", query="a=1&a=2", body=b'{"x": 1}',
                       headers=[("Content-Type", "application/json"), ("User-Agent", "pytest")],
                       resource="/files/{file_id}", path_parameters={"file_id": "f1"},
                       source_ip="10.0.0.1", claims={"sub": "u1"}, request_id="r-1")
    parsed = APIGatewayProxyEventModel.model_validate(built)
    assert parsed.httpMethod == "POST" and parsed.path == "/files/f1"
    assert parsed.resource == "/files/{file_id}" and parsed.pathParameters == {"file_id": "f1"}
    assert parsed.multiValueQueryStringParameters == {"a": ["1", "2"]}
    assert parsed.requestContext.requestId == "r-1" and parsed.requestContext.stage == "local"
    assert str(parsed.requestContext.identity.sourceIp) == "10.0.0.1/32"
    assert parsed.requestContext.authorizer is not None
    assert parsed.requestContext.authorizer.claims == {"sub": "u1"}
    assert json.loads(str(parsed.body)) == {"x": 1} and parsed.isBase64Encoded is False


def test_the_tests_event_is_the_same_builder_s_on_the_deployed_stage() -> None:
    claims = claims_for("u1", "a@example.com")
    built = event("GET", "/files", query={"limit": "5"}, claims=claims)
    parsed = APIGatewayProxyEventModel.model_validate(built)
    assert parsed.requestContext.stage == "v1" and parsed.requestContext.path == "/v1/files"
    assert parsed.queryStringParameters == {"limit": "5"}
    assert parsed.requestContext.authorizer is not None
    assert parsed.requestContext.authorizer.claims == claims
    anonymous = APIGatewayProxyEventModel.model_validate(event("POST", "/auth/login", body={"a": 1}))
    assert anonymous.requestContext.authorizer is None and anonymous.body == '{"a": 1}'
    binary = rest_event(method="PUT", path="/x", query="", body=b"\xff\x00",
                        headers=[("Content-Type", "application/octet-stream")], resource="/x",
                        path_parameters={}, source_ip="127.0.0.1", claims=None)
    assert APIGatewayProxyEventModel.model_validate(binary).isBase64Encoded is True


def test_the_sqs_poller_s_event_is_an_sqs_event() -> None:
    message = {"MessageId": "m-1", "ReceiptHandle": "rh", "Body": '{"Records": []}', "MD5OfBody": "d41d",
               "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000",
                              "SenderId": "AIDA", "ApproximateFirstReceiveTimestamp": "1700000000001"},
               "MessageAttributes": {"source": {"DataType": "String", "StringValue": "lambdarun"}}}
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    parsed = SqsModel.model_validate(sqs_event([message], queue, "us-east-1"))
    (record,) = parsed.Records
    assert record.messageId == "m-1" and record.body == '{"Records": []}'
    assert record.attributes.ApproximateReceiveCount == "2"
    assert record.messageAttributes["source"].stringValue == "lambdarun"
    assert record.eventSource == "aws:sqs" and record.awsRegion == "us-east-1"


def test_the_kafka_poller_s_event_is_an_msk_event() -> None:
    records = [KafkaRecord("fileshare.events", 1, 7, 1700000000000, 0, b"file-1", b'{"type": "x"}',
                           (("trace", b"ab"),)),
               KafkaRecord("fileshare.events", 1, 8, 1700000000001, 1, None, b"{}")]
    built = msk_event(records, cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/c/1",
                      bootstrap="127.0.0.1:9092")
    parsed = KafkaMskEventModel.model_validate(built)
    assert parsed.eventSource == "aws:kafka" and parsed.bootstrapServers == ["127.0.0.1:9092"]
    first, second = parsed.records["fileshare.events-1"]
    assert (first.topic, first.partition, first.offset) == ("fileshare.events", 1, 7)
    assert first.key == b"file-1" and first.value == '{"type": "x"}'  # the models decode base64
    assert first.headers == [{"trace": b"ab"}]
    assert first.timestampType == "CREATE_TIME" and second.timestampType == "LOG_APPEND_TIME"
    assert second.key is None and second.value == "{}"


def test_a_schedule_s_event_is_an_eventbridge_scheduled_event() -> None:
    rule = "arn:aws:events:us-east-1:000000000000:rule/fileshare-sweeper-schedule"
    parsed = EventBridgeModel.model_validate(scheduled_event(rule, "us-east-1"))
    assert parsed.detail_type == "Scheduled Event" and parsed.source == "aws.events"
    assert parsed.resources == [rule] and parsed.detail == {} and parsed.region == "us-east-1"
