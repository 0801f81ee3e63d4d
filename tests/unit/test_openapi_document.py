"""The OpenAPI document served at /openapi.json is generated from the code and kept current."""

from __future__ import annotations

import json

from infra import openapi
from infra.declaration import all_routes


def test_committed_document_matches_the_code() -> None:
    assert openapi.OUTPUT.read_text() == openapi.render(), "stale: run `make openapi`"


def test_every_declared_route_is_documented_with_its_security() -> None:
    document = json.loads(openapi.OUTPUT.read_text())
    for route, function in all_routes():
        if route.path == "/docs":
            continue  # the Swagger UI page itself is not an API operation
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        assert operation is not None, f"{route.method} {route.path} ({function.name}) undocumented"
        assert ("security" in operation) == route.auth, f"{route.method} {route.path}"
