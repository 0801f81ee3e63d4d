"""The request contract every API function shares (fileshare/api.py create_app), through the real
handlers and with no service behind them (``tests/support/offline.py``): a request is refused
before any of them would be called.

Given any route that takes a body, when the body is not JSON, not UTF-8 text or not sent as
``application/json``, then the answer is a 400 ``invalid_json`` or a 415, never a 500; a JSON body
that is not an object, dates that make no sense and a list cursor that is not one are 422. What
needs a service to answer (valid dates searched, forged search cursors) is in
``tests/integration/api/test_api_contract.py``.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from infra.declaration import all_routes
from tests.support.apigw import Reply, call, claims_for, event
from tests.support.offline import offline_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((REPO_ROOT / "functions" / "meta" / "openapi.json").read_text())
BODY_ROUTES = sorted((method.upper(), path) for path, ops in DOCUMENT["paths"].items()
                     for method, op in ops.items() if "requestBody" in op)
CLAIMS = claims_for("contract-user", "contract@example.com")
_modules: dict[str, ModuleType] = {}


@pytest.fixture(scope="module", autouse=True)
def _offline() -> Iterator[None]:
    with offline_settings():
        yield


def _handler(method: str, path: str) -> Any:
    """The declared function's handler, loaded from its file once per module (cold start offline)."""
    for route, function in all_routes():
        if route.method == method and route.path == path:
            if function.name not in _modules:
                source = function.code_dir / f"{function.module_name}.py"
                spec = importlib.util.spec_from_file_location(f"offline_contract_{function.name}", source)
                assert spec and spec.loader
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                _modules[function.name] = module
            return _modules[function.name].lambda_handler
    raise AssertionError(f"{method} {path} is not declared")


def _send(method: str, path: str, raw_body: str, content_type: str = "application/json") -> Reply:
    concrete = path.replace("{file_id}", "0b6f3a52-5d2e-4f55-9d39-6a4b7e0c1d2e")
    return call(_handler(method, path), event(method, concrete, resource=path, raw_body=raw_body,
                                              claims=CLAIMS, headers={"Content-Type": content_type}))


def _get(path: str, query: dict[str, str]) -> Reply:
    return call(_handler("GET", path), event("GET", path, query=query, claims=CLAIMS))


def test_the_document_lists_the_body_routes() -> None:
    assert len(BODY_ROUTES) >= 8, BODY_ROUTES  # the auth routes, /files, complete, links, shares, PATCH


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("raw", ['{"name": ', "not json", '{"a": 1}}', "\x00", '{"name": "\\ud800"}'])
def test_malformed_json_is_a_400_on_every_body_route(method: str, path: str, raw: str) -> None:
    reply = _send(method, path, raw)
    assert reply.status == 400, reply.body
    assert reply.error_code == "invalid_json"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("raw", ["[{}, {}]", "[]", '"text"', "42", "true"])
def test_json_that_is_not_an_object_is_a_422_on_every_body_route(method: str, path: str, raw: str) -> None:
    """Found by `make fuzz`: an array body was read as its first element (POST links made a link)."""
    reply = _send(method, path, raw)
    assert reply.status == 422, reply.body
    assert reply.error_code == "validation_failed"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_a_body_that_is_not_json_is_a_415(method: str, path: str, content_type: str) -> None:
    reply = _send(method, path, "email=a%40b.c&password=x", content_type)
    assert reply.status == 415, reply.body
    assert reply.error_code == "unsupported_media_type"


def test_json_with_charset_is_still_json() -> None:
    reply = _send("POST", "/auth/login", "{}", "application/json; charset=utf-8")
    assert reply.status == 422 and reply.error_code == "validation_failed"


@pytest.mark.parametrize("when", ["0.0", "1700000000", "-1", "2026-12-01T10:00:00", "yesterday",
                                  "2026-13-01T00:00:00Z"])
def test_numbers_naive_and_broken_dates_are_422(when: str) -> None:
    reply = _get("/search", {"to": when})
    assert reply.status == 422, (when, reply.body)


def _cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["!!!", "a" * 513, _cursor(["not a date", "not a uuid"])])
def test_a_forged_list_cursor_is_422(cursor: str) -> None:
    reply = _get("/files", {"cursor": cursor})
    assert reply.status == 422, reply.body
