"""The local WebSocket API: API Gateway's WebSocket route contract and its ``@connections`` API.

Each connection's handshake, frames and close become the events API Gateway sends the function that
declares the route (``infra.declaration.socket_routes``): ``$connect`` (``eventType`` CONNECT, with
the handshake's headers and query string; a non-2xx answer refuses the handshake with that status),
``MESSAGE`` events routed by the frame's ``action`` (the route selection expression
``$request.body.action``; ``$default`` when no route has that key) and ``$disconnect``. The limits
are the declaration's (``SOCKET_API``): a connection idle for ten minutes or open for two hours is
closed (1001, "Going away"), a message above 128 KB closes it (1009).

The ``@connections`` API (``POST`` data to a connection, ``GET`` its facts, ``DELETE`` it; 410
``GoneException`` for a connection that is not open) is served by the HTTP gateway at
``/_ws/<stage>/@connections/<id>`` (:meth:`SocketGateway.manage`), the endpoint ``PUSH_ENDPOINT``
names, so the pusher's boto3 ``apigatewaymanagementapi`` client works unchanged. The websockets
library's threaded server does the protocol.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from infra.declaration import SOCKET_API, Function, SocketApi, socket_routes
from lambdarun.events import MalformedResponseError, parse_proxy_response
from lambdarun.iam.policy import LOCAL_SOCKET_API_ID
from lambdarun.runtime import Runtime

log = logging.getLogger(__name__)

LOCAL_API_ID = LOCAL_SOCKET_API_ID  # the WebSocket API's id on the local stack (in its ARNs too)
MANAGE_PREFIX = "/_ws/"


@dataclass
class _Connection:
    connection_id: str
    socket: ServerConnection
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _ms(epoch_s: float) -> int:
    return int(epoch_s * 1000)


class SocketGateway:
    """A websockets server in front of a Runtime's socket routes; ``start()`` serves from a thread."""

    def __init__(self, runtime: Runtime, *, host: str = "127.0.0.1", port: int = 8090,
                 api: SocketApi = SOCKET_API, functions: Mapping[str, Function] | None = None) -> None:
        self.runtime = runtime
        self.api = api
        self.routes = dict(functions) if functions is not None else socket_routes(runtime.functions.values())
        self._open: dict[str, _Connection] = {}
        self._pending: dict[int, tuple[str, float]] = {}  # id(socket) -> (connection id, connected at)
        self._lock = threading.Lock()
        self.server: Server = serve(self._serve, host, port, process_request=self._handshake,
                                    ping_interval=None, compression=None, max_size=api.max_message_bytes,
                                    server_header=None)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}"

    @property
    def domain_name(self) -> str:
        return self.url.removeprefix("ws://")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="sockets", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is None:  # never served: shutdown() would wait for serve_forever()
            self.server.socket.close()
            return
        with self._lock:
            open_now = list(self._open.values())
        for conn in open_now:
            conn.socket.close(1001, "Going away")
        self.server.shutdown()
        if self._thread:
            self._thread.join(timeout=5)

    def connection_ids(self) -> list[str]:
        with self._lock:
            return list(self._open)

    # --- the route contract ---

    def _context(self, route: str, event_type: str, connection_id: str, connected_at: float,
                 extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        now = time.time()
        context = {
            "routeKey": route, "eventType": event_type, "messageDirection": "IN",
            "connectionId": connection_id, "connectedAt": _ms(connected_at), "stage": self.api.stage,
            "domainName": self.domain_name, "apiId": LOCAL_API_ID, "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()), "requestTimeEpoch": _ms(now),
            "requestTime": format_datetime(datetime.fromtimestamp(now, UTC), usegmt=True),
        }
        context.update(extra or {})
        return context

    def _invoke(self, route: str, event: dict[str, Any]) -> tuple[int, str]:
        """Invoke the function declaring ``route``: (status, body); 500 when it failed."""
        function = self.routes.get(route)
        if function is None:
            return (200, "") if route in ("$connect", "$disconnect") else (500, "no route")
        invocation = self.runtime.invoke(function.name, event, event["requestContext"]["requestId"])
        if not invocation.ok:
            error = invocation.error or {}
            log.warning("%s %s failed: %s", function.name, route, error.get("errorType"))
            return 500, ""
        try:
            response = parse_proxy_response(invocation.result)
        except MalformedResponseError:
            return 200, ""  # API Gateway treats any non-proxy result of a WebSocket route as a success
        return response.status, response.body.decode(errors="replace")

    def _handshake(self, socket: ServerConnection, request: Request) -> Response | None:
        """``$connect``: the function decides; a non-2xx refuses the upgrade with that status."""
        connection_id = secrets.token_urlsafe(12)  # API Gateway's look like "L0SM9cOFvHcCIhw="
        connected_at = time.time()
        url = urlsplit(request.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {name: value for name, value in request.headers.raw_items()}
        source_ip = str(socket.remote_address[0]) if socket.remote_address else "127.0.0.1"
        event = {
            "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
            "requestContext": self._context("$connect", "CONNECT", connection_id, connected_at, {
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")}}),
            "isBase64Encoded": False,
        }
        status, body = self._invoke("$connect", event)
        if not 200 <= status < 300:
            return socket.respond(status if status >= 400 else 500, body or "Forbidden")
        with self._lock:
            self._pending[id(socket)] = (connection_id, connected_at)
        return None

    def _serve(self, socket: ServerConnection) -> None:
        with self._lock:
            connection_id, connected_at = self._pending.pop(id(socket))
            source_ip = str(socket.remote_address[0]) if socket.remote_address else "127.0.0.1"
            agent = socket.request.headers.get("User-Agent", "") if socket.request else ""
            conn = _Connection(connection_id, socket, source_ip, agent, connected_at=connected_at,
                               last_active_at=connected_at)
            self._open[connection_id] = conn
        status, reason = 1000, ""
        try:
            while True:
                now = time.time()
                wait = min(conn.last_active_at + self.api.idle_timeout_s,
                           conn.connected_at + self.api.max_connection_s) - now
                if wait <= 0:
                    status, reason = 1001, "Going away"
                    socket.close(status, reason)
                    break
                try:
                    data = socket.recv(timeout=wait)
                except TimeoutError:
                    continue
                conn.last_active_at = time.time()
                self._message(conn, data if isinstance(data, str) else data.decode(errors="replace"))
        except ConnectionClosed as closed:
            received = closed.rcvd
            status = received.code if received is not None else 1006
            reason = received.reason if received is not None else "Connection closed abnormally"
        finally:
            with self._lock:
                self._open.pop(connection_id, None)
            self._invoke("$disconnect", {
                "headers": {}, "isBase64Encoded": False,
                "requestContext": self._context("$disconnect", "DISCONNECT", connection_id, connected_at, {
                    "disconnectStatusCode": status, "disconnectReason": reason}),
            })

    def _message(self, conn: _Connection, body: str) -> None:
        """A frame: routed by its ``action`` (``$default`` when it has none or no route has it)."""
        try:
            action = json.loads(body).get("action")
        except (ValueError, AttributeError):
            action = None
        route = action if isinstance(action, str) and action in self.routes and not action.startswith("$") \
            else "$default"
        event = {
            "body": body, "isBase64Encoded": False,
            "requestContext": self._context(route, "MESSAGE", conn.connection_id, conn.connected_at, {
                "messageId": secrets.token_urlsafe(8)}),
        }
        self._invoke(route, event)

    # --- the @connections API ---

    def manage(self, method: str, path: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """One ``@connections`` request (the HTTP gateway hands over paths under ``/_ws/``)."""
        prefix = f"{MANAGE_PREFIX}{self.api.stage}/@connections/"
        if not path.startswith(prefix) or "/" in path[len(prefix):] or len(path) == len(prefix):
            return _error(404, "NotFoundException", "No method found matching route")
        connection_id = path[len(prefix):]
        with self._lock:
            conn = self._open.get(connection_id)
        if method not in ("POST", "GET", "DELETE"):
            return _error(404, "NotFoundException", f"No method found matching route for {method}")
        if conn is None:
            return _error(410, "GoneException", None)
        if method == "GET":
            facts = {"ConnectedAt": _iso(conn.connected_at), "LastActiveAt": _iso(conn.last_active_at),
                     "Identity": {"SourceIp": conn.source_ip, "UserAgent": conn.user_agent}}
            return 200, [("Content-Type", "application/json")], json.dumps(facts).encode()
        if method == "DELETE":
            conn.socket.close(1000, "")
            return 204, [], b""
        if len(body) > self.api.max_message_bytes:
            return _error(413, "PayloadTooLargeException", "Message too long")
        try:
            with conn.lock:
                conn.socket.send(body.decode(errors="replace"))
        except ConnectionClosed:
            return _error(410, "GoneException", None)
        return 200, [], b""


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def _error(status: int, kind: str, message: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
    return (status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", kind)],
            json.dumps({"message": message}).encode())
