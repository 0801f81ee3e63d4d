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
        schema = json.loads(_load_app(function).get_openapi_json_schema(title=TITLE, version=VERSION))
        protected = {(r.method.lower(), r.path) for r in function.routes if r.auth}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if (method, path) in protected:
                    operation["security"] = [{"cognito": []}]
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


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
