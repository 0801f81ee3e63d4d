"""Build the one OpenAPI document of the whole API from the API functions' own resolvers.

Each API function owns its routes (Powertools resolver with validation), so the document is
generated from the code, function by function, and merged. ``make openapi`` writes it to
``functions/meta/openapi.json``, which the meta function serves at /openapi.json and /docs; a
test fails when the committed copy is stale.

    python -m infra.openapi [--check]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from infra.declaration import FUNCTIONS, REPO_ROOT, Function

OUTPUT = REPO_ROOT / "functions" / "meta" / "openapi.json"
TITLE, VERSION = "Fileshare API", "1.0.0"
DESCRIPTION = ("Multi-user file sharing. Authenticate with the Cognito id token from /auth/login "
               "as `Authorization: Bearer <token>`. Errors are `{\"error\": {\"code\", \"message\"}}`.")


def _load_app(function: Function) -> Any:
    """Import a function's handler module under a unique name and return its resolver."""
    path = function.code_dir / f"{function.module_name}.py"
    spec = importlib.util.spec_from_file_location(f"_openapi_{function.name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(function.code_dir))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(function.code_dir))
    return module.app


ERROR_SCHEMA = "ErrorEnvelope"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
# Statuses the shared layers (fileshare/api.py, the gateway, API Gateway) can give any operation
# of a kind, so each one is documented once here rather than repeated on every route.
STANDARD_ERRORS = {
    "body": {
        "400": "the body is not valid JSON (invalid_json)",
        "413": "the request is larger than 10 MB (payload_too_large)",
        "415": "the body is not application/json (unsupported_media_type)",
    },
    "input": {"422": "invalid input (validation_failed, invalid_cursor, invalid_date_range, ...)"},
    "auth": {"401": "no valid id token (unauthorized)"},
    "path": {"404": "no such resource, or not yours and not shared with you (not_found)"},
    "any": {"429": "too many requests (rate_limited; Retry-After says when to retry)",
            "503": "a backing service is unavailable; retry (database_unavailable, search_unavailable)"},
}
SERVICE_FREE = {"/openapi.json"}  # served from the package: no backing service, no 503
ID_FIELDS = ("file_id", "share_id", "link_id", "notification_id")


def _error_responses(path: str, operation: dict[str, Any], protected: bool) -> None:
    """Add the standard statuses and give every 4xx/5xx the error envelope's schema."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    kinds = ["any"]
    if "requestBody" in operation:
        kinds += ["body", "input"]
    if operation.get("parameters"):
        kinds.append("input")
    if protected:
        kinds.append("auth")
    if "{" in path:
        kinds.append("path")
    for kind in kinds:
        for status, description in STANDARD_ERRORS[kind].items():
            if status == "503" and path in SERVICE_FREE:
                continue
            if status not in responses or status == "422":
                responses[status] = {"description": description}
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {"application/json": {"schema": ERROR_REF}}
        elif status in ("204", "302"):
            response.pop("content", None)  # no body (Powertools describes the return type anyway)
    operation["responses"] = dict(sorted(responses.items()))


def _body_schema(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    return document["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def _add_links(document: dict[str, Any]) -> None:
    """OpenAPI links from each operation that returns (or addresses) ids to the operations taking
    them, so stateful clients and fuzzers can chain create -> get -> patch -> share -> ... ."""
    targets = [op for path, ops in document["paths"].items() for op in ops.values() if "{" in path]
    for source_path, ops in document["paths"].items():
        for method, operation in ops.items():
            if method == "get" and "{" in source_path:
                continue  # reading one resource does not lead anywhere new
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                props = _body_schema(document, response).get("properties", {})
                sources: dict[str, str] = {f: f"$response.body#/{f}" for f in ID_FIELDS if f in props}
                for name in ("file_id", "share_id", "link_id", "notification_id"):
                    if "{" + name + "}" in source_path:
                        sources.setdefault(name, f"$request.path.{name}")
                links: dict[str, Any] = {}
                for target in targets:
                    wanted = [p["name"] for p in target.get("parameters", []) if p.get("in") == "path"]
                    if wanted and all(p in sources for p in wanted) and target is not operation:
                        links[target["operationId"]] = {
                            "operationId": target["operationId"],
                            "parameters": {p: sources[p] for p in wanted}}
                if links:
                    response["links"] = dict(sorted(links.items()))


def _keep_success_responses(app: Any) -> None:
    """Powertools documents a route's return type as its 200 only when the route declares no
    ``responses`` or declares a 200; a route that lists only its errors would lose its success
    response. Give such routes the 200 back (its schema is then the return type)."""
    for route in [*app._static_routes, *app._dynamic_routes]:
        if route.responses and not any(200 <= int(status) < 400 for status in route.responses):
            route.responses = {200: {"description": "Successful Response"}, **route.responses}


def build() -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {
            "cognito": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
    for function in FUNCTIONS:
        if not function.routes:
            continue
        app = _load_app(function)
        _keep_success_responses(app)
        schema = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        protected = {(r.method.lower(), r.path) for r in function.routes if r.auth}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if (method, path) in protected:
                    operation["security"] = [{"cognito": []}]
                _error_responses(path, operation, (method, path) in protected)
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    # Powertools' validation schemas: no operation refers to them (validation errors use the error
    # envelope), and ResponseValidationError refers to the ValidationError removed here.
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document["components"]["schemas"].pop(unused, None)
    document["components"]["schemas"].update(_error_schemas())
    _add_links(document)
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


def _error_schemas() -> dict[str, Any]:
    from fileshare.models import ErrorEnvelope

    schema = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {ERROR_SCHEMA: schema, **definitions}


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed copy is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(Path.cwd()) if OUTPUT.is_relative_to(Path.cwd()) else OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
