"""The whole local stack keeps a user's data across a stop of every service (issue 15, part 4).

Through the real gateway (``localstack/serve.py`` on a port of its own): a new user registers,
confirms with the mailed code and logs in; uploads three files (presigned POST to S3, processed by
the pipeline), shares one with a second user and makes a public link to it; search finds them; and
a fourth file is uploaded just before the stop, so its S3 event is still in the queue (or in
flight). Then the gateway and every service of the stack are stopped, with SIGTERM (``make
down``) or, in the second test, SIGKILL of every process group (a crash), and started again with
``make up`` (``localstack/manage.py up``) and a new gateway. Afterwards:

- the pool and client ids in ``.local/stack.env`` are unchanged; both users log in with the same
  passwords and keep their Cognito ``sub``;
- every file downloads with the same bytes, the fourth one became ready; search finds all four;
  the shared file is still in the second user's "shared with me"; the link still downloads;
- no notification is lost or repeated: one ``file.ready`` inbox item per file, one
  ``share.created`` for the second user, and the mails are those of before plus the fourth file's;
  on Kafka every expected event is there under one event id (a redelivered copy of the same id,
  which the consumers absorb, is allowed; a second id for the same fact is not).

This stops the SHARED stack, so it is not part of the main pytest run: ``make test`` runs it as its
last step (``FILESHARE_STACK_RESTART=1 pytest tests/restart``; see ``tests/conftest.py``). Run it
alone with ``make test-restart`` when nobody else uses the stack.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from lambdarun.environment import load_env_file
from stackctl.paths import RUN_DIR, STACK_ENV_FILE
from tests.bench.common import PASSWORD, Client, User, jwt_subject, register_and_login
from tests.bench.uploads import Payload, send_to_s3
from tests.support import mailbox
from tests.support.pipeline import end_offsets, records_since
from tests.support.runtime import TEST_ENV

REPO = Path(__file__).resolve().parents[2]
MANAGE = REPO / "localstack" / "manage.py"
SERVE = REPO / "localstack" / "serve.py"
LOG_DIR = REPO / ".local" / "logs"
SERVICES = ("localstack", "cognito", "postgres", "redis", "kafka", "opensearch", "zipkin")
LIMIT_S = 240.0  # waiting for the pipeline after a restart; an in-flight SQS record returns after 60 s
pytestmark = [pytest.mark.fault, pytest.mark.timeout(1800)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """The environment without what tests/conftest.py loaded from test.env (or a shell from
    stack.env): with those set, ``make up`` would treat every service as "reused" and start nothing."""
    loaded = [load_env_file(STACK_ENV_FILE), load_env_file(TEST_ENV)]
    return {k: v for k, v in os.environ.items() if all(env.get(k) != v for env in loaded)}


def _pool_ids() -> dict[str, str]:
    """Both namespaces' user pool and client ids (they must survive the restart)."""
    return {f"{path.name}:{key}": value for path in (STACK_ENV_FILE, TEST_ENV)
            for key, value in load_env_file(path).items() if key in ("USER_POOL_ID", "USER_POOL_CLIENT_ID")}


