"""``localstack/serve.py`` as ``make dev`` runs it: the real declaration, the real meta function.

Given the stack's PostgreSQL and Redis, when serve.py runs, then GET /health answers 200 through the
gateway (a cold start, then warm), its cold start shows in /_local/stats, and SIGTERM stops the
server and every worker process it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
                                reason="PostgreSQL/Redis are not in the environment")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def test_serve_health_stats_and_clean_stop(tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(REPO / "localstack" / "serve.py"), "--port", str(port),
                             "--no-sources"], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):  # wait for the gateway (a limit, not an assertion)
            try:
                requests.get(f"{url}/_local/stats", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        first = requests.get(f"{url}/health", timeout=30)
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "ok" and first.json()["checks"] == {"database": "ok", "cache": "ok"}
        assert requests.get(f"{url}/health", timeout=10).status_code == 200
        assert requests.get(f"{url}/openapi.json", timeout=10).json()["paths"]["/health"]["get"]
        assert requests.get(f"{url}/docs", timeout=10).headers["Content-Type"].startswith("text/html")
        stats = requests.get(f"{url}/_local/stats", timeout=10).json()["meta"]
        assert stats["cold_start_count"] == 1 and stats["invocations"] == 4
        workers = _children(proc.pid)
        assert workers  # the meta worker
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not any(_alive(pid) for pid in workers)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
