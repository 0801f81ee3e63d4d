"""The local API gateway over real worker processes, a real JWKS and real HTTP.

Given a gateway on an ephemeral port in front of the test-only functions, when requests arrive,
then they reach the handler as REST proxy events, protected routes need a valid Cognito ID token
(401 otherwise), failures become API Gateway's 502, CORS answers the web origin, and the web page's
static files are served where no route is declared.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lambdarun.auth import CognitoAuthorizer, CognitoSettings
from lambdarun.gateway import Gateway
from lambdarun.runtime import Runtime
from tests.fixtures.functions.lambdarun_fixtures import FIXTURE_FUNCTIONS, FIXTURES_DIR, LocalIssuer

ORIGIN = "http://localhost:8080"


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer()
    yield local
    local.close()


@pytest.fixture(scope="module")
def web_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    web = tmp_path_factory.mktemp("web")
    (web / "index.html").write_text("<h1>static index</h1>")
    (web / "app.js").write_text("console.log('hi')")
    (web / "echo").mkdir()
    (web / "echo" / "special").write_text("shadowed by the route")
    return web


@pytest.fixture(scope="module")
def gateway(issuer: LocalIssuer, web_dir: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    runtime = Runtime(FIXTURE_FUNCTIONS, base_env={}, code_root=FIXTURES_DIR,
                      log_dir=tmp_path_factory.mktemp("logs"))
    authorizer = CognitoAuthorizer(CognitoSettings(issuer.jwks_url, LocalIssuer.ISSUER,
                                                   LocalIssuer.CLIENT_ID))
    gw = Gateway(runtime, authorizer=authorizer, port=0, web_dir=web_dir,
                 origins=(ORIGIN, "http://127.0.0.1:8080"))
    gw.start()
    yield gw
    gw.close()
    runtime.close()


def _echo(response: requests.Response) -> dict:
    assert response.status_code == 201, response.text
    return json.loads(response.text)["event"]


def test_request_becomes_a_rest_proxy_event(gateway: Gateway) -> None:
    response = requests.post(f"{gateway.url}/echo/item%201?q=a&q=b&x=1", data=b'{"hello": "world"}',
                             headers={"Content-Type": "application/json", "X-Custom": "v"}, timeout=10)
    event = _echo(response)
    assert event["resource"] == "/echo/{item_id}" and event["path"] == "/echo/item%201"
    assert event["httpMethod"] == "POST" and event["pathParameters"] == {"item_id": "item 1"}
    assert event["queryStringParameters"] == {"q": "b", "x": "1"}
    assert event["multiValueQueryStringParameters"]["q"] == ["a", "b"]
    assert event["headers"]["X-Custom"] == "v" and event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["resourcePath"] == "/echo/{item_id}" and ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["requestId"] == response.headers["X-Amzn-RequestId"]
    assert "authorizer" not in ctx
    # the proxy response's headers, multi-value ones included, come back
    assert response.headers["X-Echo"] == "single"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_binary_body_arrives_base64(gateway: Gateway) -> None:
    payload = bytes(range(256))
    event = _echo(requests.post(f"{gateway.url}/echo/b", data=payload,
                                headers={"Content-Type": "application/octet-stream"}, timeout=10))
    import base64

    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == payload


def test_protected_route_needs_a_valid_id_token(gateway: Gateway, issuer: LocalIssuer) -> None:
    url = f"{gateway.url}/private/p1"
    for headers in ({}, {"Authorization": "garbage"}, {"Authorization": issuer.token()[:-4] + "AAAA"},
                    {"Authorization": issuer.token(token_use="access")}):
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["message"] == "Unauthorized"
        assert response.json()["error"]["code"] == "unauthorized"
    token = issuer.token(sub="user-7", email="bob@example.com")
    claims = _echo(requests.get(url, headers={"Authorization": token}, timeout=10))["requestContext"][
        "authorizer"]["claims"]
    assert claims["sub"] == "user-7" and claims["email"] == "bob@example.com"
    assert claims["email_verified"] == "true" and isinstance(claims["exp"], str)


def test_unknown_route_and_wrong_method(gateway: Gateway) -> None:
    missing = requests.get(f"{gateway.url}/nope/nothing", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = requests.delete(f"{gateway.url}/echo/x", timeout=10)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET,POST"
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    for method in ("TRACE", "QUERY", "PROPFIND"):  # http.server alone would answer 501
        odd = requests.request(method, f"{gateway.url}/echo/x", timeout=10)
        assert odd.status_code == 405 and odd.headers["Allow"] == "GET,POST", method
        assert odd.json()["error"]["code"] == "method_not_allowed"


def test_bad_content_length_is_a_400_not_a_hung_thread(gateway: Gateway) -> None:
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(gateway.url)
    for length in ("-5", "abc"):
        with socket.create_connection((address.hostname, address.port), timeout=5) as conn:
            conn.sendall(f"POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
            status_line = conn.recv(4096).split(b"\r\n", 1)[0]
        assert status_line == b"HTTP/1.1 400 Bad Request", length


def test_link_tokens_are_redacted_from_gateway_logs() -> None:
    from lambdarun.gateway import redact

    assert redact('"GET /s/AbC-12_x?dl=1 HTTP/1.1"') == '"GET /s/<redacted>?dl=1 HTTP/1.1"'
    assert redact("GET /files/123") == "GET /files/123"


def test_function_failures_are_502(gateway: Gateway) -> None:
    for path in ("/crash?action=raise", "/crash?action=exit", "/broken", "/echo/x?malformed=1"):
        response = requests.get(gateway.url + path, timeout=10)
        assert response.status_code == 502, path
        assert response.json()["message"] == "Internal server error"
    assert requests.get(f"{gateway.url}/crash", timeout=10).status_code == 200  # fresh worker


def test_cors_for_the_web_origin(gateway: Gateway) -> None:
    preflight = requests.options(f"{gateway.url}/private/p1", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"}, timeout=10)
    assert preflight.status_code == 204  # no token needed for a preflight
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    simple = requests.get(f"{gateway.url}/echo/c", headers={"Origin": "http://127.0.0.1:8080"}, timeout=10)
    assert simple.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    denied = requests.get(f"{gateway.url}/private/p1", headers={"Origin": ORIGIN}, timeout=10)
    assert denied.status_code == 401 and denied.headers["Access-Control-Allow-Origin"] == ORIGIN
    evil = requests.options(f"{gateway.url}/echo/c", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in evil.headers
    evil_get = requests.get(f"{gateway.url}/echo/c", headers={"Origin": "http://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in evil_get.headers


def test_static_web_page_and_route_precedence(gateway: Gateway) -> None:
    index = requests.get(f"{gateway.url}/", timeout=10)
    assert index.status_code == 200 and "static index" in index.text
    assert index.headers["Content-Type"].startswith("text/html")
    script = requests.get(f"{gateway.url}/app.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    # a declared route wins over a static file of the same path
    assert _echo(requests.get(f"{gateway.url}/echo/special", timeout=10))["resource"] == "/echo/special"
    assert _echo(requests.get(f"{gateway.url}/index.html", timeout=10))["resource"] == "/index.html"
    assert requests.get(f"{gateway.url}/../../etc/passwd", timeout=10).status_code == 404
    assert requests.get(f"{gateway.url}/%2e%2e/%2e%2e/etc/passwd", timeout=10).status_code == 404


def test_keep_alive_and_stats(gateway: Gateway) -> None:
    with requests.Session() as session:
        for _ in range(5):
            assert session.get(f"{gateway.url}/echo/k", timeout=10).status_code == 201
        stats = session.get(f"{gateway.url}/_local/stats", timeout=10).json()
    echo = stats["rt_echo"]
    assert echo["cold_start_count"] >= 1 and echo["init_duration_ms"]["first"] > 0
    assert echo["warm_duration_ms"]["count"] >= 4


@pytest.mark.skipif(not (os.environ.get("USER_POOL_ID") and os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDP")),
                    reason="the local Cognito (moto) is not in the environment")
def test_real_local_cognito_token(tmp_path: Path) -> None:
    """A token from the stack's moto Cognito passes; the JWKS comes from moto itself."""
    import boto3

    env = dict(os.environ)
    settings = CognitoSettings.from_env(env)
    assert settings is not None
    cognito = boto3.client("cognito-idp", endpoint_url=env["AWS_ENDPOINT_URL_COGNITO_IDP"],
                           region_name=env.get("AWS_REGION", "us-east-1"),
                           aws_access_key_id="test", aws_secret_access_key="test")
    email, password = f"rt-{uuid.uuid4().hex[:8]}@example.com", "Runtime!Passw0rd"
    cognito.sign_up(ClientId=settings.client_id, Username=email, Password=password)
    cognito.admin_confirm_sign_up(UserPoolId=env["USER_POOL_ID"], Username=email)
    tokens = cognito.initiate_auth(ClientId=settings.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": email, "PASSWORD": password})
    result = tokens["AuthenticationResult"]
    runtime = Runtime(FIXTURE_FUNCTIONS, base_env={}, code_root=FIXTURES_DIR, log_dir=tmp_path)
    gw = Gateway(runtime, authorizer=CognitoAuthorizer(settings), port=0)
    gw.start()
    try:
        ok = requests.get(f"{gw.url}/private/x", headers={"Authorization": result["IdToken"]}, timeout=10)
        assert _echo(ok)["requestContext"]["authorizer"]["claims"]["email"] == email
        access = requests.get(f"{gw.url}/private/x", headers={"Authorization": result["AccessToken"]},
                              timeout=10)
        assert access.status_code == 401
    finally:
        gw.close()
        runtime.close()