def _manage(*args: str) -> str:
    result = subprocess.run([sys.executable, str(MANAGE), *args], cwd=REPO, env=_clean_env(),
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class Gateway:
    """``serve.py`` (API + pollers + schedules) of the test namespace on a free port, in its own
    process group."""

    def __init__(self, name: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log = LOG_DIR / f"{name}.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(SERVE), "--port", str(self.port), "--env-file", str(TEST_ENV)], cwd=REPO,
                # one notice per upload (bursts off): this test counts notices per file across a restart;
                # a burst's one notice is tests/integration/events/test_notice_bursts.py
                env={**_clean_env(), **load_env_file(TEST_ENV), "UPLOAD_NOTICE_WINDOW_SECONDS": "0"},
                stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            assert self.process.poll() is None, f"serve.py exited; see {self.log}"
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            assert time.monotonic() < deadline, f"serve.py not ready after 90 s; see {self.log}"
            time.sleep(0.3)

    def stop(self, sig: int) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            self.process.wait(timeout=60)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_stack() -> None:
    """A crash of every service: SIGKILL to each one's process group, as recorded at spawn."""
    groups = []
    for name in SERVICES:
        with contextlib.suppress(FileNotFoundError, ValueError):
            pid = int((RUN_DIR / f"{name}.pid").read_text().strip())
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
                groups.append(pid)
    deadline = time.monotonic() + 30
    while any(_group_alive(g) for g in groups):
        assert time.monotonic() < deadline, "a service survived SIGKILL"
        time.sleep(0.1)


@dataclass
class World:
    alice: User
    bob: User
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> bytes
    names: dict[str, str] = field(default_factory=dict)  # file_id -> name
    shared_id: str = ""
    link_token: str = ""
    late_id: str = ""
    word: str = ""
    mail_ids: set[str] = field(default_factory=set)  # every mail to either user before the stop


def _upload(client: Client, user: User, payload: Payload) -> str:
    created = client.call("POST", "POST /files", "/files", token=user.token, expect=(201,), body={
        "name": payload.name, "size": len(payload.data), "content_type": payload.content_type})
    send_to_s3(client.session(), created["upload"], payload)
    return str(created["file_id"])


def _until(what: str, check: Any, limit_s: float = LIMIT_S) -> Any:
    deadline = time.monotonic() + limit_s
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} did not happen within {limit_s:.0f} s"
        time.sleep(1.0)  # one poll a second stays under the per-user limit (100 requests a minute)


def _status(client: Client, user: User, file_id: str, *, polling: bool = False) -> str:
    """The file's status; while polling, a 429 (the consumers' replay after a restart can make the
    wait long) is "not yet" rather than a failure."""
    body = client.call("GET", "GET /files/{id}", f"/files/{file_id}", token=user.token,
                       expect=(200, 429) if polling else (200,))
    return str(body.get("status", "")) if isinstance(body, dict) else ""


def _notifications(client: Client, user: User) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.call("GET", "GET /notifications", "/notifications?limit=100",
                                              token=user.token)["items"]
    return items


def _mails(address: str, *words: str) -> list[dict[str, Any]]:
    """Mails to ``address`` whose subject has every one of ``words`` (names are quoted in them)."""
    return [m for m in mailbox.messages_to(address) if all(w in str(m.get("Subject", "")) for w in words)]


def _download(client: Client, user: User, file_id: str) -> bytes:
    url = client.call("GET", "GET /files/{id}/download", f"/files/{file_id}/download",
                      token=user.token)["url"]
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.content


def _open_link(client: Client, token: str) -> bytes:
    response = client.request("GET", "GET /s/{token}", f"/s/{token}")
    assert response.status_code == 302, response.text[:300]
    return requests.get(response.headers["Location"], timeout=30).content


def _search(client: Client, user: User, word: str) -> set[str]:
    items = client.call("GET", "GET /search", f"/search?q={word}", token=user.token)["items"]
    return {str(i["file_id"]) for i in items}


def _before(client: Client) -> World:
    word = f"restart{uuid.uuid4().hex[:8]}"
    alice = register_and_login(client, f"{word}-alice@example.com")
    bob = register_and_login(client, f"{word}-bob@example.com")
    world = World(alice, bob, word=word)
    for name, content_type, data in (
        (f"{word}-notes.txt", "text/plain", f"notes {word}\n".encode() * 400),
        (f"{word}-report.pdf", "application/pdf", b"%PDF-1.7\n" + os.urandom(30_000) + b"\n%%EOF\n"),
        (f"{word}-data.bin", "application/octet-stream", os.urandom(300_000)),
    ):
        file_id = _upload(client, alice, Payload("x", name, content_type, data))
        world.files[file_id], world.names[file_id] = data, name
    for file_id in world.files:
        _until(f"{file_id} ready", lambda f=file_id: _status(client, alice, f, polling=True) == "ready")
    world.shared_id = next(iter(world.files))
    client.call("POST", "POST /files/{id}/shares", f"/files/{world.shared_id}/shares", token=alice.token,
                body={"email": bob.email}, expect=(201,))
    link = client.call("POST", "POST /files/{id}/links", f"/files/{world.shared_id}/links", token=alice.token,
                       body={}, expect=(201,))
    world.link_token = str(link["url"]).rsplit("/s/", 1)[1]
    assert _open_link(client, world.link_token) == world.files[world.shared_id]
    _until("search finds the files", lambda: _search(client, alice, word) >= set(world.files))
    _until("every ready and share notification", lambda: (
        {n["file_id"] for n in _notifications(client, alice) if n["type"] == "file.ready"} >= set(world.files)
        and any(n["type"] == "share.created" for n in _notifications(client, bob))))
    _until("the ready and share mails", lambda: all(
        _mails(alice.email, name, "is ready") for name in world.names.values())
        and _mails(bob.email, "shared", world.names[world.shared_id]))
    world.mail_ids = {m["Id"] for m in _mails(alice.email) + _mails(bob.email)}
    # The fourth file: its bytes reach S3 right before the stop (its event is queued or in flight).
    late = f"late {word}\n".encode() * 100
    world.late_id = _upload(client, alice, Payload("x", f"{word}-late.txt", "text/plain", late))
    world.files[world.late_id], world.names[world.late_id] = late, f"{word}-late.txt"
    return world


def _after(client: Client, world: World) -> None:
    login = client.call("POST", "POST /auth/login", "/auth/login",
                        body={"email": world.alice.email, "password": PASSWORD})
    assert jwt_subject(login["id_token"]) == world.alice.user_id
    alice = User(world.alice.email, login["id_token"], world.alice.user_id)
    login = client.call("POST", "POST /auth/login", "/auth/login",
                        body={"email": world.bob.email, "password": PASSWORD})
    assert jwt_subject(login["id_token"]) == world.bob.user_id
    bob = User(world.bob.email, login["id_token"], world.bob.user_id)

    _until("the late file ready", lambda: _status(client, alice, world.late_id, polling=True) == "ready")
    for file_id, data in world.files.items():
        assert _status(client, alice, file_id) == "ready"
        assert _download(client, alice, file_id) == data, file_id
    shared = client.call("GET", "GET /shared-with-me", "/shared-with-me", token=bob.token)["items"]
    assert world.shared_id in {str(i["file_id"]) for i in shared}
    assert _download(client, bob, world.shared_id) == world.files[world.shared_id]
    assert _open_link(client, world.link_token) == world.files[world.shared_id]
    _until("search finds all four files", lambda: _search(client, alice, world.word) >= set(world.files))

    _until("the late file's notification", lambda: world.late_id in
           {n["file_id"] for n in _notifications(client, alice) if n["type"] == "file.ready"})
    time.sleep(5)  # a repeated delivery would show up by now
    ready = [n["file_id"] for n in _notifications(client, alice) if n["type"] == "file.ready"]
    assert sorted(ready) == sorted(world.files), "a file.ready notification was lost or repeated"
    shares = [n for n in _notifications(client, bob) if n["type"] == "share.created"]
    assert len(shares) == 1, shares
    _until("the late file's mail", lambda: _mails(alice.email, world.names[world.late_id], "is ready"))
    # The mailbox kept every mail of before the stop; each fact was mailed exactly once.
    assert world.mail_ids <= {m["Id"] for m in _mails(alice.email) + _mails(bob.email)}
    for name in world.names.values():
        assert len(_mails(alice.email, name, "is ready")) == 1, name
    assert len(_mails(bob.email, "shared", world.names[world.shared_id])) == 1


def _kafka_events(since: dict[int, int], world: World) -> dict[str, dict[str, set[str]]]:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    topic = os.environ.get("EVENTS_TOPIC", "fileshare.events")
    found: dict[str, dict[str, set[str]]] = {}
    for file_id in world.files:
        for record in records_since(bootstrap, topic, since, key=file_id):
            value = json.loads(record.value)
            found.setdefault(file_id, {}).setdefault(value["type"], set()).add(str(value["id"]))
    return found


def _restart_old_localstack() -> None:
    """A LocalStack started by a checkout from before it kept its state (no ``aws_state.py`` on
    its command line) would lose this test's data at the stop: restart it the current way first."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int((RUN_DIR / "localstack.pid").read_text().strip())
        if b"aws_state.py" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            _manage("down", "--only", "localstack")
            _manage("up")


@pytest.fixture
def stack_back_up() -> Iterator[None]:
    """Whatever happens, the shared stack is up again afterwards."""
    try:
        yield
    finally:
        _manage("up")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_everything_survives_a_stop_of_every_service(sig: int, stack_back_up: None) -> None:
    _manage("up")
    _restart_old_localstack()
    ids_before = _pool_ids()
    assert len(ids_before) == 4, ids_before
    since = end_offsets(os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                        os.environ.get("EVENTS_TOPIC", "fileshare.events"))
    gateway = Gateway(f"restart-test-{signal.Signals(sig).name.lower()}")
    try:
        world = _before(Client(gateway.url))
        if sig == signal.SIGKILL:
            time.sleep(2)  # the "at most the last second" a crash may lose is not what is tested here
    finally:
        gateway.stop(sig)
    if sig == signal.SIGTERM:
        _manage("down")
        left = [n for n in SERVICES if (RUN_DIR / f"{n}.pid").exists()]
        assert not left, f"make down left {left} running"
    else:
        _kill_stack()

    _manage("up")
    assert _pool_ids() == ids_before, "a user pool or client id changed"
    gateway = Gateway(f"restart-test-{signal.Signals(sig).name.lower()}-after")
    try:
        _after(Client(gateway.url), world)
    finally:
        gateway.stop(signal.SIGTERM)

    events = _kafka_events(since, world)
    for file_id in world.files:
        assert len(events.get(file_id, {}).get("file.ready", set())) == 1, (file_id, events.get(file_id))
    shared = events.get(world.shared_id, {})
    assert len(shared.get("share.created", set())) == 1, shared
    assert len(shared.get("link.created", set())) == 1, shared
