"""Integrity checked by S3 itself, so no invocation must re-read gigabytes (real LocalStack S3,
PostgreSQL and the processor's handler): a POST signed with the file's SHA-256, multipart parts
each signed with theirs, the processor verifying a large object from HEAD and its first bytes,
and a maximum-size (5 GiB) upload end to end."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from fileshare import processing
from fileshare.config import settings
from tests.integration.conftest import Api
from tests.support.pipeline import failed_ids, invoke, s3_notification, sqs_event

MIB = 1024**2
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def process(key: str, size: int) -> None:
    result = invoke("processor", sqs_event(s3_notification(settings().upload_bucket, key, size)))
    assert failed_ids(result) == []


def test_post_upload_signed_with_its_checksum(files_api: Api, db: Any) -> None:
    data = os.urandom(200_000)
    created = files_api("POST", "/files", body={"name": "signed.bin", "size": len(data),
                                                "content_type": "application/octet-stream",
                                                "checksum_sha256": hashlib.sha256(data).hexdigest()})
    assert created.status == 201, created.body
    upload = created.body["upload"]
    assert upload["fields"]["x-amz-checksum-sha256"] == b64_sha256(data)
    # Bytes that do not match the signed checksum are refused by S3 itself
    other = os.urandom(len(data))
    tampered = requests.post(upload["url"], data=upload["fields"], files={"file": ("f", other)}, timeout=30)
    assert tampered.status_code == 400, tampered.text
    ok = requests.post(upload["url"], data=upload["fields"], files={"file": ("f", data)}, timeout=30)
    assert ok.status_code == 204, ok.text
    process(upload["fields"]["key"], len(data))
    row = db.execute("SELECT status, checksum_sha256, s3_checksum FROM files WHERE file_id = %s",
                     (created.body["file_id"],)).fetchone()
    assert row["status"] == "ready"
    assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert row["s3_checksum"] == f"SHA256:{b64_sha256(data)}"


def _upload_with_part_checksums(api: Api, name: str, parts: list[bytes], content_type: str) -> dict[str, Any]:
    size = sum(len(p) for p in parts)
    created = api("POST", "/files", body={"name": name, "size": size, "content_type": content_type,
                                          "part_checksums": True})
    assert created.status == 201, created.body
    upload, file_id = created.body["upload"], created.body["file_id"]
    assert upload["method"] == "MULTIPART" and upload["parts"] == []  # nothing signed before its checksum
    assert upload["part_count"] == len(parts), upload
    numbers = list(range(1, len(parts) + 1))
    checksums = [b64_sha256(p) for p in parts]
    # A sign request without checksums is refused for such an upload
    bare = api("POST", f"/files/{file_id}/parts", body={"part_numbers": numbers[:1]})
    assert bare.status == 422 and bare.error_code == "part_checksums_required"

    signed: list[dict[str, Any]] = []
    for start in range(0, len(numbers), 100):  # the handler is one request at a time, like Lambda
        batch = api("POST", f"/files/{file_id}/parts", body={"part_numbers": numbers[start:start + 100],
                                                             "checksums": checksums[start:start + 100]})
        assert batch.status == 200, batch.body
        signed += batch.body["parts"]

    def put(part: dict[str, Any]) -> str:
        data = parts[part["part_number"] - 1]
        reply = requests.put(part["url"], data=data, headers=part["headers"], timeout=300)
        assert reply.status_code == 200, reply.text
        return str(reply.headers["ETag"])

    with ThreadPoolExecutor(max_workers=4) as pool:  # the bytes go up in parallel, as a browser sends them
        etags = list(pool.map(put, signed))
    body = {"parts": [{"part_number": n, "etag": e, "checksum_sha256": c}
                      for n, e, c in zip(numbers, etags, checksums, strict=True)]}
    completed = api("POST", f"/files/{file_id}/complete", body=body)
    for _ in range(6):  # as a client should: a 503 (S3 slower than the complete budget) is retried
        if completed.status != 503:
            break
        time.sleep(max(1.0, float(completed.headers.get("retry-after", "1"))) * 10)
        completed = api("POST", f"/files/{file_id}/complete", body=body)
    assert completed.status == 200, completed.body
    return {"file_id": file_id, "size": size, "checksums": checksums}


def test_a_part_whose_bytes_do_not_match_its_signed_checksum_is_refused(
        files_api: Api, override_settings: Any) -> None:
    override_settings(MULTIPART_THRESHOLD_BYTES=str(5 * MIB), MULTIPART_PART_BYTES=str(5 * MIB))
    part = os.urandom(5 * MIB)
    created = files_api("POST", "/files", body={"name": "bad.bin", "size": 2 * len(part),
                                                "content_type": "application/octet-stream",
                                                "part_checksums": True})
    file_id = created.body["file_id"]
    signed = files_api("POST", f"/files/{file_id}/parts",
                       body={"part_numbers": [1], "checksums": [b64_sha256(part)]})
    (url,) = signed.body["parts"]
    reply = requests.put(url["url"], data=os.urandom(len(part)), headers=url["headers"], timeout=60)
    assert reply.status_code == 400 and "BadDigest" in reply.text
    parts = files_api("GET", f"/files/{file_id}/parts")
    assert parts.status == 200 and parts.body["parts"] == []
    # A part that matches is listed with the checksum S3 checked, so a resumed client can complete
    good = files_api("POST", f"/files/{file_id}/parts",
                     body={"part_numbers": [1], "checksums": [b64_sha256(part)]}).body["parts"][0]
    assert requests.put(good["url"], data=part, headers=good["headers"], timeout=60).status_code == 200
    listed = files_api("GET", f"/files/{file_id}/parts").body["parts"]
    assert [(p["part_number"], p["checksum_sha256"]) for p in listed] == [(1, b64_sha256(part))]


def test_a_large_object_is_verified_without_reading_it_whole(
        files_api: Api, override_settings: Any, monkeypatch: pytest.MonkeyPatch, s3: Any, db: Any) -> None:
    override_settings(MULTIPART_THRESHOLD_BYTES=str(5 * MIB), MULTIPART_PART_BYTES=str(5 * MIB))
    monkeypatch.setattr(processing, "FULL_READ_MAX_BYTES", 8 * MIB)  # the real limit is 256 MiB
    parts = [PNG_HEAD + os.urandom(5 * MIB - len(PNG_HEAD)), os.urandom(5 * MIB), os.urandom(123)]
    uploaded = _upload_with_part_checksums(files_api, "big.png", parts, "image/png")
    reads: list[dict[str, Any]] = []
    original = s3.get_object

    def spy(**kwargs: Any) -> Any:
        reads.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(s3, "get_object", spy)  # the processor's client is the same cached one
    key = db.execute("SELECT s3_key FROM files WHERE file_id = %s",
                     (uploaded["file_id"],)).fetchone()["s3_key"]
    process(key, uploaded["size"])

    row = db.execute("SELECT status, content_type, checksum_sha256, s3_checksum, thumbnail_key FROM files"
                     " WHERE file_id = %s", (uploaded["file_id"],)).fetchone()
    assert row["status"] == "ready" and row["content_type"] == "image/png"
    assert row["s3_checksum"].startswith("SHA256-COMPOSITE:") and row["s3_checksum"].endswith("-3")
    assert row["checksum_sha256"] is None  # a checksum of parts, honestly not a whole-file SHA-256
    assert row["thumbnail_key"] is None
    assert reads and all(r.get("Range") == f"bytes=0-{processing.media.SNIFF_BYTES - 1}" for r in reads)
    assert all("IfMatch" in r for r in reads)


@pytest.mark.timeout(900)
def test_a_maximum_size_upload_passes_end_to_end(files_api: Api, db: Any) -> None:
    """5 GiB, the largest allowed object, in 16 MiB parts each checked by S3; the processor with its
    real settings verifies it from S3's checksum and the first bytes."""
    size = settings().max_upload_bytes
    part_size = settings().multipart_part_bytes
    count = -(-size // part_size)
    block = PNG_HEAD + os.urandom(part_size - len(PNG_HEAD))
    parts = [block] * (count - 1) + [block[: size - part_size * (count - 1)]]
    uploaded = _upload_with_part_checksums(files_api, "max.png", parts, "image/png")
    key = db.execute("SELECT s3_key FROM files WHERE file_id = %s",
                     (uploaded["file_id"],)).fetchone()["s3_key"]
    try:
        process(key, size)
        row = db.execute("SELECT status, size, s3_checksum FROM files WHERE file_id = %s",
                         (uploaded["file_id"],)).fetchone()
        assert row["status"] == "ready" and row["size"] == size == 5 * 1024**3
        assert row["s3_checksum"].endswith(f"-{count}")
    finally:
        files_api("DELETE", f"/files/{uploaded['file_id']}")
        from fileshare.adapters.aws import client

        client("s3").delete_object(Bucket=settings().upload_bucket, Key=key)  # 5 GiB: do not keep it
