"""Phase "bulk": N small files through the page's own flow against N raw presigned PUTs, same run.

The page's flow, as ``web/src/uploads.js`` and ``app.js`` do it: ``POST /files/batch`` a hundred
entries at a time, the presigned POSTs straight to S3 six at a time (Uppy's ``limit``), then
``GET /files/status`` a hundred ids at a time every 1.5 s until every file is ready; every 429
waited out as its ``Retry-After`` says (and counted: the target is zero). The baseline: the same
number of files of the same sizes PUT to the same bucket with presigned URLs signed locally, six at
a time, nothing else. Printed: both wall times, their ratio, the throttles, the API requests per
uploaded file. The gateway is the bench's own, with the deployment's default limits (the other
gateway phases lift them).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.bench.common import Client, FlowError, register_and_login
from tests.support.pipeline import free_port
from tests.support.runtime import running_gateway

BATCH = 100
STATUS_IDS = 100
PARALLEL = 6
POLL_S = 1.5


def _payload(i: int) -> bytes:
    return f"bulk note {i}\n".encode() * 20  # ~250 bytes, a distinct object each


class _Api:
    """The page's API calls: a 429 is waited out per Retry-After and counted."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.token = client, token
        self.requests = 0
        self.throttled = 0

    def call(self, method: str, route: str, path: str, body: Any = None) -> Any:
        while True:
            self.requests += 1
            response = self.client.request(method, route, path, token=self.token, body=body)
            if response.status_code != 429:
                break
            self.throttled += 1
            time.sleep(float(response.headers.get("Retry-After", "1")))
        if response.status_code != 200:
            raise FlowError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()


def _warm_auth(client: Client, attempts: int = 5) -> None:
    """The auth function's cold start on a fresh gateway can pass its timeout on a loaded machine
    (a 502/504): wake it with a refused login before registering (which must not half-happen)."""
    for _ in range(attempts):
        response = client.request("POST", "POST /auth/login", "/auth/login", record=False,
                                  body={"email": "nobody@example.com", "password": "Not-The-Password-1"})
        if response.status_code < 500:
            return
    raise FlowError(f"the auth function does not answer: {response.status_code}")


def _page_flow(api: _Api, count: int, tag: str, ready_timeout_s: float) -> dict[str, Any]:
    started = time.monotonic()
    uploads: list[tuple[str, dict[str, Any], bytes]] = []
    for first in range(0, count, BATCH):
        entries = [{"name": f"{tag}-{i:05}.txt", "size": len(_payload(i)), "content_type": "text/plain",
                    "relative_path": f"{tag}/{tag}-{i:05}.txt"}
                   for i in range(first, min(first + BATCH, count))]
        reply = api.call("POST", "POST /files/batch", "/files/batch", {"files": entries})
        for item in reply["items"]:
            if item["error"]:
                raise FlowError(f"batch entry refused: {item['error']}")
            uploads.append((item["file_id"], item["upload"], _payload(first + item["index"])))

    def send(upload: tuple[str, dict[str, Any], bytes]) -> None:
        _, plan, data = upload
        response = requests.post(plan["url"], data=plan["fields"],
                                 files={"file": ("blob", data, "text/plain")}, timeout=60)
        if response.status_code not in (200, 201, 204):
            raise FlowError(f"presigned POST -> {response.status_code}: {response.text[:200]}")

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(send, uploads))
    sent_s = time.monotonic() - started
    waiting = [file_id for file_id, _, _ in uploads]
    deadline = time.monotonic() + ready_timeout_s
    while waiting:
        if time.monotonic() > deadline:
            raise FlowError(f"{len(waiting)} of {count} files not ready after {ready_timeout_s:.0f} s")
        time.sleep(POLL_S)
        still = []
        for first in range(0, len(waiting), STATUS_IDS):
            query = "&".join(f"file_id={i}" for i in waiting[first:first + STATUS_IDS])
            items = api.call("GET", "GET /files/status", f"/files/status?{query}")["items"]
            statuses = {i["file_id"]: i["status"] for i in items}
            rejected = [i for i, s in statuses.items() if s == "rejected"]
            if rejected:
                raise FlowError(f"rejected: {rejected[:3]}")
            still += [i for i in waiting[first:first + STATUS_IDS] if statuses.get(i) != "ready"]
        waiting = still
    return {"sent_s": round(sent_s, 2), "all_ready_s": round(time.monotonic() - started, 2)}


