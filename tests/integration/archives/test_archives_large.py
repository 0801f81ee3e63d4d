"""An archive of more than 4 GiB of input (issue 14: "tested with more than 4 GiB"), on the real
LocalStack S3 and PostgreSQL: one 4.25 GiB source (an entry over 4 GiB: ZIP64 sizes) followed by
small ones (entries past the 4 GiB offset: ZIP64 offsets), then the central directory read back
with stdlib ``zipfile`` through ranged GETs (the ZIP is never downloaded whole), CRCs compared.

The big source is made cheaply: one 64 MiB seed object and a multipart upload whose parts are
all UploadPartCopy of it (S3 copies, nothing passes through this process). Every object is
deleted afterwards. Needs ~9 GiB free where LocalStack keeps its objects.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
import zipfile
import zlib
from typing import Any

import pytest

from tests.integration.archives.conftest import BUCKET
from tests.integration.conftest import Api, User, _load_handler

MIB = 1024**2
SEED = 64 * MIB
COPIES = 68  # 68 x 64 MiB = 4.25 GiB


class S3RangeFile(io.RawIOBase):
    """A read-only, seekable view of an S3 object: each read is one ranged GET."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        super().__init__()
        self.s3, self.bucket, self.key = s3, bucket, key
        self.size = int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
        self.pos = 0
        self.gets = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, n: int = -1) -> bytes:
        if self.pos >= self.size:
            return b""
        end = self.size if n is None or n < 0 else min(self.size, self.pos + n)
        body = self.s3.get_object(Bucket=self.bucket, Key=self.key,
                                  Range=f"bytes={self.pos}-{end - 1}")["Body"]
        data: bytes = body.read()
        self.gets += 1
        self.pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _big_object(s3: Any, key: str, seed_key: str) -> int:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = []
    for number in range(1, COPIES + 1):
        copied = s3.upload_part_copy(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number,
                                     CopySource={"Bucket": BUCKET, "Key": seed_key})
        parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
    _patient(s3).complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                           MultipartUpload={"Parts": parts})
    return SEED * COPIES


def _patient(s3: Any) -> Any:
    """A client that waits while LocalStack assembles gigabytes (one attempt: no overlapping retry)."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=s3.meta.endpoint_url, region_name=s3.meta.region_name,
                        config=Config(s3={"addressing_style": "path"}, read_timeout=900,
                                      retries={"total_max_attempts": 1}))


@pytest.mark.timeout(1800)
def test_more_than_4_gib_of_input_makes_a_valid_zip64_archive(alice: User, db: Any, s3: Any) -> None:
    from fileshare.archives import worker as archiving

    if shutil.disk_usage("/").free < 12 * 1024**3:
        pytest.skip("needs ~12 GiB free disk for LocalStack's copies of 4.25 GiB source and archive")
    api = Api(_load_handler("archives"), alice.claims)
    db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s)",
               (alice.user_id, alice.email, 10**13))
    seed = os.urandom(SEED)
    seed_key = f"u/{alice.user_id}/seed-{uuid.uuid4()}"
    s3.put_object(Bucket=BUCKET, Key=seed_key, Body=seed)
    small = {"after-4gib.txt": b"written past the 4 GiB offset\n" * 1000, "tiny.bin": os.urandom(4097)}
    keys = [seed_key]
    archive_key = None
    try:
        file_ids = []
        for name, data in [("huge.bin", None), *small.items()]:
            file_id = uuid.uuid4()
            key = f"u/{alice.user_id}/{file_id}/{name}"
            keys.append(key)
            size = _big_object(s3, key, seed_key) if data is None else len(data)
            if data is not None:
                s3.put_object(Bucket=BUCKET, Key=key, Body=data)
            db.execute("INSERT INTO files (file_id, owner_id, name, s3_key, size, content_type, status)"
                       " VALUES (%s, %s, %s, %s, %s, 'application/octet-stream', 'ready')",
                       (file_id, alice.user_id, name, key, size))
            file_ids.append(str(file_id))

        # When the archive of all three is requested and built
        queued = api("POST", "/archives", body={"file_ids": file_ids, "name": "big"})
        assert queued.status == 202, queued.body
        total = queued.body["bytes_total"]
        assert total == SEED * COPIES + sum(len(d) for d in small.values()) > 4 * 1024**3
        archive_id = queued.body["archive_id"]
        assert archiving.run(uuid.UUID(archive_id)) is archiving.Outcome.BUILT
        job = api("GET", f"/archives/{archive_id}").body
        assert job["status"] == "ready" and job["bytes_done"] == total and job["files_done"] == 3
        archive_key = db.execute("SELECT s3_key FROM archives WHERE archive_id = %s",
                                 (archive_id,)).fetchone()["s3_key"]

        # Then stdlib zipfile reads its ZIP64 central directory through ranged GETs
        remote = S3RangeFile(s3, BUCKET, archive_key)
        assert remote.size == job["size"] > 4 * 1024**3
        with zipfile.ZipFile(remote) as archive:
            infos = {i.filename: i for i in archive.infolist()}
            assert list(infos) == ["huge.bin", "after-4gib.txt", "tiny.bin"]
            huge = infos["huge.bin"]
            assert huge.file_size == huge.compress_size == SEED * COPIES > 0xFFFFFFFF
            assert infos["after-4gib.txt"].header_offset > 0xFFFFFFFF  # needs the ZIP64 extra
            # the big entry's CRC is the seed's, repeated: computed here without S3
            crc = 0
            for _ in range(COPIES):
                crc = zlib.crc32(seed, crc)
            assert crc == huge.CRC
            # the entries past 4 GiB open (local headers found at 64-bit offsets) with their bytes and CRCs
            for name, data in small.items():
                assert zlib.crc32(data) == infos[name].CRC
                assert archive.read(name) == data  # zipfile checks the CRC as it reads
            # and the first and last bytes of the big entry are the seed's
            with archive.open("huge.bin") as entry:
                assert entry.read(4096) == seed[:4096]
        assert remote.gets < 50  # the archive was never read whole
    finally:
        from contextlib import suppress

        for key in [*keys, *([archive_key] if archive_key else [])]:
            with suppress(Exception):
                s3.delete_object(Bucket=BUCKET, Key=key)
        prefixes = (f"u/{alice.user_id}/", f"a/{alice.user_id}/")
        for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
            if upload["Key"].startswith(prefixes):
                with suppress(Exception):
                    s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
