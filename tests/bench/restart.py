"""How long ``make down`` and ``make up`` take with N files stored (default 1 000), and whether the
files' objects are still in S3 afterwards (issue 15).

    .venv/bin/python tests/bench/restart.py [--files 1000] [--rounds 2] [--repo /work/main]

It brings the stack up, tops the upload bucket up to N originals under ``u/`` through the real flow
(``POST /files`` + presigned POST on a gateway of its own, processed by the pipeline until ready),
then times ``localstack/manage.py down`` and ``up`` (run from a clean environment, as ``make`` does)
``--rounds`` times, counting the originals in S3 and the ready rows before and after each round.

``--repo`` runs another checkout's ``manage.py`` (same ``.local``), e.g. ``/work/main`` for the
numbers before LocalStack kept its state: run that one first, as its ``down`` loses the objects.
This stops the SHARED stack: run it only when nobody else uses it. Numbers are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
for _extra in (REPO_ROOT, REPO_ROOT / "layers" / "shared" / "python", REPO_ROOT / "localstack"):
    if str(_extra) not in sys.path:
        sys.path.insert(0, str(_extra))

from tests.bench.common import Client, User, register_and_login, table  # noqa: E402
from tests.bench.uploads import Payload, send_to_s3  # noqa: E402

STACK_ENV = REPO_ROOT / ".local" / "stack.env"
TEST_ENV = REPO_ROOT / ".local" / "test.env"  # the namespace the seeding gateway (running_gateway) uses


def _env_file() -> dict[str, str]:
    from lambdarun.environment import load_env_file

    return load_env_file(TEST_ENV)


def _clean_env() -> dict[str, str]:
    """Without the namespaces' variables: with them ``make up`` would start nothing ("reused")."""
    from lambdarun.environment import load_env_file

    loaded = [load_env_file(STACK_ENV), load_env_file(TEST_ENV)]
    return {k: v for k, v in os.environ.items() if all(env.get(k) != v for env in loaded)}


def manage(repo: Path, *command: str) -> float:
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(repo / "localstack" / "manage.py"), *command], cwd=repo,
                            env=_clean_env(), capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds


def originals() -> int:
    """Objects under ``u/`` in the test namespace's upload bucket (what its file rows point at)."""
    import boto3
    from botocore.config import Config

    env = _env_file()
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"],
                      region_name=env.get("AWS_REGION", "us-east-1"),
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(s3={"addressing_style": "path"}))
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=env["UPLOAD_BUCKET"], Prefix="u/"):
        count += page.get("KeyCount", 0)
    return count


def ready_rows() -> int:
    import psycopg

    with psycopg.connect(_env_file()["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT count(*) FROM files WHERE status = 'ready'").fetchone()
        return int(row[0]) if row else 0


def seed(missing: int, concurrency: int) -> None:
    """Upload ``missing`` small files through a gateway of our own and wait until they are ready."""
    import socket

    from tests.support.runtime import running_gateway

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with running_gateway(log_name="bench-restart", reuse=False, port=port) as gateway:
        client = Client(gateway.url)
        # Each user stays under the per-user rate limit (100 requests a minute): 50 uploads apiece,
        # and readiness is read from PostgreSQL rather than by polling the API.
        users = [register_and_login(client, f"restart-bench-{uuid.uuid4().hex[:8]}@example.com")
                 for _ in range(max(1, -(-missing // 50)))]

        def one(index: int) -> str:
            user: User = users[index % len(users)]
            payload = Payload("text", f"restart-bench-{index}.txt", "text/plain",
                              f"restart bench file {index} {uuid.uuid4()}\n".encode() * 20)
            created = client.call("POST", "POST /files", "/files", token=user.token, expect=(201,), body={
                "name": payload.name, "size": len(payload.data), "content_type": payload.content_type})
            send_to_s3(client.session(), created["upload"], payload)
            return str(created["file_id"])

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            file_ids = []
            for done, file_id in enumerate(pool.map(one, range(missing)), 1):
                file_ids.append(file_id)
                if done % 100 == 0:
                    print(f"  uploaded {done}/{missing} ({time.monotonic() - started:.0f} s)", flush=True)
        deadline = time.monotonic() + 600
        while (left := _pending(file_ids)) and time.monotonic() < deadline:
            time.sleep(1.0)
        if left:
            raise SystemExit(f"{left} of {missing} uploads still pending after 600 s")
        print(f"  {missing} processed ({time.monotonic() - started:.0f} s)", flush=True)


def _pending(file_ids: list[str]) -> int:
    import psycopg

    with psycopg.connect(_env_file()["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT count(*) FROM files WHERE file_id = ANY(%s::uuid[])"
                           " AND status = 'pending'", (file_ids,)).fetchone()
        return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="checkout whose manage.py runs")
    args = parser.parse_args()

    manage(args.repo, "up")
    pid_file = REPO_ROOT / ".local" / "run" / "localstack.pid"
    if args.repo.resolve() == REPO_ROOT and pid_file.exists():
        cmdline = Path(f"/proc/{pid_file.read_text().strip()}/cmdline")
        if cmdline.exists() and b"aws_state.py" not in cmdline.read_bytes():
            print("LocalStack runs without aws_state.py (started by an older checkout): restarting it")
            manage(args.repo, "down", "--only", "localstack")
            manage(args.repo, "up")
    have = originals()
    if have < args.files:
        print(f"{have} originals in S3; uploading {args.files - have} more", flush=True)
        seed(args.files - have, args.concurrency)
    rows: list[list[str]] = [["round", "originals before", "ready rows", "make down", "make up",
                              "originals after", "ready rows after"]]
    for number in range(1, args.rounds + 1):
        before, ready_before = originals(), ready_rows()
        down_s = manage(args.repo, "down")
        up_s = manage(args.repo, "up")
        after, ready_after = originals(), ready_rows()
        rows.append([str(number), str(before), str(ready_before), f"{down_s:.1f} s", f"{up_s:.1f} s",
                     str(after), str(ready_after)])
    print(f"\nmake down / make up with {args.files} files stored ({args.repo}):")
    table(rows)


if __name__ == "__main__":
    main()
