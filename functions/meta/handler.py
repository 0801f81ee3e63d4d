"""Meta: ``GET /health`` (PostgreSQL and Redis reachable?), ``/openapi.json`` and ``/docs``.

The OpenAPI document covers every API function; it is generated from their code by
``make openapi`` (infra/openapi.py) into ``openapi.json`` beside this file, and served as is.
Cold start matters here (the health check is what load balancers and ``make dev`` poll first), so
only the resolver is imported at init; the database and cache clients on the first health check.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

app = APIGatewayRestResolver()
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")

_db: Any = None
_cache: Any = None


def _check_database() -> str:
    global _db
    if not (os.environ.get("DATABASE_URL") or os.environ.get("DATABASE_SECRET_ARN")):
        return "not configured"
    import psycopg  # cold start: the database client only at the first health check

    from fileshare.db.connection import connect  # in AWS: RDS Proxy + the secret's (rotating) credentials

    for attempt in (1, 2):
        try:
            if _db is None or _db.closed:
                _db = connect(connect_timeout=2, autocommit=True)
            _db.execute("SELECT 1").fetchone()
            return "ok"
        except psycopg.Error as exc:
            _db = None
            if attempt == 2:
                return f"unreachable ({type(exc).__name__})"
    return "unreachable"


def _check_cache() -> str:
    global _cache
    url = os.environ.get("REDIS_URL")
    if not url:
        return "not configured"
    import redis  # cold start: the cache client only at the first health check

    try:
        if _cache is None:
            _cache = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        _cache.ping()
        return "ok"
    except redis.RedisError as exc:
        return f"unreachable ({type(exc).__name__})"


@app.get("/health", summary="Liveness of the API and its PostgreSQL and Redis", tags=["meta"])
def health() -> Response[dict[str, Any]]:
    started = time.perf_counter()
    checks = {"database": _check_database(), "cache": _check_cache()}
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    return Response(status_code=200 if healthy else 503, content_type=content_types.APPLICATION_JSON,
                    body=body)


@app.get("/openapi.json", summary="The OpenAPI document of this API", tags=["meta"],
         responses={200: {"description": "this document", "content": {"application/json": {
             "schema": {"type": "object", "required": ["openapi", "paths"]}}}}})
def openapi() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    body=OPENAPI_DOCUMENT.read_text(encoding="utf-8"))


@app.get("/docs", include_in_schema=False)
def docs() -> Response[str]:
    """Swagger UI with the document inlined (the assets ship with Powertools: no CDN)."""
    # cold start: the Swagger page only when asked for
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(generate_swagger_html.__code__.co_filename).parent
    spec = OPENAPI_DOCUMENT.read_text(encoding="utf-8").replace("</", "<\\/")
    html = generate_swagger_html(spec, (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
                                 (assets / "swagger-ui.min.css").read_text(encoding="utf-8"), "", None)
    return Response(status_code=200, content_type="text/html", body=html)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
