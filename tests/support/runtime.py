"""Start the local runtime (``localstack/serve.py``: API gateway + web page) for a test or the bench.

Tests run in the test namespace (``.local/test.env``), whose gateway port is :8081, so a
``make dev`` on :8080 (the dev namespace) is never reused nor collided with. If a gateway already
answers on the port (a test gateway someone started by hand), it is reused and left running;
otherwise one is started as a child process in its own session and stopped afterwards (only that
process group, which this helper created).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from infra.declaration import TEST_NAMESPACE
from lambdarun.environment import load_env_file

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVE = REPO_ROOT / "localstack" / "serve.py"
TEST_ENV = REPO_ROOT / ".local" / TEST_NAMESPACE.env_file_name  # written by `make up`
LOG_DIR = REPO_ROOT / ".local" / "logs"
GATEWAY_PORT = TEST_NAMESPACE.gateway_port
GATEWAY_URL = f"http://localhost:{GATEWAY_PORT}"
READY_PATHS = ("/_local/stats", "/health")
START_TIMEOUT_S = 60.0


class RuntimeUnavailableError(RuntimeError):
    """The local runtime is missing or did not come up."""


class GatewayBusyError(RuntimeUnavailableError):
    """Another gateway already serves the port, and the caller needs one of its own."""


@dataclass(frozen=True)
class Gateway:
    url: str
    started_here: bool  # False: an already running gateway was reused
    log_path: Path | None


def load_test_env(path: Path = TEST_ENV) -> dict[str, str]:
    """``.local/test.env`` (the test namespace's environment) as a dict; missing file -> {}."""
    return load_env_file(path)


def _ready(url: str) -> bool:
    for path in READY_PATHS:
        try:
            if requests.get(url + path, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            return False  # nothing listening (yet)
    return False


def _stop(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the group this helper created with start_new_session
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextmanager
def running_gateway(*, log_name: str = "serve-test", reuse: bool = True, args: Sequence[str] = (),
                    extra_env: dict[str, str] | None = None, port: int = GATEWAY_PORT) -> Iterator[Gateway]:
    """Yield a gateway on ``port`` (:8081, the test namespace's), starting ``serve.py [args]`` if none runs.

    With ``reuse=False`` a gateway already on the port is an error (its numbers would not be ours).
    Another ``port`` (a free one) gives a test a gateway of its own, started with ``--port``.
    """
    url = f"http://localhost:{port}"
    if _ready(url):
        if not reuse:
            raise GatewayBusyError(f"a gateway already answers on {url} (make dev?); stop it first")
        yield Gateway(url, started_here=False, log_path=None)
        return
    args = [*args, "--port", str(port)]
    if not SERVE.exists():
        raise RuntimeUnavailableError(f"{SERVE.relative_to(REPO_ROOT)} does not exist yet")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{log_name}.log"
    env = {**os.environ, **load_test_env(), **(extra_env or {})}
    if "--env-file" not in args:
        args = [*args, "--env-file", str(TEST_ENV)]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, str(SERVE), *args], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _ready(url):
            if proc.poll() is not None:
                raise RuntimeUnavailableError(
                    f"serve.py exited with {proc.returncode}; see {log_path}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise RuntimeUnavailableError(
                    f"gateway not ready after {START_TIMEOUT_S:.0f} s; see {log_path}:\n{_tail(log_path)}")
            time.sleep(0.2)
        yield Gateway(url, started_here=True, log_path=log_path)
    finally:
        _stop(proc)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
