"""Event shapes exactly as AWS delivers them: REST proxy (v1), SQS, MSK and scheduled events."""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from lambdarun.environment import ACCOUNT_ID

STAGE = "local"
API_ID = "local"

_TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml",
               "application/javascript", "+json", "+xml")


def rest_event(
    *,
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    resource: str,
    path_parameters: Mapping[str, str],
    source_ip: str,
    claims: Mapping[str, str] | None,
    request_id: str | None = None,
    stage: str = STAGE,
) -> dict[str, Any]:
    """An API Gateway REST API Lambda proxy event (payload format 1.0): the one builder, used by the
    local gateway and by the tests that call handlers directly (``tests/support/apigw.py``);
    ``tests/unit/test_event_models.py`` validates it against Powertools' parser models."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    query_pairs = parse_qsl(query, keep_blank_values=True)
    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for name, value in query_pairs:
        query_single[name] = value
        query_multi.setdefault(name, []).append(value)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    body_text, is_b64 = _encode_body(body, content_type)
    now = datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "resourceId": resource,
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "stage": stage,
        "requestId": request_id,
        "extendedRequestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "protocol": "HTTP/1.1",
        "domainName": single.get("Host") or single.get("host") or "localhost",
        "identity": {
            "sourceIp": source_ip,
            "userAgent": next((v for k, v in headers if k.lower() == "user-agent"), None),
            "accountId": None,
            "caller": None,
            "user": None,
            "userArn": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "accessKey": None,
        },
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body_text,
        "isBase64Encoded": is_b64,
    }


def _encode_body(body: bytes, content_type: str) -> tuple[str | None, bool]:
    if not body:
        return None, False
    ctype = content_type.split(";", 1)[0].strip().lower()
    if not ctype or any(t in ctype for t in _TEXT_TYPES):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


@dataclass
class ProxyResponse:
    """A Lambda proxy integration result, validated the way API Gateway validates it."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class MalformedResponseError(ValueError):
    """The function returned something API Gateway would answer with a 502."""


def parse_proxy_response(result: Any) -> ProxyResponse:
    if not isinstance(result, dict):
        raise MalformedResponseError(f"result is {type(result).__name__}, not an object")
    status = result.get("statusCode", 200)
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponseError(f"invalid statusCode {status!r}")
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResponseError("headers must be objects")
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), str(value)))
    multi_lower = {str(n).lower() for n in multi}
    for name, value in single.items():
        if str(name).lower() not in multi_lower:
            headers.append((str(name), str(value)))
    body = result.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise MalformedResponseError("body must be a string")
    elif result.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedResponseError("body is not valid base64") from exc
    else:
        raw = body.encode("utf-8")
    return ProxyResponse(status, headers, raw)


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's Cognito authorizer hands them over: every value a string."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int | float):
            out[name] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = str(value)
    return out


# --- SQS -------------------------------------------------------------------------------------------


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping delivers for messages from ReceiveMessage."""
    records = []
    for message in messages:
        attributes = {k: str(v) for k, v in (message.get("Attributes") or {}).items()}
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message.get("Body", ""),
                "attributes": attributes,
                "messageAttributes": {
                    name: _sqs_message_attribute(attr)
                    for name, attr in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def _sqs_message_attribute(attr: Mapping[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": attr.get("DataType", "String"),
    }
    if "StringValue" in attr:
        shaped["stringValue"] = attr["StringValue"]
    if "BinaryValue" in attr:
        shaped["binaryValue"] = base64.b64encode(attr["BinaryValue"]).decode("ascii")
    return shaped


# --- MSK -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KafkaRecord:
    """The parts of a consumed Kafka record an MSK event carries."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int  # 0 create time, 1 log append time
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = ()


def msk_event(records: Iterable[KafkaRecord], *, cluster_arn: str, bootstrap: str) -> dict[str, Any]:
    """The event Lambda's MSK event source mapping delivers: records grouped by ``topic-partition``."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        shaped: dict[str, Any] = {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "timestamp": record.timestamp,
            "timestampType": "LOG_APPEND_TIME" if record.timestamp_type == 1 else "CREATE_TIME",
            "value": base64.b64encode(record.value).decode("ascii") if record.value is not None else None,
            "headers": [{name: list(value or b"")} for name, value in record.headers],
        }
        if record.key is not None:
            shaped["key"] = base64.b64encode(record.key).decode("ascii")
        grouped.setdefault(f"{record.topic}-{record.partition}", []).append(shaped)
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": cluster_arn,
        "bootstrapServers": bootstrap,
        "records": grouped,
    }


# --- schedules -------------------------------------------------------------------------------------


def scheduled_event(rule_arn: str, region: str) -> dict[str, Any]:
    """An EventBridge ``Scheduled Event`` as a rate() rule delivers it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
