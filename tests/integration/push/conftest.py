"""Fixtures of the push tests: the local WebSocket API (the pusher in worker processes behind
``lambdarun.sockets``, the ``@connections`` API on an HTTP gateway), Cognito users with real id
tokens, and the pusher's Kafka handler in-process, fed the outbox rows an action wrote."""

from __future__ import annotations

import json
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest
from websockets.sync.client import ClientConnection, connect

from fileshare.config import settings
from fileshare.events import SEQ_HEADER
from infra.declaration import SOCKET_API, by_name
from lambdarun.auth import CognitoAuthorizer
from lambdarun.events import KafkaRecord, msk_event
from lambdarun.gateway import Gateway
from lambdarun.runtime import Runtime
from lambdarun.sockets import SocketGateway
from tests.integration.conftest import User
from tests.support.pipeline import free_port, load_handler
from tests.support.sharing import World


@dataclass
class PushStack:
    sockets: SocketGateway
    gateway: Gateway
    endpoint: str


@pytest.fixture(scope="module")
def push_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushStack]:
    for name in ("DATABASE_URL", "REDIS_URL", "USER_POOL_ID", "AWS_ENDPOINT_URL_COGNITO_IDP"):
        if not os.environ.get(name):
            pytest.fail(f"the local stack is not up ({name} missing): run `make up`")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/_ws/{SOCKET_API.stage}"
    runtime = Runtime([by_name("pusher")], base_env={**os.environ, "PUSH_ENDPOINT": endpoint},
                      log_dir=Path(tmp_path_factory.mktemp("logs")), max_concurrency=4)
    sockets = SocketGateway(runtime, port=0)
    sockets.start()
    gateway = Gateway(runtime, authorizer=CognitoAuthorizer(None), port=port, sockets=sockets)
    gateway.start()
    yield PushStack(sockets, gateway, endpoint)
    gateway.close()
    sockets.close()
    runtime.close()


@pytest.fixture
def pusher(push_stack: PushStack, override_settings: Callable[..., None]) -> Iterator[ModuleType]:
    """The pusher's handler in-process, posting to the test's @connections endpoint."""
    from fileshare.push import delivery

    override_settings(PUSH_ENDPOINT=push_stack.endpoint)
    delivery.client.cache_clear()
    yield load_handler("pusher")
    delivery.client.cache_clear()


@dataclass
class Client:
    """One browser's socket: every message it receives is queued."""

    socket: ClientConnection
    inbox: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    _reader: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for frame in self.socket:
                self.inbox.put(json.loads(frame))
        except Exception:  # noqa: S110 (closed: the test reads what arrived)
            pass

    def send(self, message: dict[str, Any]) -> None:
        self.socket.send(json.dumps(message))

    def next(self, timeout: float = 10) -> dict[str, Any]:
        return self.inbox.get(timeout=timeout)

    def until(self, kind: str, timeout: float = 10) -> list[dict[str, Any]]:
        """Every message up to and including the first of type ``kind``."""
        seen = []
        while True:
            message = self.next(timeout)
            seen.append(message)
            if message["type"] == kind:
                return seen

    def settled(self) -> list[dict[str, Any]]:
        """Everything sent to this socket so far: a ping's pong comes after whatever was posted to
        the connection before it (one ordered stream), so no sleeping is needed."""
        self.send({"action": "ping"})
        return self.until("pong")[:-1]

    def close(self) -> None:
        self.socket.close()


@dataclass
class Person:
    user: User
    token: str


@pytest.fixture(scope="module")
def cognito() -> Any:
    import boto3

    return boto3.client("cognito-idp", endpoint_url=os.environ["AWS_ENDPOINT_URL_COGNITO_IDP"],
                        region_name=os.environ.get("AWS_REGION", "us-east-1"),
                        aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture
def person(cognito: Any, world: World) -> Callable[[], Person]:
    """A confirmed Cognito user with an id token and a users row (their first API call)."""
    def make() -> Person:
        email, password = f"push-{uuid.uuid4().hex[:10]}@example.com", "Push!Passw0rd"
        client_id = os.environ["USER_POOL_CLIENT_ID"]
        cognito.sign_up(ClientId=client_id, Username=email, Password=password)
        cognito.admin_confirm_sign_up(UserPoolId=os.environ["USER_POOL_ID"], Username=email)
        token = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": email, "PASSWORD": password}
                                      )["AuthenticationResult"]["IdToken"]
        sub = jwt.decode(token, options={"verify_signature": False})["sub"]
        return Person(world.register(User(sub, email)), token)
    return make


@pytest.fixture
def open_socket(push_stack: PushStack) -> Iterator[Callable[..., Client]]:
    opened: list[Client] = []

    def make(token: str | None, *, resume: bool = True, cursor: int | None = None) -> Client:
        query = f"?{SOCKET_API.token_parameter}={token}" if token is not None else ""
        client = Client(connect(f"{push_stack.sockets.url}/{query}", open_timeout=10))
        opened.append(client)
        if resume:
            client.send({"action": "resume", "cursor": cursor})
            assert client.until("resumed")[-1]["type"] == "resumed"
        return client
    yield make
    for client in opened:
        client.close()


@pytest.fixture
def world(files_module: ModuleType, db: Any, opensearch: Any) -> World:
    return World(files_module, load_handler("sharing"), None, None, db, opensearch)


def kafka_event(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The MSK event carrying outbox rows as the publisher sends them (key, value, headers)."""
    records = [KafkaRecord(topic=settings().events_topic, partition=0, offset=i, timestamp=0,
                           timestamp_type=0, key=str(row["aggregate_id"]).encode(),
                           value=json.dumps(row["payload"]).encode(),
                           headers=[("event-type", row["type"].encode()),
                                    (SEQ_HEADER, str(row["seq"]).encode())])
               for i, row in enumerate(rows)]
    return msk_event(records, cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/local/local",
                     bootstrap="127.0.0.1:9092")


def outbox_after(db: Any, seq: int, *file_ids: str) -> list[dict[str, Any]]:
    """The rows written after ``seq`` about these files, published (as the relay would leave them)."""
    db.execute("UPDATE outbox SET published_at = now() WHERE seq > %s AND aggregate_id = ANY(%s)"
               " AND published_at IS NULL", (seq, list(file_ids)))
    return list(db.execute("SELECT seq, aggregate_id, type, payload FROM outbox WHERE seq > %s"
                           " AND aggregate_id = ANY(%s) ORDER BY seq", (seq, list(file_ids))).fetchall())


def newest_seq(db: Any) -> int:
    return int(db.execute("SELECT coalesce(max(seq), 0) AS s FROM outbox").fetchone()["s"])
