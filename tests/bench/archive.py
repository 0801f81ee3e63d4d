"""Archive phase: ZIP throughput (MB/s) of the archiver's job against a raw S3 copy of the same bytes,
measured in the same run on the same LocalStack S3 (issue 14: "archive throughput against a raw S3
copy of the same bytes").

In-process, on a bucket of its own: ``--archive-mb`` of sources (four objects) are written once, then
1. raw copy: the same objects read with the same ranged GETs and written with the same multipart
   sink (``fileshare.archives.zipstream``), one object per source, no ZIP and no database: the transfer alone;
2. server-side copy: ``CopyObject`` of each source (S3 copies; no byte passes through the process);
3. archive: ``fileshare.archives.worker.run`` on a job row made for them (no event is published, so no
   running archiver takes the job), i.e. ZIP framing, CRC-32, progress writes and the completion.
The ratio archive / raw copy says what the archive costs over moving the bytes. Everything it made
is deleted afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

BUCKET = "fileshare-bench-archive"
SOURCES = 4


@contextmanager
def _bucket_env(env: Mapping[str, str]) -> Iterator[Any]:
    """This process pointed at the stack, UPLOAD_BUCKET at the bench's bucket; restored afterwards."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    os.environ["UPLOAD_BUCKET"] = BUCKET
    from tests.support.pipeline import reset_caches

    reset_caches()
    try:
        from fileshare.adapters.aws import client

        s3 = client("s3")
        try:
            s3.head_bucket(Bucket=BUCKET)
        except s3.exceptions.ClientError:
            s3.create_bucket(Bucket=BUCKET)
        yield s3
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_caches()


def _mb_s(nbytes: int, seconds: float) -> float:
    return round(nbytes / max(seconds, 1e-9) / 1e6, 1)


def run_archive(env: Mapping[str, str], total_mb: int, *,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    from fileshare.archives import rows as archives_db
    from fileshare.archives import worker as archiving
    from fileshare.archives.jobs import archive_key
    from fileshare.archives.zipstream import MultipartSink, head, part_size_for, read_ranges
    from fileshare.config import settings
    from fileshare.db.connection import transaction

    with _bucket_env(env) as s3:
        user_id = f"bench-archive-{uuid.uuid4()}"
        each = max(1, total_mb // SOURCES) * 1024**2
        block = os.urandom(8 * 1024**2)
        keys: list[str] = []
        file_ids: list[uuid.UUID] = []
        made: list[str] = []
        archive_id = uuid.uuid4()
        try:
            log(f"bench: archive: writing {SOURCES} x {each // 1024**2} MiB sources...")
            with transaction() as conn:
                conn.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s)",
                             (user_id, f"{user_id}@bench.test", 10**13))
            for i in range(SOURCES):
                file_id = uuid.uuid4()
                key = f"u/{user_id}/{file_id}/source-{i}.bin"
                sink = MultipartSink(key, part_bytes=32 * 1024**2, content_type="application/octet-stream")
                sink.start()
                for offset in range(0, each, len(block)):
                    sink.write(block[: min(len(block), each - offset)])
                sink.complete()
                with transaction() as conn:
                    conn.execute("INSERT INTO files (file_id, owner_id, name, s3_key, size, content_type,"
                                 " status) VALUES (%s, %s, %s, %s, %s, 'application/octet-stream', 'ready')",
                                 (file_id, user_id, f"source-{i}.bin", key, each))
                keys.append(key)
                file_ids.append(file_id)
            total = each * SOURCES
            part = part_size_for(total, settings().archive_part_bytes)

            # 1. the raw copy through this process (same reads, same sink)
            started = time.monotonic()
            for key in keys:
                size, etag = head(key)
                copy = MultipartSink(f"{key}.copy", part_bytes=part, content_type="application/octet-stream")
                copy.start()
                made.append(f"{key}.copy")
                for chunk in read_ranges(key, size, etag):
                    copy.write(chunk)
                copy.complete()
            raw_s = time.monotonic() - started

            # 2. server-side copies
            started = time.monotonic()
            for key in keys:
                s3.copy_object(Bucket=BUCKET, Key=f"{key}.server", CopySource={"Bucket": BUCKET, "Key": key})
                made.append(f"{key}.server")
            server_s = time.monotonic() - started

            # 3. the archive job
            with transaction() as conn:
                archives_db.insert(conn, archive_id=archive_id, owner_id=user_id, name="bench.zip",
                                   file_ids=file_ids, bytes_total=total,
                                   s3_key=archive_key(user_id, archive_id, "bench.zip"))
            made.append(archive_key(user_id, archive_id, "bench.zip"))
            started = time.monotonic()
            outcome = archiving.run(archive_id)
            archive_s = time.monotonic() - started
            with transaction() as conn:
                row = archives_db.get(conn, archive_id)
            assert row is not None
            result = {
                "bytes": total, "sources": SOURCES, "part_bytes": part, "outcome": outcome.value,
                "zip_bytes": row.size, "archive_s": round(archive_s, 2), "raw_copy_s": round(raw_s, 2),
                "server_copy_s": round(server_s, 2), "archive_mb_s": _mb_s(total, archive_s),
                "raw_copy_mb_s": _mb_s(total, raw_s), "server_copy_mb_s": _mb_s(total, server_s),
                "ratio_vs_raw_copy": round(raw_s / max(archive_s, 1e-9), 2),
            }
            if outcome is not archiving.Outcome.BUILT:
                result["error"] = f"archive {outcome.value}: {row.failure_reason} {row.failure_detail}"
            return result
        finally:
            for key in keys + made:
                with suppress(Exception):  # best effort: the bench's own objects
                    s3.delete_object(Bucket=BUCKET, Key=key)
            with transaction() as conn:
                conn.execute("DELETE FROM archives WHERE owner_id = %s", (user_id,))
                conn.execute("DELETE FROM files WHERE owner_id = %s", (user_id,))
                conn.execute("DELETE FROM users WHERE user_id = %s", (user_id,))


def print_archive(result: dict[str, Any], out: Callable[[str], None] = print) -> None:
    if not result:
        return
    out("")
    if result.get("error") and "archive_mb_s" not in result:
        out(f"(g) archive: {result['error']}")
        return
    out(f"(g) archive: {result['sources']} sources, {result['bytes'] / 1e6:,.0f} MB, parts of "
        f"{result['part_bytes'] // 1024**2} MiB, same S3 in the same run")
    out(f"    archive job      {result['archive_mb_s']:>8} MB/s  ({result['archive_s']} s;"
        f" ZIP {result['zip_bytes']:,} B)")
    out(f"    raw copy         {result['raw_copy_mb_s']:>8} MB/s  ({result['raw_copy_s']} s;"
        " same reads and sink, no ZIP)")
    out(f"    server-side copy {result['server_copy_mb_s']:>8} MB/s  ({result['server_copy_s']} s;"
        " CopyObject)")
    out(f"    archive / raw copy: {result['ratio_vs_raw_copy']}x of the raw copy's throughput")
