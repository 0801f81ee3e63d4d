"""The ``fileshare`` command (cli/) against the live local stack, run as a user runs it: the installed
console script in a subprocess, with its own config and state dirs (``XDG_CONFIG_HOME``,
``XDG_STATE_HOME``).

Given a gateway of its own (``serve.py --no-sources`` on a free port, the test namespace's services,
multipart from 5 MiB in 5 MiB parts) and two accounts registered through the API (codes from
LocalStack's SES), when the command logs in (and out), uploads a small file (presigned POST) and a large one
(multipart, parallel parts), lists, searches, shares, links, downloads and trashes, then every step
exits 0 with the JSON the API documents and the bytes come back the same; failures exit with their
class's code (usage 2, auth 3, not found 4, conflict 5). The session is refreshed before its id
token expires and after a refused one. An upload killed (SIGKILL) or interrupted (SIGINT: exit 130)
after some parts is run again and completes with the right bytes, sending only the parts S3 did not
hold.

Files become ``ready`` by the processor handler invoked here with the S3 notification of their
object (the gateway runs no pollers: another checkout's pollers on the shared test namespace would
race for the queue's messages).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from fileshare_cli import config
from fileshare_cli.transfer import UploadState, state_path
from tests.support import mailbox
from tests.support.pipeline import failed_ids, free_port, invoke, s3_notification, sqs_event
from tests.support.runtime import TEST_ENV, Gateway, running_gateway

PASSWORD = "Correct-Horse-9"
MIB = 1024 * 1024
PART = 5 * MIB  # S3's smallest part; the gateway's threshold and part size for these tests
GATEWAY_ENV = {"MULTIPART_THRESHOLD_BYTES": str(PART), "MULTIPART_PART_BYTES": str(PART)}
EXECUTABLE = Path(sys.executable).with_name("fileshare")  # cli/, editable (dev group)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        return dict(json.loads(self.stderr.strip().splitlines()[-1])["error"])


@dataclass
class Terminal:
    """One user's shell: the command with its own config and state dirs."""

    home: Path
    api: str

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FILESHARE_")}
        return {**env, "XDG_CONFIG_HOME": str(self.home / "config"),
                "XDG_STATE_HOME": str(self.home / "state")}

    def argv(self, *args: str) -> list[str]:
        return [str(EXECUTABLE), *args]

    def run(self, *args: str, stdin: str | None = None, timeout: float = 300) -> Run:
        done = subprocess.run(self.argv(*args), input=stdin, capture_output=True, text=True, env=self.env,
                              timeout=timeout, check=False)
        return Run(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, stdin: str | None = None) -> Any:
        run = self.run("--json", *args, stdin=stdin)
        assert run.code == 0, f"fileshare {' '.join(args)} exited {run.code}: {run.stderr}"
        return run.json()

    def state_files(self) -> list[Path]:
        return sorted((self.home / "state" / "fileshare" / "uploads").glob("*.json"))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    if not TEST_ENV.exists() or not os.environ.get("USER_POOL_CLIENT_ID"):
        pytest.fail("the local stack is not up (.local/test.env): run `make up`")
    assert EXECUTABLE.exists(), f"{EXECUTABLE} is missing: pip install -e ./cli (make venv installs it)"
    port = free_port()
    env = {**GATEWAY_ENV, "PUBLIC_BASE_URL": f"http://localhost:{port}"}  # the links it makes point at it
    env_file = tmp_path_factory.mktemp("cli") / "stack.env"
    env_file.write_text(TEST_ENV.read_text() + "\n" + "".join(f"{k}={v}\n" for k, v in env.items()))
    with running_gateway(log_name="serve-cli", reuse=False, port=port,
                         args=["--no-sources", "--env-file", str(env_file)], extra_env=env) as gw:
        yield gw


