"""Worker processes per function: cold start on first use, warm reuse, timeouts and crashes.

Each function has a small pool of execution environments (one OS process each, started with the
function's own environment). A pool grows on demand up to ``max_concurrency`` and keeps idle
workers warm. A timeout or a dead process is reported the way Lambda reports it and the worker is
replaced by a fresh (cold) one on the next invoke; an exception raised by the handler is reported
per invocation and, as in Lambda, leaves the environment warm.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from infra.declaration import REPO_ROOT, Function
from lambdarun.environment import function_arn, function_env
from lambdarun.stats import RuntimeStats

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
LAYER_DIR = REPO_ROOT / "layers" / "shared" / "python"
INIT_LIMIT_S = 10.0  # Lambda's init phase limit, on top of the function timeout on a cold start


@dataclass
class Invocation:
    """The outcome of one invoke, as Lambda would report it."""

    function: str
    request_id: str
    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    cold: bool = False
    init_ms: float | None = None  # Lambda's Init Duration: process start + handler import
    import_ms: float | None = None  # the handler module's import alone
    duration_ms: float = 0.0
    max_memory_mb: float = 0.0

    @property
    def billed_ms(self) -> int:
        return max(1, math.ceil(self.duration_ms))

    @property
    def payload(self) -> Any:
        """What Lambda's Invoke API returns: the result, or the error object."""
        return self.result if self.ok else self.error


#: How event sources call a function: ``invoke(name, event)`` (``Runtime.invoke``).
Invoke = Callable[[str, Any], Invocation]


class WorkerGoneError(Exception):
    """The worker process exited while we waited for its reply."""


