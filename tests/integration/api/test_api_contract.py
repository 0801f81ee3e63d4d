"""The contract every API function shares (fileshare/api.py create_app), through the real handlers.

Given any route that takes a body, when the body is not JSON, not UTF-8 text or not sent as
``application/json``, then the answer is a 400 ``invalid_json`` or a 415, never a 500; dates and
cursors that make no sense are 422 (not 503), and valid but unusual dates work.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from infra.declaration import all_routes
from tests.support.apigw import call, claims_for, event

REPO_ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = json.loads((REPO_ROOT / "functions" / "meta" / "openapi.json").read_text())
BODY_ROUTES = sorted((method.upper(), path) for path, ops in DOCUMENT["paths"].items()
                     for method, op in ops.items() if "requestBody" in op)
_modules: dict[str, ModuleType] = {}


def _handler(method: str, path: str) -> Any:
    for route, function in all_routes():
        if route.method == method and route.path == path:
            if function.name not in _modules:
                source = function.code_dir / f"{function.module_name}.py"
                spec = importlib.util.spec_from_file_location(f"contract_{function.name}", source)
                assert spec and spec.loader
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                _modules[function.name] = module
            return _modules[function.name].lambda_handler
    raise AssertionError(f"{method} {path} is not declared")


def _send(method: str, path: str, raw_body: str, content_type: str = "application/json") -> Any:
    concrete = path.replace("{file_id}", "0b6f3a52-5d2e-4f55-9d39-6a4b7e0c1d2e")
    claims = claims_for("contract-user", "contract@example.com")
    return call(_handler(method, path), event(method, concrete, resource=path, raw_body=raw_body,
                                              claims=claims, headers={"Content-Type": content_type}))


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


@pytest.fixture
def search(search_module: Any, alice: Any) -> Any:
    from tests.integration.conftest import Api

    return Api(search_module, alice.claims)


@pytest.mark.parametrize("when", ["0136-01-01T00:00:00+22:15", "0001-01-01T00:00:00+05:00",
                                  "9999-12-31T23:59:59-23:59", "2026-12-01T10:00:00.123456Z"])
def test_unusual_but_valid_dates_search(search: Any, when: str) -> None:
    for name in ("from", "to"):
        reply = search("GET", "/search", query={name: when})
        assert reply.status == 200, (name, when, reply.body)


@pytest.mark.parametrize("when", ["0.0", "1700000000", "-1", "2026-12-01T10:00:00", "yesterday",
                                  "2026-13-01T00:00:00Z"])
def test_numbers_naive_and_broken_dates_are_422(search: Any, when: str) -> None:
    reply = search("GET", "/search", query={"to": when})
    assert reply.status == 422, (when, reply.body)


def test_reversed_range_is_422(search: Any) -> None:
    reply = search("GET", "/search", query={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    assert reply.status == 422 and reply.error_code == "invalid_date_range"


def _cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize("position", [["x", "y"], [1.5e300, "id"], [2**63, "id"], [True, "id"], [1, 2],
                                      "not a list", [1], [1, "a", "b"]])
def test_a_forged_search_cursor_is_422_not_503(search: Any, position: Any) -> None:
    reply = search("GET", "/search", query={"cursor": _cursor(position)})
    assert reply.status == 422, (position, reply.body)
    assert reply.error_code == "invalid_cursor"


@pytest.mark.parametrize("position", [[1, "x", "id"], ["a", 1, "id"], [1, 2]])
def test_a_forged_cursor_with_a_query_is_422(search: Any, position: Any) -> None:
    reply = search("GET", "/search", query={"q": "report", "cursor": _cursor(position)})
    assert reply.status == 422, (position, reply.body)


@pytest.mark.parametrize("cursor", ["!!!", "a" * 513, _cursor(["not a date", "not a uuid"])])
def test_a_forged_list_cursor_is_422(files_api: Any, cursor: str) -> None:
    reply = files_api("GET", "/files", query={"cursor": cursor})
    assert reply.status == 422, reply.body
