"""Process helpers: detached start with pid and log files, health waits, clean stops, memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from stackctl.paths import LOG_DIR, RUN_DIR


class StackError(RuntimeError):
    """A service could not be installed, started or provisioned."""


def pid_file(name: str) -> Path:
    return RUN_DIR / f"{name}.pid"


def log_file(name: str) -> Path:
    return LOG_DIR / f"{name}.log"


def read_pid(name: str) -> int | None:
    try:
        pid = int(pid_file(name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def spawn(
    name: str,
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> int:
    """Start ``argv`` in its own session (so stop() can kill the whole group); log to .local/logs."""
    log = log_file(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with open(log, "ab") as out:
        out.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {name}\n".encode())
        process = subprocess.Popen(
            [str(a) for a in argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
            user=user,
            group=user,
        )
    pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    pid_file(name).write_text(str(process.pid))
    return process.pid


def stop(name: str, timeout_s: float = 20.0, first_signal: str = "SIGTERM") -> bool:
    """Signal the service's process group, then SIGKILL after ``timeout_s``. True if it ran."""
    pid = read_pid(name)
    pid_file(name).unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.Signals[first_signal])
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _group_alive(pid):
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True


def _group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    children: dict[int, list[int]] = {}
    rss_kb: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        this = int(entry.name)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(this)
        rss_kb[this] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss_kb.get(current, 0)
        todo.extend(children.get(current, []))
    return total / 1024


def wait_until(check: Callable[[], bool], *, timeout_s: float, what: str, name: str = "") -> None:
    """Poll ``check`` until it is true; raise with the log's tail if ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while time.monotonic() < deadline:
        if check():
            return
        if name and read_pid(name) is None and pid_file(name).exists():
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
    tail = ""
    if name and log_file(name).exists():
        tail = "\n".join(log_file(name).read_text(errors="replace").splitlines()[-30:])
    raise StackError(f"{what} not healthy after {timeout_s:.0f}s\n{tail}")


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def run(argv: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str] | None = None,
        cwd: Path | None = None, quiet: bool = True,
        user: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; raise StackError with its output when it fails."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    result = subprocess.run(
        [str(a) for a in argv], env=full_env, cwd=cwd, text=True,
        stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None,
        check=False, user=user, group=user,
    )
    if result.returncode != 0:
        raise StackError(f"{' '.join(str(a) for a in argv)} failed ({result.returncode}):\n"
                         f"{(result.stdout or '')[-3000:]}")
    return result
