"""Streaming S3 I/O for archives: ranged reads of source objects and a write-only stream into a
multipart upload, so a ZIP of any size is built with bounded memory.

``MultipartSink`` is a non-seekable file object: stdlib ``zipfile`` writing to it emits each entry's
local header, its bytes and a data descriptor (sizes and CRC after the data), then the central
directory, ZIP64 records included once sizes or offsets pass 4 GiB. The sink holds one part
(``part_bytes``) being filled plus at most ``inflight`` parts being uploaded by a small thread pool;
a source is read ``chunk_bytes`` at a time with ``Range`` GETs pinned to the ETag its HEAD saw.
Memory: about ``(inflight + 1) * part_bytes + chunk_bytes`` whatever the archive's size.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from fileshare.adapters import aws
from fileshare.adapters.storage import MAX_PARTS, MIN_PART_BYTES
from fileshare.config import settings

CHUNK_BYTES = 8 * 1024**2


def _s3() -> Any:
    return aws.client("s3")


COMPLETE_READ_TIMEOUT_S = 300  # S3 assembles thousands of parts while the call waits; < the archiver's 900 s


def _s3_for_complete() -> Any:
    """CompleteMultipartUpload of a big archive: a long read timeout and one attempt (a retry
    overlapping a completion still running is not safe everywhere; see ``storage._s3_for_complete``)."""
    return aws.client("s3", read_timeout_s=COMPLETE_READ_TIMEOUT_S, connect_timeout_s=5, max_attempts=1)


def error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ``ClientError`` ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def head(key: str) -> tuple[int, str]:
    """(size, ETag) of an object; raises botocore's ClientError (404 when it is gone)."""
    response = _s3().head_object(Bucket=settings().upload_bucket, Key=key)
    return int(response["ContentLength"]), str(response["ETag"])


def read_ranges(key: str, size: int, etag: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The object's bytes in ``chunk_bytes`` ranged GETs, each only if the object is still ``etag``
    (a replaced object fails with PreconditionFailed instead of mixing two versions)."""
    s3, bucket = _s3(), settings().upload_bucket
    start = 0
    while start < size:
        end = min(start + chunk_bytes, size) - 1
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}", IfMatch=etag)["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        if len(data) != end - start + 1:
            raise OSError(f"short read of {key}: {len(data)} bytes for range {start}-{end}")
        yield data
        start = end + 1


def part_size_for(total_bytes: int, preferred: int) -> int:
    """A part size that fits ``total_bytes`` (plus ZIP overhead) into S3's 10 000 parts."""
    return max(preferred, MIN_PART_BYTES, -(-int(total_bytes * 1.01 + 16 * 1024**2) // MAX_PARTS))


class MultipartSink(io.RawIOBase):
    """Write-only, non-seekable: bytes written become parts of one S3 multipart upload.

    ``start()`` creates the upload; ``complete()`` flushes the last part and completes it; ``abort()``
    drops every part (always safe to call). ``on_part(bytes_uploaded)`` runs after each part.
    """

    def __init__(self, key: str, *, part_bytes: int, inflight: int = 2, content_type: str = "application/zip",
                 on_part: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.key = key
        self.part_bytes = part_bytes
        self.inflight = max(1, inflight)
        self.content_type = content_type
        self.upload_id: str | None = None
        self.written = 0
        self.uploaded = 0
        self._on_part = on_part
        self._discard = False
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._pending: list[tuple[int, Future[dict[str, Any]]]] = []
        self._pool = ThreadPoolExecutor(max_workers=self.inflight, thread_name_prefix="zip-part")

    def start(self) -> str:
        self.upload_id = str(_s3().create_multipart_upload(
            Bucket=settings().upload_bucket, Key=self.key, ContentType=self.content_type)["UploadId"])
        return self.upload_id

    def writable(self) -> bool:
        return True

    def discard(self) -> None:
        """From now on writes are dropped (an error is unwinding; the upload will be aborted)."""
        self._discard = True
        self._buffer.clear()

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self._discard:
            return len(view)
        self._buffer += view
        self.written += len(view)
        while len(self._buffer) >= self.part_bytes:
            chunk = bytes(self._buffer[:self.part_bytes])
            del self._buffer[:self.part_bytes]
            self._submit(chunk)
        return len(view)

    def _submit(self, chunk: bytes) -> None:
        if self.upload_id is None:
            raise RuntimeError("start() the upload first")
        number = len(self._parts) + len(self._pending) + 1
        while len(self._pending) >= self.inflight:  # bounded memory: wait for the oldest part
            self._collect_oldest()
        self._pending.append((len(chunk), self._pool.submit(self._upload, number, chunk)))

    def _upload(self, number: int, chunk: bytes) -> dict[str, Any]:
        response = _s3().upload_part(Bucket=settings().upload_bucket, Key=self.key, UploadId=self.upload_id,
                                     PartNumber=number, Body=chunk)
        return {"PartNumber": number, "ETag": response["ETag"]}

    def _collect_oldest(self) -> None:
        size, future = self._pending.pop(0)
        self._parts.append(future.result())  # re-raises the part's S3 error here
        self.uploaded += size
        if self._on_part is not None:
            self._on_part(self.uploaded)

    def complete(self) -> int:
        """Upload what is left and complete the upload; the object's size."""
        if self._discard:
            raise RuntimeError("the sink was discarded")
        if self._buffer or not (self._parts or self._pending):
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._submit(chunk)
        while self._pending:
            self._collect_oldest()
        _s3_for_complete().complete_multipart_upload(Bucket=settings().upload_bucket, Key=self.key,
                                        UploadId=self.upload_id, MultipartUpload={"Parts": self._parts})
        self._pool.shutdown(wait=True)
        return self.written

    def abort(self) -> None:
        """Drop the upload and its parts (nothing half-written stays); idempotent, never raises."""
        for _size, future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
        self._buffer.clear()
        if self.upload_id is not None:
            with suppress(Exception):  # the sweeper and the bucket's lifecycle rule are the backstops
                _s3().abort_multipart_upload(Bucket=settings().upload_bucket, Key=self.key,
                                             UploadId=self.upload_id)
