"""What every API function shares: the resolver factory, error mapping, the caller, the entry point.

Handlers stay thin: they declare routes on a ``Router``, read the caller with ``caller(router)``
and raise ``DomainError``s; the handlers registered here turn every failure into
``{"error": {"code", "message"}}`` with the right status, so no function builds error JSON itself.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from psycopg_pool import PoolTimeout

from fileshare import ratelimit
from fileshare.adapters import snapstart, telemetry, tracing
from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.config import check_rate_limit_store, settings
from fileshare.errors import DomainError, Forbidden, RateLimited, Unauthorized

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def error_response(status: int, code: str, message: str, *, details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> Response[str]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response(status_code=status, content_type="application/json",
                    body=json.dumps({"error": error}), headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """loc/type/msg of each problem; never the input (it may hold a password)."""
    return [{"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type", ""), "msg": e.get("msg", "")}
            for e in exc.errors()]


class JsonOnlyValidation(OpenAPIRequestValidationMiddleware):
    """Request validation that reads bodies as JSON only: no Content-Type or ``application/json``
    (any parameters); form and multipart bodies, which Powertools would otherwise parse, are 415."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = (app.current_event.headers.get("content-type") or "").strip()
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type and media_type != "application/json":
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",),
                         "msg": "the body must be application/json", "input": {}, "ctx": {}}])
        try:
            body = super()._get_body(app)
        except (UnicodeDecodeError, binascii.Error):  # not UTF-8 text (or broken base64 from the proxy)
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                           "msg": "the body is not UTF-8 text", "input": {}}]) from None
        try:  # "\ud800" is valid JSON but no UTF-8 text: PostgreSQL and OpenSearch would refuse it
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                           "msg": "lone surrogate in a string", "input": {}}]) from None
        if body is not None and not isinstance(body, dict):  # every body is an object; a list was
            # taken for its first element by the resolver (found by `make fuzz`: [{}, {}] made a link)
            raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                           "msg": "the body must be a JSON object", "input": {}}])
        return body


def create_app(*routers: tuple[Router, str | None]) -> APIGatewayRestResolver:
    """A REST (v1 payload) resolver with validation, CORS for the web origin and our error mapping."""
    check_rate_limit_store()  # cold start: a limiter without Redis would allow everything, silently
    origin = settings().web_origin
    extra = sorted({settings().public_base_url, origin.replace("localhost", "127.0.0.1")} - {origin})
    app = APIGatewayRestResolver(
        enable_validation=True,
        cors=CORSConfig(allow_origin=origin, extra_origins=extra or None, max_age=600,
                        allow_headers=["Authorization", "Content-Type", "X-Link-Password"],
                        # X-Next-Cursor: CSV export pages; Retry-After: every 429 (and 503) says when
                        expose_headers=["Location", "X-Next-Cursor", "Retry-After", "X-RateLimit-Limit",
                                        "X-RateLimit-Remaining"]),
    )

    # Powertools builds each route's middleware stack lazily from this attribute; ours is the same
    # validation with a JSON-only body reader (one place for every API function).
    app._request_validation_middleware = JsonOnlyValidation()

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[str]:
        if exc.status >= 500:
            logger.warning("dependency failure", extra={"code": exc.code, "error": exc.message})
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
        return error_response(exc.status, exc.code, exc.message, headers=headers)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_type(exc: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "unsupported_media_type", "the body must be application/json")

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        details = _validation_details(exc)
        if any(d["type"] == "json_invalid" for d in details):
            return error_response(400, "invalid_json", "the request body is not valid JSON")
        where = ", ".join(".".join(d["loc"]) for d in details[:5])
        return error_response(422, "validation_failed", f"invalid request: {where}", details=details)

    @app.not_found
    def _no_route(exc: NotFoundError) -> Response[str]:
        return error_response(404, "route_not_found", "no such route")

    @app.exception_handler([psycopg.OperationalError, PoolTimeout])
    def _database_down(exc: Exception) -> Response[str]:
        logger.warning("database unavailable", extra={"error": repr(exc)})
        return error_response(503, "database_unavailable", "the database is unavailable; try again",
                              headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        if _is_aws_transport_error(exc):  # S3/Cognito/SES timed out or unreachable: retry, not a bug
            logger.warning("AWS service unavailable", extra={"error": repr(exc)})
            return error_response(503, "service_unavailable", "a storage or identity service is "
                                  "unavailable; try again", headers={"Retry-After": "1"})
        logger.exception("unhandled error")
        metrics.add_metric(name="UnhandledErrors", unit="Count", value=1)
        return error_response(500, "internal", "internal error")

    app.use(middlewares=[ratelimit.middleware])  # per-user limit on every route with a caller
    for router, prefix in routers:
        app.include_router(router, prefix=prefix)
    # SnapStart: every route's validation (its dependant, body and response fields, the pydantic
    # schemas behind them) is built before the snapshot instead of on each environment's first
    # request; without SnapStart nothing runs here.
    snapstart.warm(app.get_openapi_schema)
    return app


def _is_aws_transport_error(exc: Exception) -> bool:
    """botocore's timeouts and connection errors (checked by name: botocore is not imported here,
    most functions never load it)."""
    names = {cls.__name__ for cls in type(exc).__mro__ if cls.__module__.startswith("botocore")}
    return bool(names & {"ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError",
                         "ConnectionClosedError"})


@dataclass(frozen=True)
class Caller:
    """The authenticated user, from the Cognito authorizer's claims (the verified id token)."""

    user_id: str
    email: str


def caller(router: Router | APIGatewayRestResolver) -> Caller:
    """The caller of the current request; 401 if the authorizer gave no usable claims."""
    event = cast(APIGatewayProxyEvent, router.current_event)
    claims = event.request_context.authorizer.claims or {}
    user_id, email = claims.get("sub"), claims.get("email")
    if not user_id or not email:
        raise Unauthorized("no authenticated user on this request")
    # An address counts only once Cognito verified it: never act on an unverified email claim.
    if str(claims.get("email_verified", "")).lower() != "true":
        raise Forbidden("the account's email address is not verified", code="email_not_verified")
    return Caller(user_id=str(user_id), email=str(email).lower())


def entry_point(app: APIGatewayRestResolver) -> LambdaHandler:
    """The Lambda handler for ``app``, with Powertools' context, tracing and metrics decorators."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        with tracing.request_span(event) as span:
            response = app.resolve(event, context)
            telemetry.observe_api(event, response)
            if span is not None:
                span.set_attribute("http.response.status_code", int(response.get("statusCode") or 0))
        return response

    return lambda_handler
