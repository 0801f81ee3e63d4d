"""Push delivery latency: an event's commit (with its inline publish, as the processor does) -> the
change on every connected client's socket.

    .venv/bin/python tests/bench/push.py [--events 100] [--rate 10] [--clients 1,50]

For each client count, a fresh Cognito user opens that many sockets to a local WebSocket API of the
bench's own (``lambdarun.sockets`` in front of the pusher's worker processes, the ``@connections`` API
on a gateway of its own port), the pusher consuming ``fileshare.events`` through the runtime's MSK
poller with a private consumer group. Events (``file.ready`` of the user) are written to the outbox
and published inline at a steady ``rate``; latency per (event, client) = the time the client read it
minus the commit, one machine, one clock. One warm-up event is sent first and left out (the worker's
cold start). Nothing is asserted; numbers are printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
for extra in (REPO_ROOT, REPO_ROOT / "layers" / "shared" / "python", REPO_ROOT / "localstack"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from tests.bench.common import percentile  # noqa: E402
from tests.support.runtime import load_test_env  # noqa: E402


def _user(env: dict[str, str]) -> tuple[str, str, str]:
    """(user id, email, id token) of a fresh confirmed user with a users row."""
    import boto3
    import jwt
    import psycopg

    cognito = boto3.client("cognito-idp", endpoint_url=env["AWS_ENDPOINT_URL_COGNITO_IDP"],
                           region_name=env.get("AWS_REGION", "us-east-1"), aws_access_key_id="test",
                           aws_secret_access_key="test")
    email, password = f"bench-push-{uuid.uuid4().hex[:8]}@example.com", "Bench!Passw0rd"
    cognito.sign_up(ClientId=env["USER_POOL_CLIENT_ID"], Username=email, Password=password)
    cognito.admin_confirm_sign_up(UserPoolId=env["USER_POOL_ID"], Username=email)
    token = cognito.initiate_auth(ClientId=env["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": email, "PASSWORD": password}
                                  )["AuthenticationResult"]["IdToken"]
    sub = jwt.decode(token, options={"verify_signature": False})["sub"]
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, 0)"
                     " ON CONFLICT DO NOTHING", (sub, email))
    return sub, email, token


class _Reader:
    """One client's socket: the time each change (by file id) arrived."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.socket = connect(url, open_timeout=30, max_size=None)
        self.arrived: dict[str, float] = {}
        self.socket.send(json.dumps({"action": "resume", "cursor": None}))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for frame in self.socket:
                now = time.time()
                message = json.loads(frame)
                if message.get("type") == "change":
                    self.arrived.setdefault(message["file_id"], now)
        except Exception:  # noqa: S110 (closed at the end of the run)
            pass


def _emit(owner: str) -> tuple[str, float]:
    """One ``file.ready`` committed with its outbox row, then published inline; (file id, commit time)."""
    from fileshare import event_types, events
    from fileshare.db.connection import transaction

    file_id = uuid.uuid4()
    with transaction() as conn:
        events.record(conn, event_types.Event(type=event_types.EventType.FILE_READY, file_id=file_id,
                                              owner_id=owner, data={"name": "bench.txt"}))
    committed = time.time()
    events.publish_now([file_id])
    return str(file_id), committed


def measure(clients: int, count: int, rate: float, env: dict[str, str]) -> dict[str, Any]:
    from infra.declaration import SOCKET_API, KafkaTrigger, by_name
    from lambdarun.auth import CognitoAuthorizer
    from lambdarun.gateway import Gateway
    from lambdarun.runtime import Runtime
    from lambdarun.sockets import SocketGateway
    from lambdarun.sources.kafka import KafkaPoller
    from tests.support.pipeline import free_port

    port = free_port()
    base = {**env, "PUSH_ENDPOINT": f"http://127.0.0.1:{port}/_ws/{SOCKET_API.stage}"}
    function = by_name("pusher")
    [declared] = function.triggers
    assert isinstance(declared, KafkaTrigger)
    trigger = replace(declared, topic=env.get("EVENTS_TOPIC", declared.topic),  # the namespace's topic
                      consumer_group=f"bench-pusher-{uuid.uuid4().hex[:8]}", starting_position="LATEST")
    log_dir = REPO_ROOT / ".local" / "logs" / "bench-push"
    runtime = Runtime([function], base_env=base, log_dir=log_dir, max_concurrency=4)
    sockets = SocketGateway(runtime, port=0)
    gateway = Gateway(runtime, authorizer=CognitoAuthorizer(None), port=port, sockets=sockets)
    poller = KafkaPoller(runtime.invoke, function.name, trigger, bootstrap=env["KAFKA_BOOTSTRAP_SERVERS"],
                         aws_region="us-east-1")
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    readers: list[_Reader] = []
    try:
        sockets.start()
        gateway.start()
        poller.connect()
        poller.join(limit_s=30)
        thread.start()
        owner, _, token = _user(env)
        readers = [_Reader(f"{sockets.url}/?token={token}") for _ in range(clients)]
        warm, _ = _emit(owner)
        deadline = time.time() + 60
        while time.time() < deadline and not all(warm in r.arrived for r in readers):
            time.sleep(0.05)
        sent: dict[str, float] = {}
        for _ in range(count):
            file_id, committed = _emit(owner)
            sent[file_id] = committed
            time.sleep(1 / rate)
        deadline = time.time() + 60
        while time.time() < deadline and not all(set(sent) <= set(r.arrived) for r in readers):
            time.sleep(0.05)
        latencies = [(r.arrived[f] - t) * 1000 for r in readers for f, t in sent.items() if f in r.arrived]
        return {"clients": clients, "events": count, "rate_per_s": rate,
                "delivered": len(latencies), "expected": clients * count,
                "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
                "max_ms": round(max(latencies), 2) if latencies else None}
    finally:
        from fileshare.db.connection import pool

        for reader in readers:
            reader.socket.close()
        if pool.cache_info().currsize:
            pool().close()
            pool.cache_clear()
        stop.set()
        thread.join(timeout=10)
        gateway.close()
        sockets.close()
        runtime.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--clients", default="1,50")
    args = parser.parse_args(argv)
    env = {**load_test_env(), **{k: v for k, v in os.environ.items() if k.startswith("FILESHARE_IAM")}}
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    results = [measure(int(n), args.events, args.rate, env) for n in args.clients.split(",")]
    print(json.dumps({"push_delivery": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