def _raw_puts(count: int, tag: str, env: dict[str, str]) -> float:
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"],
                      region_name=env.get("AWS_REGION", "us-east-1"),
                      aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "test"),
                      aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "test"),
                      config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
    bucket = env["UPLOAD_BUCKET"]
    # Outside u/: the bucket notifies the processor for u/ only, so the baseline is S3 alone.
    keys = [f"bench-raw/{tag}/{i:05}" for i in range(count)]
    urls = [s3.generate_presigned_url("put_object", ExpiresIn=900,
                                      Params={"Bucket": bucket, "Key": key, "ContentType": "text/plain"})
            for key in keys]
    session = requests.Session()

    def put(i: int) -> None:
        response = session.put(urls[i], data=_payload(i), headers={"Content-Type": "text/plain"}, timeout=60)
        if response.status_code != 200:
            raise FlowError(f"raw PUT -> {response.status_code}: {response.text[:200]}")

    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(put, range(count)))
    elapsed = time.monotonic() - started
    for first in range(0, count, 1000):  # leave nothing behind
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[first:first + 1000]]})
    return elapsed


LIMITS = ("RATE_LIMIT_PER_MINUTE", "READ_RATE_LIMIT_PER_MINUTE", "UPLOAD_FILES_PER_HOUR",
          "UPLOAD_BYTES_PER_HOUR")


def run_bulk(env: dict[str, str], work_dir: Path, count: int, *, ready_timeout_s: float = 600.0,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Both flows against a gateway of their own with the default limits (``env``: the test
    namespace's, whatever limits it names dropped); the numbers for the report."""
    tag = f"bulk{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in env.items() if k not in LIMITS}
    work_dir.mkdir(parents=True, exist_ok=True)
    env_file = work_dir / "gateway-bulk.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    extra = {k: v for k, v in os.environ.items() if k not in LIMITS}
    with running_gateway(log_name="serve-bench-bulk", reuse=False, args=["--env-file", str(env_file)],
                         extra_env=extra, port=free_port()) as gateway:
        client = Client(gateway.url)
        client.phase = "setup"
        _warm_auth(client)
        user = register_and_login(client, f"{tag}@example.com")
        client.phase = "bulk"
        api = _Api(client, user.token)
        log(f"bench: bulk: {count} files through the page's flow")
        page = _page_flow(api, count, tag, ready_timeout_s)
        log(f"bench: bulk: {count} raw presigned PUTs")
        raw_s = _raw_puts(count, tag, env)
    return {"files": count, "page_all_ready_s": page["all_ready_s"], "page_sent_s": page["sent_s"],
            "raw_put_s": round(raw_s, 2), "ratio": round(page["all_ready_s"] / raw_s, 2) if raw_s else None,
            "throttled": api.throttled, "api_requests": api.requests,
            "api_requests_per_file": round(api.requests / count, 3)}


def print_bulk(result: dict[str, Any], out: Callable[[str], None] = print) -> None:
    if not result:
        return
    out("")
    if result.get("error"):
        out(f"bulk: FLOW BROKEN: {result['error']}")
        return
    out(f"bulk: {result['files']} small files through the page's flow (batch start, {PARALLEL} presigned "
        f"POSTs at a time, readiness by GET /files/status): all ready in {result['page_all_ready_s']} s "
        f"(bytes sent after {result['page_sent_s']} s); the same number of raw presigned PUTs: "
        f"{result['raw_put_s']} s; ratio {result['ratio']}x; throttled {result['throttled']}; "
        f"API requests per uploaded file {result['api_requests_per_file']}")