class Worker:
    """One execution environment: a child process and the two pipes to talk to it."""

    def __init__(self, fn: Function, code_dir: Path, env: Mapping[str, str], log_file: IO[bytes],
                 python: str) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.log_stream = stream
        try:
            self.process = subprocess.Popen(
                [python, str(WORKER_SCRIPT), str(code_dir), str(LAYER_DIR), fn.handler,
                 str(request_read), str(reply_write)],
                pass_fds=(request_read, reply_write),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**env, "AWS_LAMBDA_LOG_STREAM_NAME": stream},
                cwd=code_dir,
            )
        finally:
            os.close(request_read)
            os.close(reply_write)
        self._requests = os.fdopen(request_write, "wb")
        self._replies = reply_read
        self._buffer = b""
        self.cold = True

    def send(self, message: Mapping[str, Any]) -> None:
        try:
            self._requests.write(json.dumps(message).encode() + b"\n")
            self._requests.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerGoneError from exc

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """The next reply line, None when ``deadline`` (monotonic) passes; WorkerGoneError on exit."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._replies], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise WorkerGoneError
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        reply: dict[str, Any] = json.loads(line)
        return reply

    def exit_status(self) -> str:
        code = self.process.wait(timeout=5)
        if code < 0:
            return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
        return f"exit status {code}"

    def stop(self, *, graceful: bool = True) -> None:
        """End the process (EOF first when graceful, then SIGKILL) and release the pipes."""
        if self.process.poll() is None:
            if graceful:
                try:
                    self._requests.close()
                    self.process.wait(timeout=1.0)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        for closer in (self._requests.close, lambda: os.close(self._replies)):
            with contextlib.suppress(OSError):
                closer()


class FunctionPool:
    """A function's execution environments, grown on demand up to ``max_concurrency``."""

    def __init__(self, fn: Function, *, code_dir: Path, base_env: Mapping[str, str], log_dir: Path,
                 stats: RuntimeStats, max_concurrency: int = 4, python: str = sys.executable) -> None:
        self.fn = fn
        self.code_dir = code_dir
        self.env = function_env(fn, base_env, code_dir)
        self.arn = function_arn(fn.name, self.env)
        self.stats = stats
        self.max_concurrency = max_concurrency
        self.python = python
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{fn.name}.log"
        self._log = open(self.log_path, "ab", buffering=0)  # noqa: SIM115 - lives as long as the pool
        self._log_lock = threading.Lock()
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._starting = 0
        self._closed = False

    # --- public ---

    def invoke(self, event: Any, request_id: str | None = None) -> Invocation:
        request_id = request_id or str(uuid.uuid4())
        worker = self._acquire()
        cold = worker.cold
        started = time.monotonic()
        self._write_log(f"START RequestId: {request_id} Version: $LATEST")
        invocation = Invocation(self.fn.name, request_id, ok=False, cold=cold)
        healthy = False
        try:
            healthy = self._run(worker, event, invocation, started)
        finally:
            self._release(worker, healthy)
        self._report(invocation)
        return invocation

    def warm_workers(self) -> int:
        with self._cond:
            return len(self._idle)

    def worker_pids(self) -> list[int]:
        with self._cond:
            return [w.process.pid for w in self._all]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.stop()
        self._log.close()

    # --- internals ---

    def _run(self, worker: Worker, event: Any, inv: Invocation, started: float) -> bool:
        """Drive one invoke on ``worker``; fill ``inv``; True if the worker may be reused."""
        timeout_s = float(self.fn.timeout_s)
        deadline = started + timeout_s + (INIT_LIMIT_S if worker.cold else 0.0)
        invoke_started = started
        try:
            worker.send({"id": inv.request_id, "event": event, "timeout_ms": int(timeout_s * 1000),
                         "arn": self.arn})
            while True:
                reply = worker.receive(deadline)
                if reply is None:
                    inv.duration_ms = (time.monotonic() - invoke_started) * 1000
                    inv.error = {"errorMessage": f"RequestId: {inv.request_id} Error: Task timed out "
                                                 f"after {timeout_s:.2f} seconds",
                                 "errorType": "Sandbox.Timedout"}
                    self._write_log(f"{_now()} {inv.request_id} Task timed out after "
                                    f"{timeout_s:.2f} seconds")
                    worker.stop(graceful=False)
                    return False
                if "init_ms" in reply and "ok" not in reply:
                    invoke_started = time.monotonic()
                    inv.init_ms = (invoke_started - started) * 1000
                    inv.import_ms = float(reply["init_ms"])
                    deadline = invoke_started + timeout_s
                    worker.cold = False
                    continue
                break
        except WorkerGoneError:
            inv.duration_ms = (time.monotonic() - invoke_started) * 1000
            status = worker.exit_status()
            inv.error = {"errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited with "
                                         f"error: {status}",
                         "errorType": "Runtime.ExitError"}
            self._write_log(inv.error["errorMessage"])
            worker.stop(graceful=False)
            return False
        inv.ok = bool(reply["ok"])
        inv.result = reply.get("result")
        inv.error = reply.get("error")
        if inv.error is not None:
            inv.error.setdefault("requestId", inv.request_id)
        inv.duration_ms = float(reply.get("duration_ms", (time.monotonic() - invoke_started) * 1000))
        inv.max_memory_mb = float(reply.get("max_rss_mb", 0.0))
        if reply.get("fatal"):
            worker.stop(graceful=False)
            return False
        return True

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError(f"function {self.fn.name} is shut down")
                if self._idle:
                    return self._idle.pop()  # most recently used: the warmest
                if len(self._all) + self._starting < self.max_concurrency:
                    break
                self._cond.wait()
            self._starting += 1
        try:
            worker = Worker(self.fn, self.code_dir, self.env, self._log, self.python)
        finally:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
        with self._cond:
            self._all.add(worker)
        return worker

    def _release(self, worker: Worker, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
            self._cond.notify()
        if not healthy:
            worker.stop(graceful=False)

    def _report(self, inv: Invocation) -> None:
        cold_numbers = None
        if inv.init_ms is not None:
            cold_numbers = {"init_ms": inv.import_ms or 0.0, "total_ms": inv.init_ms}
        self.stats.record(self.fn.name, cold=cold_numbers, duration_ms=inv.duration_ms,
                          error_type=None if inv.ok else (inv.error or {}).get("errorType"))
        line = (f"REPORT RequestId: {inv.request_id}\tDuration: {inv.duration_ms:.2f} ms\t"
                f"Billed Duration: {inv.billed_ms} ms\tMemory Size: {self.fn.memory_mb} MB\t"
                f"Max Memory Used: {math.ceil(inv.max_memory_mb)} MB")
        if inv.init_ms is not None:
            line += f"\tInit Duration: {inv.init_ms:.2f} ms"
        if not inv.ok:
            line += f"\tStatus: error\tError Type: {(inv.error or {}).get('errorType')}"
        self._write_log(f"END RequestId: {inv.request_id}")
        self._write_log(line)

    def _write_log(self, line: str) -> None:
        with self._log_lock:
            if not self._log.closed:
                self._log.write(line.encode() + b"\n")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
