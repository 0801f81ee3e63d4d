"""Requests answered in this process the way the local gateway (``lambdarun.gateway``) answers them:
the declared route matched by the gateway's own route table, a protected route's ``Authorization``
verified by its Cognito authorizer (the real pool's JWKS: 401 with the gateway's body otherwise), the
event built by its builder, and the function's handler called directly (``load_handler``: acting as
that function under the IAM gate). No HTTP and no worker process: what only the gateway itself
answers (unknown paths, other methods, CORS, the 401 over the wire) is tested over real HTTP."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

from infra.declaration import FUNCTIONS
from lambdarun.auth import CognitoAuthorizer, CognitoSettings, UnauthorizedError
from lambdarun.events import parse_proxy_response, rest_event
from lambdarun.gateway import gateway_error
from lambdarun.routes import RouteTable
from tests.support.apigw import FakeContext
from tests.support.pipeline import load_handler


@dataclass
class Response:
    """The parts of a ``requests.Response`` the tests read."""

    status_code: int
    headers: CaseInsensitiveDict[str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class InProcessGateway:
    """``request(method, path_and_query, body=, authorization=)`` as the gateway would answer it."""

    source_ip: str = "127.0.0.1"
    routes: RouteTable = field(default_factory=lambda: RouteTable(FUNCTIONS))
    authorizer: CognitoAuthorizer = field(
        default_factory=lambda: CognitoAuthorizer(CognitoSettings.from_env(os.environ)))

    def request(self, method: str, target: str, *, body: Any = None,
                authorization: str | None = None) -> Response:
        url = urlsplit(target)
        match = self.routes.match(method, url.path)
        assert match.route is not None and match.function is not None and match.resource is not None, (
            f"{method} {url.path} is not a declared route (the gateway's 404/405 are tested over HTTP)")
        claims = None
        if match.route.auth:
            try:
                claims = self.authorizer.claims(authorization)
            except UnauthorizedError:
                return Response(401, CaseInsensitiveDict({"Content-Type": "application/json"}),
                                gateway_error(401, "unauthorized", "Unauthorized"))
        headers = [("Host", "127.0.0.1"), ("User-Agent", "pytest"), ("Accept", "*/*"),
                   ("X-Forwarded-For", self.source_ip), ("X-Forwarded-Proto", "http")]
        if authorization is not None:
            headers.append(("Authorization", authorization))
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode()
            headers.append(("Content-Type", "application/json"))
        event = rest_event(method=method, path=url.path, query=url.query, headers=headers, body=raw,
                           resource=match.resource.path, path_parameters=match.path_parameters,
                           source_ip=self.source_ip, claims=claims, request_id=str(uuid.uuid4()))
        function = match.function.name
        result = load_handler(function).lambda_handler(event, FakeContext(function_name=function))
        proxied = parse_proxy_response(result)
        return Response(proxied.status, CaseInsensitiveDict(dict(proxied.headers)), proxied.body)
