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


def test_every_error_status_is_documented_with_the_envelope() -> None:
    document = json.loads(openapi.OUTPUT.read_text())
    assert "ErrorEnvelope" in document["components"]["schemas"]
    for route, _function in all_routes():
        if route.path == "/docs":
            continue
        operation = document["paths"][route.path][route.method.lower()]
        responses = operation["responses"]
        assert "429" in responses, (route.method, route.path)
        if route.auth:
            assert "401" in responses, (route.method, route.path)
        if "{" in route.path:
            assert "404" in responses, (route.method, route.path)
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(responses), (route.method, route.path)
        assert any(s.startswith(("2", "3")) for s in responses), (route.method, route.path)
        for status, response in responses.items():
            if status[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (route.path, status)


def test_model_constraints_reach_the_schema() -> None:
    schemas = json.loads(openapi.OUTPUT.read_text())["components"]["schemas"]
    assert "pattern" in schemas["Credentials"]["properties"]["email"]
    assert "pattern" in schemas["FileCreate"]["properties"]["content_type"]
    assert schemas["FileCreate"]["properties"]["tags"]["items"]["maxLength"] == 50
    assert schemas["ShareIn"]["properties"]["permission"].get("enum") == ["viewer"] or \
        schemas["ShareIn"]["properties"]["permission"].get("const") == "viewer"


def test_creating_a_file_links_to_what_can_be_done_with_it() -> None:
    paths = json.loads(openapi.OUTPUT.read_text())["paths"]
    links = paths["/files"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in links.values()}
    for path, method in (("/files/{file_id}", "get"), ("/files/{file_id}", "patch"),
                         ("/files/{file_id}/shares", "post"), ("/files/{file_id}/links", "post"),
                         ("/files/{file_id}", "delete")):
        assert paths[path][method]["operationId"] in targets
    trashed = paths["/files/{file_id}"]["delete"]["responses"]["204"]["links"]
    assert paths["/files/{file_id}/restore"]["post"]["operationId"] in trashed


def test_the_fuzzing_exceptions_name_real_operations() -> None:
    """tests/contract/schemathesis.toml names operations by operationId: a renamed handler must not
    silently drop its exception (and with it, widen nothing or the wrong thing)."""
    import re
    from pathlib import Path

    config = (Path(__file__).resolve().parents[1] / "contract" / "schemathesis.toml").read_text()
    named = set(re.findall(r'"([a-z_]+_(?:get|post|patch|delete))"', config))
    document = json.loads(openapi.OUTPUT.read_text())
    known = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert named and named <= known, named - known
