"""API Gateway REST (v1 payload) proxy events and a Lambda context, for calling handlers directly.

The event is the local gateway's own (``lambdarun.events.rest_event``): one builder for both.

The events have the shape API Gateway sends with a Cognito user-pool authorizer: the verified id
token's claims under ``requestContext.authorizer.claims``; public routes carry no authorizer.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from lambdarun.events import rest_event

API_STAGE = "v1"  # the deployed stage (infra/api.py); the local gateway's is "local"


@dataclass
class FakeContext:
    """The attributes Powertools reads from a Lambda context, and a clock that runs down from
    ``timeout_ms`` (what the handlers' time budgets read)."""

    function_name: str = "test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ""  # the function's ARN
    aws_request_id: str = ""
    timeout_ms: int = 60_000

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self.invoked_function_arn = self.invoked_function_arn or arn
        self._deadline = time.monotonic() + self.timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def event(method: str, path: str, *, resource: str | None = None, body: Any = None,
          query: dict[str, str] | None = None, claims: dict[str, str] | None = None,
          path_parameters: dict[str, str] | None = None, headers: dict[str, str] | None = None,
          raw_body: str | None = None) -> dict[str, Any]:
    """A REST proxy event from the local gateway's builder (``lambdarun.events.rest_event``), on the
    deployed stage ``v1``. ``body`` is JSON-encoded unless ``raw_body`` is given."""
    request_headers = {"Host": "api.local", "Content-Type": "application/json", "User-Agent": "pytest",
                       **(headers or {})}
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    return rest_event(method=method, path=path, query=urlencode(query or {}),
                      headers=list(request_headers.items()),
                      body=text.encode() if text is not None else b"", resource=resource or path,
                      path_parameters=path_parameters or {}, source_ip="127.0.0.1", claims=claims,
                      stage=API_STAGE)


def claims_for(user_id: str, email: str) -> dict[str, str]:
    """Claims as API Gateway passes them from a Cognito id token (all values are strings)."""
    return {"sub": user_id, "email": email, "token_use": "id", "email_verified": "true",
            "cognito:username": user_id, "iss": "https://cognito-idp.us-east-1.amazonaws.com/local"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error_code(self) -> str | None:
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


def call(handler: Any, ev: dict[str, Any]) -> Reply:
    """Invoke ``handler`` like Lambda does and decode its proxy response."""
    response = handler(ev, FakeContext())
    raw = response.get("body")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    headers = {k.lower(): ", ".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): v for k, v in (response.get("headers") or {}).items()})
    return Reply(status=int(response["statusCode"]), headers=headers, body=body)


def query_string(params: dict[str, str]) -> str:
    return urlencode(params)
