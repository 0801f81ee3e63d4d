"""Phase (c): the upload flow at a sustained rate, exactly as the web page does it.

Each upload: ``POST /files``, the presigned POST (or multipart PUTs) straight to LocalStack S3,
then ``GET /files/{id}`` every ``poll_ms`` until the processor marks the file ready, then a few
reads (cached ``GET /files/{id}``, the download link, now and then list, search and ``/me``).
Upload->ready is judged on the processor's commit time in PostgreSQL (the ready row's
``updated_at``; same machine, same clock), free of the polling interval; the polled time is
reported too. Also: processing throughput and the file cache's hit ratio during the phase.
"""

from __future__ import annotations

import io
import json
import random
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from tests.bench.common import (
    LAMBDA_LOG_DIR,
    STOP,
    Client,
    CpuMeter,
    FlowError,
    User,
    machine,
    percentile,
    summary,
)

MIX = (("png", 0.30), ("jpeg", 0.25), ("pdf", 0.15), ("text", 0.20), ("binary", 0.10))


# ---------------------------------------------------------------------------------------------
# payloads: small images, PDF-ish documents, text, a few MB of binary


@dataclass(frozen=True)
class Payload:
    kind: str
    name: str
    content_type: str
    data: bytes


def _image(rng: random.Random, fmt: str, size: tuple[int, int]) -> bytes:
    base = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, rng.uniform(10, 60))
    image = Image.merge("RGB", (base, noise, base.rotate(90).resize(size)))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _pdf(rng: random.Random, size: int) -> bytes:
    text = " ".join(rng.choice(("file", "share", "bench", "upload", "ready", "s3", "lambda"))
                    for _ in range(size // 6))
    stream = f"BT /F1 12 Tf 72 720 Td ({text[:size]}) Tj ET".encode()
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n"
            + f"4 0 obj << /Length {len(stream)} >> stream\n".encode() + stream
            + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def _text(rng: random.Random, size: int) -> bytes:
    words = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
    out = io.StringIO()
    while out.tell() < size:
        out.write(" ".join(rng.choice(words) for _ in range(12)) + "\n")
    return out.getvalue().encode()


def make_payloads(rng: random.Random, big_mb: float) -> dict[str, list[Payload]]:
    """A few variants of each kind, generated once (generation is not what is measured)."""
    pools: dict[str, list[Payload]] = defaultdict(list)
    for i, size in enumerate([(64, 64), (320, 240), (640, 480), (800, 600)]):
        pools["png"].append(Payload("png", f"image-{i}.png", "image/png", _image(rng, "PNG", size)))
        pools["jpeg"].append(Payload("jpeg", f"photo-{i}.jpg", "image/jpeg", _image(rng, "JPEG", size)))
    for i, length in enumerate([2_000, 40_000, 200_000]):
        pools["pdf"].append(Payload("pdf", f"report-{i}.pdf", "application/pdf", _pdf(rng, length)))
        pools["text"].append(Payload("text", f"notes-{i}.txt", "text/plain", _text(rng, length)))
    big = int(big_mb * 1024 * 1024)
    for i in range(2):
        pools["binary"].append(Payload("binary", f"blob-{i}.bin", "application/octet-stream",
                                       rng.randbytes(big)))
    return pools


# ---------------------------------------------------------------------------------------------
# one upload, as the web page does it


@dataclass
class Upload:
    kind: str
    size: int
    ok: bool = False
    status: str = ""
    error: str = ""
    create_ms: float | None = None
    s3_ms: float | None = None
    ready_ms: float | None = None  # S3 accepted the bytes -> GET /files/{id} first shows ready
    end_to_end_ms: float | None = None  # POST /files sent -> ready seen
    ready_at: float | None = None  # monotonic
    started_at: float = 0.0
    file_id: str = ""
    uploaded_wall: float | None = None  # time.time() when S3 accepted the bytes
    committed_ms: float | None = None  # S3 accepted -> the ready row's updated_at (PostgreSQL)


def send_to_s3(session: requests.Session, upload: dict[str, Any], payload: Payload) -> list[dict[str, Any]]:
    """Presigned POST (fields first, file last) or multipart PUTs; returns completed parts."""
    if upload["method"] == "MULTIPART":
        parts = []
        size = int(upload["part_size"])
        for part in upload["parts"]:
            number = int(part["part_number"])
            chunk = payload.data[(number - 1) * size: number * size]
            response = session.put(part["url"], data=chunk, timeout=60)
            if response.status_code != 200:
                raise FlowError(f"S3 part {number} -> {response.status_code}: {response.text[:300]}")
            parts.append({"part_number": number, "etag": response.headers["ETag"]})
        return parts
    response = session.post(upload["url"], data=upload["fields"],
                            files={"file": (payload.name, payload.data, payload.content_type)}, timeout=60)
    if response.status_code not in (200, 201, 204):
        raise FlowError(f"S3 POST -> {response.status_code}: {response.text[:300]}")
    return []


def run_upload(client: Client, user: User, payload: Payload, *, index: int, poll_s: float,
               ready_timeout_s: float, reads: bool = True) -> Upload:
    result = Upload(payload.kind, len(payload.data), started_at=time.monotonic())
    name = f"b{index:05d}-{payload.name}"
    try:
        t0 = time.perf_counter()
        created = client.call("POST", "POST /files", "/files", token=user.token, expect=(201,),
                              body={"name": name, "size": len(payload.data),
                                    "content_type": payload.content_type, "tags": ["bench"]})
        result.create_ms = (time.perf_counter() - t0) * 1000
        file_id = result.file_id = created["file_id"]
        t1 = time.perf_counter()
        upload = created["upload"]
        if upload["method"] == "MULTIPART":  # POST /files signs the first batch; sign the rest
            rest = list(range(len(upload["parts"]) + 1, int(upload["part_count"]) + 1))
            for i in range(0, len(rest), 100):
                more = client.call("POST", "POST /files/{id}/parts", f"/files/{file_id}/parts",
                                   token=user.token, body={"part_numbers": rest[i:i + 100]})
                upload = {**upload, "parts": upload["parts"] + more["parts"]}
        parts = send_to_s3(client.session(), upload, payload)
        if created["upload"]["method"] == "MULTIPART":
            client.call("POST", "POST /files/{id}/complete", f"/files/{file_id}/complete",
                        token=user.token, body={"parts": parts}, expect=(200, 201, 202, 204))
        uploaded = time.perf_counter()
        result.uploaded_wall = time.time()
        result.s3_ms = (uploaded - t1) * 1000
        deadline = uploaded + ready_timeout_s
        while True:
            record = client.call("GET", "GET /files/{id}", f"/files/{file_id}", token=user.token)
            if record["status"] != "pending":
                break
            if time.perf_counter() > deadline or STOP.is_set():
                raise FlowError(f"{name} ({file_id}) still pending after {ready_timeout_s:.0f} s")
            time.sleep(poll_s)
        seen = time.perf_counter()
        result.status = record["status"]
        if record["status"] != "ready":
            raise FlowError(f"{name} ({payload.content_type}) became {record['status']}: {record}")
        result.ready_ms = (seen - uploaded) * 1000
        result.end_to_end_ms = (seen - t0) * 1000
        result.ready_at = time.monotonic()
        if reads:  # the read path after ready: cached reads, the download link, now and then the rest
            for _ in range(2):
                client.call("GET", "GET /files/{id}", f"/files/{file_id}", token=user.token)
            client.call("GET", "GET /files/{id}/download", f"/files/{file_id}/download", token=user.token)
            if index % 5 == 0:
                client.call("GET", "GET /files", "/files?limit=20", token=user.token)
                client.call("GET", "GET /search", f"/search?q=b{index:05d}", token=user.token)
                client.call("GET", "GET /me", "/me", token=user.token)
        result.ok = True
    except (FlowError, requests.RequestException, KeyError, ValueError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


# ---------------------------------------------------------------------------------------------
# cache counters and commit times


def redis_counters(url: str | None) -> dict[str, int] | None:
    if not url:
        return None
    try:
        import redis

        info = redis.Redis.from_url(url, socket_timeout=2).info("stats")
        return {"hits": int(info["keyspace_hits"]), "misses": int(info["keyspace_misses"])}
    except Exception:  # Redis unreachable: the bench reports no ratio rather than failing
        return None


def emf_cache_counts(log_path: Path, offset: int) -> dict[str, int]:
    """CacheHits/CacheMisses EMF metrics the files function printed since ``offset``."""
    counts = {"CacheHits": 0, "CacheMisses": 0}
    if not log_path.exists():
        return counts
    with log_path.open("rb") as log:
        log.seek(offset)
        for raw in log:
            if b'"_aws"' not in raw or b"Cache" not in raw:
                continue
            try:
                record = json.loads(raw[raw.index(b"{"):])
            except ValueError:
                continue
            for name in counts:
                value = record.get(name)
                if isinstance(value, list):
                    counts[name] += int(sum(value))
                elif isinstance(value, int | float):
                    counts[name] += int(value)
    return counts


def committed_times(uploads: list[Upload], database_url: str | None) -> None:
    """Fill ``committed_ms``: S3 accepted the bytes -> the processor committed ``ready``."""
    known = {u.file_id: u for u in uploads if u.file_id and u.uploaded_wall}
    if not database_url or not known:
        return
    try:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=5) as conn:
            rows = conn.execute("SELECT file_id::text, status, updated_at FROM files"
                                " WHERE file_id::text = ANY(%s)", (list(known),)).fetchall()
    except Exception as exc:  # the database unreachable: report the polled numbers only
        print(f"bench: no commit times from PostgreSQL ({type(exc).__name__}: {exc})", file=sys.stderr)
        return
    for file_id, status, updated_at in rows:
        upload = known[file_id]
        since_upload_ms = (updated_at.timestamp() - (upload.uploaded_wall or 0.0)) * 1000
        if upload.ok and status == "ready":
            upload.committed_ms = max(0.0, since_upload_ms)
        elif not upload.ok:  # say what PostgreSQL knows, e.g. ready while the API still said pending
            upload.error += f" [PostgreSQL: {status}, updated {since_upload_ms:.0f} ms after the upload]"


# ---------------------------------------------------------------------------------------------
# the phase


@dataclass
class UploadPhase:
    uploads: list[Upload] = field(default_factory=list)
    schedule_lag_ms: list[float] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    cpu_busy_pct: float | None = None
    machine_before: dict[str, Any] = field(default_factory=dict)


def run_phase(client: Client, users: list[User], pools: dict[str, list[Payload]], rng: random.Random, *,
              duration_s: float, rate: float, poll_ms: float, ready_timeout_s: float, workers: int,
              redis_url: str | None, database_url: str | None) -> UploadPhase:
    """Start ``rate`` uploads per second for ``duration_s`` (open loop) and wait for all of them."""
    phase = UploadPhase(machine_before=machine())
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    files_log = LAMBDA_LOG_DIR / "files.log"
    log_offset = files_log.stat().st_size if files_log.exists() else 0
    redis_before = redis_counters(redis_url)
    total = int(duration_s * rate)
    futures: list[Future[Upload]] = []
    cpu = CpuMeter().start()
    started = time.monotonic()
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upload") as pool:
        for index in range(total):
            if STOP.is_set():
                break
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with lock:
                phase.schedule_lag_ms.append(max(0.0, -delay) * 1000)
            payload = rng.choice(pools[rng.choices(kinds, weights)[0]])
            futures.append(pool.submit(run_upload, client, users[index % len(users)], payload, index=index,
                                       poll_s=poll_ms / 1000, ready_timeout_s=ready_timeout_s))
        phase.uploads = [f.result() for f in futures]
    phase.cpu_busy_pct = cpu.busy_pct()
    committed_times(phase.uploads, database_url)
    phase.cache = {"emf": emf_cache_counts(files_log, log_offset), "redis_before": redis_before,
                   "redis_after": redis_counters(redis_url)}
    return phase


def phase_report(phase: UploadPhase, *, duration_s: float, rate: float) -> dict[str, Any]:
    ok = [u for u in phase.uploads if u.ok]
    failed = [u for u in phase.uploads if not u.ok]
    ready_ms = [u.ready_ms for u in ok if u.ready_ms is not None]
    committed_ms = [u.committed_ms for u in ok if u.committed_ms is not None]
    ready_times = sorted(u.ready_at for u in ok if u.ready_at is not None)
    first_start = min((u.started_at for u in phase.uploads), default=0.0)
    span = (ready_times[-1] - first_start) if ready_times else 0.0

    emf = phase.cache.get("emf") or {"CacheHits": 0, "CacheMisses": 0}
    emf_total = emf["CacheHits"] + emf["CacheMisses"]
    rb, ra = phase.cache.get("redis_before"), phase.cache.get("redis_after")
    redis_delta = ({"hits": ra["hits"] - rb["hits"], "misses": ra["misses"] - rb["misses"]}
                   if rb and ra else {})
    redis_total = sum(redis_delta.values())
    redis_ratio = round(redis_delta["hits"] / redis_total, 4) if redis_total else None
    return {
        "rate_per_s": rate, "duration_s": duration_s,
        "scheduled": len(phase.uploads), "ready": len(ok), "failed": len(failed),
        "errors": [u.error for u in failed][:10],
        "by_kind": {k: sum(1 for u in ok if u.kind == k) for k, _ in MIX},
        "bytes": sum(u.size for u in ok),
        "schedule_lag_ms": summary(phase.schedule_lag_ms),
        "upload_to_ready_committed_ms": summary(committed_ms),
        "upload_to_ready_polled_ms": summary(ready_ms),
        "end_to_end_ms": summary([u.end_to_end_ms for u in ok if u.end_to_end_ms is not None]),
        "create_ms": summary([u.create_ms for u in ok if u.create_ms is not None]),
        "s3_upload_ms": summary([u.s3_ms for u in ok if u.s3_ms is not None]),
        "processing_throughput_files_per_s": round(len(ready_times) / span, 2) if span else None,
        "ready_p99_ms": percentile(committed_ms, 99) if committed_ms else percentile(ready_ms, 99),
        "ready_p99_basis": "committed" if committed_ms else "polled",
        "cache": {
            "file_cache": {**emf, "hit_ratio": round(emf["CacheHits"] / emf_total, 4) if emf_total else None,
                           "source": "files function's CacheHits/CacheMisses EMF metrics"},
            "redis_server": {**redis_delta,
                             "hit_ratio": redis_ratio,
                             "source": "Redis INFO keyspace_hits/misses delta, server-wide"},
        },
        "machine_busy_pct": phase.cpu_busy_pct,
        "machine_before": phase.machine_before,
    }
