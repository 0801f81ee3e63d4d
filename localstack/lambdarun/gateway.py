"""The local API Gateway: REST proxy events, Cognito authorizer, CORS, and the web page at ``/``.

It is the local CloudFront too: one origin serves the page, ``/config.json`` (built from the
namespace's env by ``infra.web_headers``, as the deploy writes it from the stack's values), the API
and ``/s/*``, and every response carries the headers of ``infra.web_headers.security_headers`` (the
CSP with LocalStack's S3 origin), so the browser tests run under the production CSP.

Gateway-made errors carry both API Gateway's ``{"message": ...}`` and the project's error envelope
``{"error": {"code", "message"}}``, so clients written for either read them (in AWS the same body
comes from GatewayResponses). Unknown paths are 404 and known paths with another method 405 (API
Gateway's own default for both is 403 "Missing Authentication Token", which misleads clients).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra import web_headers
from infra.declaration import REPO_ROOT
from lambdarun.auth import CognitoAuthorizer, UnauthorizedError
from lambdarun.events import MalformedResponseError, parse_proxy_response, rest_event
from lambdarun.runtime import Runtime
from lambdarun.sockets import MANAGE_PREFIX, SocketGateway

log = logging.getLogger(__name__)

DEFAULT_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's request payload limit
ALLOW_HEADERS = "Authorization,Content-Type,X-Link-Password,X-Amz-Date,X-Api-Key,X-Requested-With"
ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
# X-Next-Cursor: the CSV export's pages; Retry-After: every 429 says when to come back
EXPOSE_HEADERS = "Location,X-Amzn-RequestId,X-Next-Cursor,Retry-After,X-RateLimit-Limit,X-RateLimit-Remaining"


def gateway_error(status: int, code: str, message: str) -> bytes:
    return json.dumps({"message": message, "error": {"code": code, "message": message}}).encode()


class _Server(ThreadingHTTPServer):
    """Python's default listen backlog is 5: a burst of more simultaneous connects (the bench's 64
    upload threads, a page opening a dozen requests) has the kernel drop SYNs, and each dropped one
    costs the client a 1 s retransmit, which showed up as ~1 s p99s. 128 is the Linux default
    somaxconn and more than any local load here opens at once."""

    request_queue_size = 128
    daemon_threads = True


class Gateway:
    """A ThreadingHTTPServer in front of a Runtime; ``start()`` serves from a background thread."""

    def __init__(self, runtime: Runtime, *, authorizer: CognitoAuthorizer, host: str = "127.0.0.1",
                 port: int = 8080, web_dir: Path = REPO_ROOT / "web",
                 origins: Iterable[str] = DEFAULT_ORIGINS, env: Mapping[str, str] | None = None,
                 sockets: SocketGateway | None = None) -> None:
        """``env``: the namespace's variables, for ``/config.json`` and the CSP's S3 origin;
        ``sockets``: the local WebSocket API, whose ``@connections`` API this server answers."""
        self.runtime = runtime
        self.sockets = sockets
        env = env if env is not None else {}
        self.page_config = json.dumps(web_headers.local_page_config(env)).encode()
        self.security_headers = tuple(web_headers.local_security_headers(env).items())
        self.authorizer = authorizer
        self.web_dir = web_dir.resolve()
        self.origins = frozenset(o.rstrip("/") for o in origins)
        handler = type("BoundHandler", (_Handler,), {"gateway": self})
        self.server = _Server((host, port), handler)
        self.api_metrics = ApiMetrics(runtime.log_dir / "gateway.log")
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[0], self.server.server_address[1]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.api_metrics.close()


class ApiMetrics:
    """API Gateway's own metrics (``AWS/ApiGateway`` Count, 4XXError, 5XXError, Latency), as EMF lines in
    ``gateway.log`` next to the functions' logs, so the ops page plots the API panels too."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", buffering=1)
        self._lock = threading.Lock()

    def record(self, status: int, latency_ms: float) -> None:
        from lambdarun.ops import api_gateway_emf

        with self._lock:
            if not self._file.closed:
                self._file.write(api_gateway_emf(status, latency_ms) + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()


_LINK_TOKEN = re.compile(r"/s/[^/?\s]+")


def redact(text: str) -> str:
    """Public-link tokens are credentials: never log them, even at DEBUG."""
    return _LINK_TOKEN.sub("/s/<redacted>", text)


class _Handler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "fileshare-local-gateway"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *(redact(str(a)) for a in args))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, CONNECT, ...): ``http.server`` would answer 501; API Gateway
        answers an undeclared method on a known resource with 405 and ``Allow``, and so do we."""
        if name.startswith("do_") and name[3:].isupper():
            return lambda: self._handle(name[3:])
        raise AttributeError(name)

    # --- request handling ---

    def _handle(self, method: str) -> None:
        started = time.perf_counter()
        self._api_started: float | None = None  # set for API routes: their status and latency are metrics
        request_id = str(uuid.uuid4())
        url = urlsplit(self.path)
        path = url.path or "/"
        origin = self.headers.get("Origin")
        cors = self._cors(origin)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(400, [("Content-Type", "application/json")],
                       gateway_error(400, "bad_request", "Invalid Content-Length"), cors, request_id)
            return
        if length > MAX_PAYLOAD:
            self.close_connection = True
            self._send(413, [("Content-Type", "application/json")],
                       gateway_error(413, "payload_too_large", "Request Too Long"), cors, request_id)
            return
        body = self.rfile.read(length) if length else b""
        if method == "OPTIONS" and self.headers.get("Access-Control-Request-Method"):
            self._preflight(cors, request_id)
            return
        if path == "/_local/stats":
            stats = self.gateway.runtime.stats.snapshot()
            self._send(200, [("Content-Type", "application/json")], json.dumps(stats).encode(), cors,
                       request_id)
            return
        if path in ("/ops", "/ops.json") and method == "GET":  # the local ops page (lambdarun.ops)
            from lambdarun import ops

            as_json = path == "/ops.json"
            text = (ops.page_json if as_json else ops.page)(self.gateway.runtime.log_dir,
                                                           list(self.gateway.runtime.functions.values()))
            ctype = "application/json" if as_json else "text/html; charset=utf-8"
            self._send(200, [("Content-Type", ctype), ("Cache-Control", "no-cache")], text.encode(), cors,
                       request_id)
            return
        if path.startswith(MANAGE_PREFIX) and self.gateway.sockets is not None:  # @connections
            status, headers, payload = self.gateway.sockets.manage(method, path, body)
            self._send(status, headers, payload, [], request_id)
            return
        if path == web_headers.CONFIG_PATH and method in ("GET", "HEAD"):
            self._send(200, [("Content-Type", "application/json"), ("Cache-Control", "no-cache")],
                       self.gateway.page_config, cors, request_id, head=method == "HEAD")
            return
        match = self.gateway.runtime.routes.match(method, path)
        self._api_started = started if match.resource is not None else None
        if match.function is not None and match.route is not None and match.resource is not None:
            claims = None
            if match.route.auth:
                try:
                    claims = self.gateway.authorizer.claims(self.headers.get("Authorization"))
                except UnauthorizedError:
                    self._send(401, [("Content-Type", "application/json")],
                               gateway_error(401, "unauthorized", "Unauthorized"), cors, request_id)
                    return
            headers = [*self.headers.items(), ("X-Forwarded-For", self.client_address[0]),
                       ("X-Forwarded-Proto", "http"),
                       ("X-Forwarded-Port", self.gateway.url.rsplit(":", 1)[1])]
            event = rest_event(method=method, path=path, query=url.query, headers=headers, body=body,
                               resource=match.resource.path, path_parameters=match.path_parameters,
                               source_ip=self.client_address[0], claims=claims, request_id=request_id)
            self._proxy(match.function.name, event, cors, request_id)
        elif method in ("GET", "HEAD") and (static := self._static_file(path)) is not None:
            ctype = mimetypes.guess_type(static.name)[0] or "application/octet-stream"
            self._send(200, [("Content-Type", ctype), ("Cache-Control", "no-cache")],
                       static.read_bytes(), cors, request_id, head=method == "HEAD")
        elif match.resource is not None:
            self._send(405, [("Content-Type", "application/json"), ("Allow", ",".join(match.allowed))],
                       gateway_error(405, "method_not_allowed", f"{method} is not allowed on {path}"),
                       cors, request_id)
        else:
            self._send(404, [("Content-Type", "application/json")],
                       gateway_error(404, "not_found", f"No route for {method} {path}"), cors, request_id)
        log.debug("%s %s in %.1f ms", method, redact(path), (time.perf_counter() - started) * 1000)

    def _proxy(self, function: str, event: dict[str, Any], cors: list[tuple[str, str]],
               request_id: str) -> None:
        invocation = self.gateway.runtime.invoke(function, event, request_id)
        if not invocation.ok:
            error = invocation.error or {}
            log.warning("%s failed: %s: %s", function, error.get("errorType"), error.get("errorMessage"))
            self._send(502, [("Content-Type", "application/json"),
                             ("X-Amzn-ErrorType", "InternalServerErrorException")],
                       gateway_error(502, "internal_error", "Internal server error"), cors, request_id)
            return
        try:
            response = parse_proxy_response(invocation.result)
        except MalformedResponseError as exc:
            log.warning("%s returned a malformed proxy response: %s", function, exc)
            self._send(502, [("Content-Type", "application/json")],
                       gateway_error(502, "internal_error", "Internal server error"), cors, request_id)
            return
        self._send(response.status, response.headers, response.body, cors, request_id,
                   head=event["httpMethod"] == "HEAD")

    def _preflight(self, cors: list[tuple[str, str]], request_id: str) -> None:
        if not cors:  # origin not allowed: no CORS headers, the browser blocks the request
            self._send(403, [("Content-Type", "application/json")],
                       gateway_error(403, "forbidden", "Origin not allowed"), [], request_id)
            return
        headers = [("Access-Control-Allow-Methods", ALLOW_METHODS),
                   ("Access-Control-Allow-Headers", ALLOW_HEADERS),
                   ("Access-Control-Max-Age", "600")]
        self._send(204, headers, b"", cors, request_id)

    def _cors(self, origin: str | None) -> list[tuple[str, str]]:
        if not origin or origin.rstrip("/") not in self.gateway.origins:
            return []
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Expose-Headers", EXPOSE_HEADERS)]

    def _static_file(self, path: str) -> Path | None:
        web_dir = self.gateway.web_dir
        relative = path.lstrip("/") or "index.html"
        try:
            candidate = (web_dir / relative).resolve()
        except (OSError, ValueError):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_relative_to(web_dir) or not candidate.is_file():
            return None
        return candidate

    def _send(self, status: int, headers: Sequence[tuple[str, str]], body: bytes,
              cors: Sequence[tuple[str, str]], request_id: str, *, head: bool = False) -> None:
        api_started = getattr(self, "_api_started", None)
        if api_started is not None:
            self.gateway.api_metrics.record(status, (time.perf_counter() - api_started) * 1000)
            self._api_started = None
        self.send_response(status)
        names = {name.lower() for name, _ in headers}
        skipped = {"content-length", "connection", "transfer-encoding"}
        skipped |= {name.lower() for name, _ in self.gateway.security_headers}
        for name, value in headers:  # the web origin's security headers override the function's
            if name.lower() not in skipped:
                self.send_header(name, value)
        for name, value in self.gateway.security_headers:
            self.send_header(name, value)
        for name, value in cors:
            if name.lower() not in names:
                self.send_header(name, value)
        self.send_header("X-Amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)