def _register(url: str, tag: str) -> str:
    email = f"cli-{tag}-{uuid.uuid4().hex[:12]}@example.com"
    created = requests.post(f"{url}/auth/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert created.status_code == 201, created.text
    code = mailbox.confirmation_code(email)
    confirmed = requests.post(f"{url}/auth/confirm", json={"email": email, "code": code}, timeout=30)
    assert confirmed.status_code == 200, confirmed.text
    return email


@pytest.fixture(scope="module")
def accounts(gateway: Gateway) -> tuple[str, str]:
    return _register(gateway.url, "alice"), _register(gateway.url, "bob")


@pytest.fixture
def terminal(gateway: Gateway, accounts: tuple[str, str], tmp_path: Path) -> Terminal:
    """Alice's shell, logged in (the API saved as her default by `login --api`)."""
    shell = Terminal(tmp_path / "home", gateway.url)
    shell.ok("--api", gateway.url, "login", "--email", accounts[0], "--password-stdin", stdin=PASSWORD + "\n")
    return shell


def _process(file: dict[str, Any]) -> None:
    """Run the processor on the file's object, as its S3 notification would (a failed record is
    delivered again, as SQS does: on this shared machine OpenSearch sometimes misses its 3 s budget)."""
    from fileshare.adapters.aws import client
    from fileshare.config import settings

    bucket = settings().upload_bucket
    prefix = f"u/{file['owner_id']}/{file['file_id']}/"
    objects = client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    assert len(objects) == 1, objects
    event = sqs_event(s3_notification(bucket, objects[0]["Key"], objects[0]["Size"]))
    for _ in range(3):
        if not failed_ids(invoke("processor", event)):
            return
    raise AssertionError(f"the processor failed on {objects[0]['Key']} three times")


def _write(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def test_a_session_from_login_to_trash(terminal: Terminal, accounts: tuple[str, str], tmp_path: Path) -> None:
    # Given: the session file is private
    sessions = terminal.home / "config" / "fileshare" / "sessions.json"
    assert stat.S_IMODE(sessions.stat().st_mode) == 0o600
    assert terminal.ok("whoami")["email"] == accounts[0]
    assert terminal.ok("ls") == {"items": [], "next_cursor": None}

    # When: a small file goes up in one presigned POST, a large one in parallel parts
    word = f"cli{uuid.uuid4().hex[:8]}"
    small_bytes = _write(tmp_path / f"{word} notes.txt", 3000)
    small = terminal.ok("upload", str(tmp_path / f"{word} notes.txt"), "--tag", "cli")
    assert small["method"] == "POST" and small["file"]["size"] == 3000
    assert small["file"]["tags"] == ["cli"] and small["file"]["content_type"] == "text/plain"
    large_bytes = _write(tmp_path / "image.bin", 2 * PART + 12345)
    large = terminal.ok("upload", str(tmp_path / "image.bin"), "--parallel", "3")
    assert (large["method"], large["parts_sent"], large["parts_total"]) == ("MULTIPART", 3, 3)
    assert large["resumed"] is False
    assert terminal.state_files() == []  # a finished upload leaves no state behind
    for created in (small, large):
        _process(created["file"])

    # Then: both are listed and ready, the small one is found by a word of its name
    listed = {item["file"]["file_id"]: item["file"] for item in terminal.ok("ls")["items"]}
    assert {small["file"]["file_id"], large["file"]["file_id"]} == set(listed)
    assert {f["status"] for f in listed.values()} == {"ready"}
    found: list[Any] = []
    for _ in range(50):  # the index refreshes about once a second
        found = [f["file_id"] for f in terminal.ok("search", word)["items"]]
        if found:
            break
        time.sleep(0.2)
    assert found == [small["file"]["file_id"]]

    # And: the bytes come back the same, to a file and to stdout
    got = terminal.ok("download", large["file"]["file_id"], "-o", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == large_bytes
    assert got["sha256"] == hashlib.sha256(large_bytes).hexdigest() and got["size"] == len(large_bytes)
    streamed = subprocess.run(terminal.argv("download", small["file"]["file_id"], "-o", "-"),
                              env=terminal.env, capture_output=True, timeout=60, check=False)
    assert streamed.returncode == 0 and streamed.stdout == small_bytes
    refused = terminal.run("download", large["file"]["file_id"], "-o", str(tmp_path / "back.bin"))
    assert refused.code == 2  # an existing file is replaced only with --force

    # And: sharing with Bob, and a public link with a password that serves the same bytes
    shared = terminal.ok("share", small["file"]["file_id"], accounts[1])
    assert (shared["email"], shared["permission"]) == (accounts[1], "viewer")
    bob = Terminal(tmp_path / "bob", terminal.api)
    bob.ok("--api", terminal.api, "login", "--email", accounts[1], "--password-stdin", stdin=PASSWORD + "\n")
    assert [f["file_id"] for f in bob.ok("ls", "--shared")["items"]] == [small["file"]["file_id"]]
    assert bob.ok("logout") == {"logged_out": True}
    assert bob.run("ls").code == 3  # the session is gone
    link = terminal.ok("link", small["file"]["file_id"], "--expires-in", "1h", "--max-downloads", "3",
                       "--password-stdin", stdin="Link-Secret-1\n")
    assert link["has_password"] is True and link["max_downloads"] == 3
    assert requests.get(link["url"], headers={"Accept": "application/json"}, timeout=30,
                        allow_redirects=False).status_code == 401
    opened = requests.get(link["url"], timeout=30,
                          headers={"Accept": "application/json", "X-Link-Password": "Link-Secret-1"})
    assert opened.status_code == 200 and opened.content == small_bytes

    # And: trash takes the file out of the list and out of reach
    assert terminal.ok("trash", small["file"]["file_id"]) == {"trashed": [small["file"]["file_id"]]}
    assert [f["file_id"] for f in terminal.ok("trash", "--list")["items"]] == [small["file"]["file_id"]]
    trashed = terminal.run("--json", "download", small["file"]["file_id"], "-o", str(tmp_path / "gone.txt"))
    assert (trashed.code, trashed.error()["code"]) == (5, "file_not_ready")  # a conflict: restore it first
    assert not (tmp_path / "gone.txt").exists()


def test_failures_exit_with_their_class(terminal: Terminal, gateway: Gateway, accounts: tuple[str, str],
                                        tmp_path: Path) -> None:
    missing = str(uuid.uuid4())
    run = terminal.run("--json", "download", missing)
    assert (run.code, run.error()["code"], run.error()["exit_code"]) == (4, "file_not_found", 4)
    assert terminal.run("--json", "share", missing, accounts[1]).code == 4
    assert terminal.run("download", "not-a-uuid").code == 2
    assert terminal.run("link", missing, "--expires-in", "soon").code == 2
    assert terminal.run("--json", "link", missing, "--expires-in", "5s").code == 2  # the API's least: 60 s
    stranger = Terminal(tmp_path / "stranger", gateway.url)
    logged_out = stranger.run("--json", "--api", gateway.url, "ls")
    assert (logged_out.code, logged_out.error()["code"]) == (3, "not_logged_in")
    wrong = stranger.run("--json", "--api", gateway.url, "login", "--email", accounts[0], "--password-stdin",
                         stdin="Wrong-Password-1\n")
    assert wrong.code == 3 and wrong.error()["status"] == 401
    no_api = Terminal(tmp_path / "nowhere", "").run("--json", "ls")
    assert (no_api.code, no_api.error()["code"]) == (2, "no_api")
    assert "Exit codes:" in terminal.run("--help").stdout


@pytest.mark.parametrize(("stop", "exit_code"), [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)],
                         ids=["killed", "ctrl-c"])
def test_an_upload_stopped_after_some_parts_resumes_where_it_stopped(
        terminal: Terminal, tmp_path: Path, stop: signal.Signals, exit_code: int) -> None:
    # Given: a 12-part upload, one part at a time
    source = tmp_path / "big.bin"
    data = _write(source, 11 * PART + 777)
    proc = subprocess.Popen(terminal.argv("--json", "upload", str(source), "--parallel", "1"),
                            env=terminal.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    # When: it is killed (no chance to clean up) or interrupted once its state file records a part
    recorded: dict[str, Any] = {}
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        states = terminal.state_files()
        if states:
            try:
                recorded = json.loads(states[0].read_text())
            except ValueError:
                recorded = {}  # never half-written (atomic rename), but be sure
            if recorded.get("parts"):
                proc.send_signal(stop)
                break
        time.sleep(0.01)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == exit_code, f"the upload was not stopped: {err.decode()}"
    recorded = json.loads(terminal.state_files()[0].read_text())  # what it had written when it stopped
    assert 0 < len(recorded["parts"]) < 12

    # Then: the same command continues it, sends only what S3 does not hold, and completes
    resumed = terminal.ok("upload", str(source), "--parallel", "4")
    assert resumed["resumed"] is True and resumed["file"]["file_id"] == recorded["file_id"]
    assert resumed["parts_total"] == 12 and resumed["parts_sent"] <= 12 - len(recorded["parts"])
    assert terminal.state_files() == []
    _process(resumed["file"])
    back = terminal.ok("download", recorded["file_id"], "-o", str(tmp_path / "back.bin"))
    assert back["sha256"] == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "back.bin").read_bytes() == data


def test_the_session_is_refreshed_before_it_expires_and_after_a_refused_token(terminal: Terminal) -> None:
    sessions = terminal.home / "config" / "fileshare" / "sessions.json"

    def session() -> dict[str, Any]:
        return dict(json.loads(sessions.read_text())[terminal.api])

    def rewrite(**changes: Any) -> None:
        sessions.write_text(json.dumps({terminal.api: {**session(), **changes}}))

    # Given: a session whose id token is about to expire
    rewrite(expires_at=time.time() + 5)
    # When: a command runs, then the id token is refreshed first (and saved, still 0600)
    assert terminal.ok("whoami")["email"] == session()["email"]
    assert session()["expires_at"] > time.time() + 600
    assert stat.S_IMODE(sessions.stat().st_mode) == 0o600
    # Given: an id token the API refuses although it has not expired (revoked, tampered)
    rewrite(id_token="not-a-token")
    # Then: the 401 makes the command refresh once and try again
    assert terminal.ok("whoami")["email"] == session()["email"]
    assert session()["id_token"] != "not-a-token"
    # And: a refresh token the API refuses ends the session with the auth exit code
    rewrite(id_token="not-a-token", refresh_token="not-a-refresh-token")
    ended = terminal.run("--json", "whoami")
    assert (ended.code, ended.error()["code"]) == (3, "session_expired")


def test_an_upload_stopped_after_it_completed_is_not_sent_again(
        terminal: Terminal, accounts: tuple[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a finished multipart upload whose state file is still there (stopped right after complete)
    source = tmp_path / "done.bin"
    _write(source, PART + 1)
    first = terminal.ok("upload", str(source))
    monkeypatch.setenv("XDG_STATE_HOME", str(terminal.home / "state"))
    account = SimpleNamespace(base_url=terminal.api, session=SimpleNamespace(email=accounts[0]))
    left_over = state_path(account, source)  # type: ignore[arg-type]
    state = UploadState(first["file"]["file_id"], "gone", PART, 2, PART + 1, str(source.resolve()))
    config.write_private(left_over, state.to_json())
    # When: the same upload runs again
    again = terminal.ok("upload", str(source))
    # Then: it is the same file, nothing was sent, and the state is gone
    assert again["file"]["file_id"] == first["file"]["file_id"]
    assert (again["resumed"], again["parts_sent"]) == (True, 0)
    assert terminal.state_files() == []
