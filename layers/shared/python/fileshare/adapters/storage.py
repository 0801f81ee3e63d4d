"""Every S3 call: presigning uploads (POST policy, multipart) and downloads, and the processor's
reads and writes (HEAD/GET of an uploaded object, the thumbnail, deletes). No file bytes pass
through the API; only the processor streams an object it verifies.

boto3 is imported on first use, so a function that only reads metadata never loads it.
"""

from __future__ import annotations

import math
import time
import unicodedata
from collections import OrderedDict
from contextlib import suppress
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from fileshare import media
from fileshare.adapters import aws, telemetry, tracing
from fileshare.config import settings
from fileshare.errors import Conflict, DependencyUnavailable, ValidationFailed

MAX_PARTS = 10_000
MIN_PART_BYTES = 5 * 1024**2  # S3's minimum for every part but the last
POST_TTL_BASE_S = 300  # time to start the upload after POST /files answered
POST_TTL_BYTES_PER_S = 64 * 1024  # a slow link's throughput, for the time the bytes take


THUMBNAIL_PREFIX = "t/"  # outside the notification filter: writing here never retriggers processing


def thumbnail_key(owner_id: str, file_id: object) -> str:
    """Where a file's WebP thumbnail lives (derived, so every step can find it without the row)."""
    return f"{THUMBNAIL_PREFIX}{owner_id}/{file_id}.webp"


VERSION_SEGMENT = "v"  # u/<owner>/<file>/v/<version>/<name>: a later version's key


def version_key(owner_id: str, file_id: object, version_id: object, safe_name: str) -> str:
    """The one key a later version's bytes may be written to (its own, immutable: explicit version
    keys, not S3 bucket versioning)."""
    return f"u/{owner_id}/{file_id}/{VERSION_SEGMENT}/{version_id}/{safe_name}"


def version_id_of_key(owner_id: str, file_id: object, key: str) -> str | None:
    """The version id in a later version's key; None for the first upload's key."""
    prefix = f"u/{owner_id}/{file_id}/{VERSION_SEGMENT}/"
    if not key.startswith(prefix):
        return None
    version, sep, _name = key[len(prefix):].partition("/")
    return version if sep and version else None


def thumbnail_key_for(owner_id: str, file_id: object, key: str) -> str:
    """Where the thumbnail of the version stored at ``key`` lives: ``thumbnail_key`` for the first
    upload, ``t/<owner>/<file>/<version>.webp`` for a later one (so versions never share one)."""
    version = version_id_of_key(owner_id, file_id, key)
    if version is None:
        return thumbnail_key(owner_id, file_id)
    return f"{THUMBNAIL_PREFIX}{owner_id}/{file_id}/{version}.webp"


def _s3() -> Any:
    return aws.client("s3")


def object_key(owner_id: str, file_id: object, safe_name: str) -> str:
    """The one key a file's bytes may be written to (the POST policy and the processor pin it)."""
    return f"u/{owner_id}/{file_id}/{safe_name}"


def post_ttl_s(size: int) -> int:
    """How long a presigned POST for ``size`` bytes stays valid: ``POST_TTL_BASE_S`` plus the time
    the bytes take at ``POST_TTL_BYTES_PER_S``, at most the configured presign TTL.

    The policy can be used again until it expires, so the shorter the better: a small file's
    window shrinks from the full TTL to about five minutes (the processor verifies a rewritten
    object again and deletes one whose file is gone, so this narrows the window, it is not the
    guard). Clients ask for the POST right before sending (``POST /files`` then the upload).
    """
    return min(settings().presign_ttl_s, POST_TTL_BASE_S + size // POST_TTL_BYTES_PER_S)


def presigned_post(key: str, size: int, content_type: str, *, checksum_sha256: str | None = None
                   ) -> dict[str, Any]:
    """A POST policy for exactly this key, exactly this size and this Content-Type; with the file's
    SHA-256 (base64) it is signed too, and S3 refuses bytes that do not match it."""
    fields: dict[str, str] = {"Content-Type": content_type}
    if checksum_sha256:
        fields.update({"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": checksum_sha256})
    fields.update(_correlation_fields())
    post = _s3().generate_presigned_post(
        Bucket=settings().upload_bucket,
        Key=key,  # boto3 adds the exact {"key": key} and bucket conditions
        Fields=fields,
        Conditions=[*({name: value} for name, value in fields.items()), ["content-length-range", size, size]],
        ExpiresIn=post_ttl_s(size),
    )
    return {"url": post["url"], "fields": {k: str(v) for k, v in post["fields"].items()}}


def _correlation_fields() -> dict[str, str]:
    """The request's correlation id and trace context as object metadata the POST must carry (the
    processor logs under the one and continues the other)."""
    return {f"x-amz-meta-{name}": value for name, value in _upload_metadata().items()}


def _upload_metadata() -> dict[str, str]:
    """The object metadata of an upload: the request's correlation id and W3C traceparent."""
    values = {telemetry.CORRELATION_META: telemetry.correlation_id(),
              tracing.TRACEPARENT: tracing.traceparent()}
    return {name: value for name, value in values.items() if value}


def part_plan(size: int, preferred_part_bytes: int) -> tuple[int, int]:
    """(part size, part count) for ``size`` bytes: at least 5 MiB parts, at most 10,000 parts."""
    part = max(preferred_part_bytes, MIN_PART_BYTES, math.ceil(size / MAX_PARTS))
    return part, math.ceil(size / part)


FIRST_BATCH_PARTS = 8  # parts signed by POST /files; the client asks for the rest as it goes
MAX_SIGN_BATCH = 100  # part numbers per POST /files/{id}/parts


def start_multipart(key: str, size: int, content_type: str, *, checksum_algorithm: str | None = None
                    ) -> dict[str, Any]:
    """Create the multipart upload and sign its first batch of parts (the rest are signed on demand).

    With ``checksum_algorithm="SHA256"`` S3 checks every part against the SHA-256 its URL signs, so
    no part is signed before the client says its checksum (POST /files/{id}/parts).
    """
    part_size, count = part_plan(size, settings().multipart_part_bytes)
    extra: dict[str, Any] = {"ChecksumAlgorithm": checksum_algorithm} if checksum_algorithm else {}
    metadata = _upload_metadata()
    if metadata:  # the processor logs under the request that started the upload, and continues its trace
        extra["Metadata"] = metadata
    upload_id = _s3().create_multipart_upload(Bucket=settings().upload_bucket, Key=key,
                                              ContentType=content_type, **extra)["UploadId"]
    first = [] if checksum_algorithm else list(range(1, min(count, FIRST_BATCH_PARTS) + 1))
    return {"upload_id": upload_id, "part_size": part_size, "part_count": count,
            "parts": sign_parts(key, upload_id, size, first)}


def sign_parts(key: str, upload_id: str, size: int, numbers: list[int], *,
               checksums: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Presigned UploadPart URLs for ``numbers`` (each in 1..part count).

    Each URL signs its part's exact Content-Length, as the POST policy pins the size: the parts can
    only add up to the declared size, so a multipart upload cannot exceed the quota either. With
    ``checksums`` (part number -> SHA-256, base64) each URL also signs ``x-amz-checksum-sha256``:
    the client sends that header and S3 refuses the part if the bytes do not match.
    """
    s3, bucket, ttl = _s3(), settings().upload_bucket, settings().presign_ttl_s
    part_size, _count = part_plan(size, settings().multipart_part_bytes)
    signed = []
    for n in numbers:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": n,
                                  "ContentLength": min(part_size, size - part_size * (n - 1))}
        if checksums is not None:
            params["ChecksumSHA256"] = checksums[n]
        part: dict[str, Any] = {"part_number": n,
                                "url": s3.generate_presigned_url("upload_part", ExpiresIn=ttl, Params=params)}
        if checksums is not None:
            part["headers"] = {"x-amz-checksum-sha256": checksums[n]}
        signed.append(part)
    return signed


def list_parts(key: str, upload_id: str) -> list[dict[str, Any]]:
    """The parts S3 already holds for this upload (every page of ListParts), by part number."""
    parts: list[dict[str, Any]] = []
    try:
        for page in _s3().get_paginator("list_parts").paginate(
                Bucket=settings().upload_bucket, Key=key, UploadId=upload_id):
            parts += [{"part_number": int(p["PartNumber"]), "etag": str(p["ETag"]), "size": int(p["Size"]),
                       "checksum_sha256": p.get("ChecksumSHA256")}
                      for p in page.get("Parts", [])]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") == "NoSuchUpload":
            raise Conflict("the multipart upload no longer exists", code="upload_not_found") from exc
        raise
    return sorted(parts, key=lambda p: p["part_number"])


def expected_parts(size: int) -> int:
    return part_plan(size, settings().multipart_part_bytes)[1]


COMPLETE_READ_TIMEOUT_S = 25  # under the files function's 29 s (API Gateway's longest integration)


def _s3_for_complete() -> Any:
    """S3 assembles the object while CompleteMultipartUpload waits (seconds for thousands of parts):
    a longer read timeout, and one attempt: a complete retried while the first is still running is
    not safe everywhere (LocalStack assembled an empty object), and the caller can retry the route."""
    return aws.client("s3", read_timeout_s=COMPLETE_READ_TIMEOUT_S, connect_timeout_s=2, max_attempts=1)


def complete_multipart(key: str, upload_id: str, parts: list[tuple[int, str, str | None]]) -> None:
    """Complete the upload; S3 then emits ObjectCreated:CompleteMultipartUpload."""
    try:
        _s3_for_complete().complete_multipart_upload(
            Bucket=settings().upload_bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag,
                                        **({"ChecksumSHA256": checksum} if checksum else {})}
                                       for n, etag, checksum in parts]})
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidRequest", "BadDigest"):
            raise ValidationFailed(f"S3 refused the parts: {code}", code="invalid_parts") from exc
        if code == "NoSuchUpload":
            if _completed_already(key, len(parts)):  # a retried complete whose first try finished
                return
            raise Conflict("the multipart upload no longer exists", code="upload_not_found") from exc
        raise


def _completed_already(key: str, part_count: int) -> bool:
    """Whether ``key`` holds a multipart object of ``part_count`` parts (its ETag ends ``-N``): the
    earlier complete of a client that timed out (503) and retried went through after all."""
    try:
        head = _s3().head_object(Bucket=settings().upload_bucket, Key=key)
    except ClientError:
        return False
    return str(head.get("ETag", "")).strip('"').endswith(f"-{part_count}")


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(ch if ch.isprintable() and ch not in '"\\;' else "_" for ch in ascii_name).strip()
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(name, safe='')}"


def presigned_get(key: str, *, download_name: str | None = None, content_type: str | None = None,
                  expires_in: int | None = None) -> str:
    """A presigned GET, valid ``expires_in`` seconds (default: the configured presign TTL).

    Active content (``media.is_active``: HTML, SVG, XML, script) is answered as
    ``application/octet-stream`` and an attachment whatever the caller asked, so the bucket's
    origin never renders or runs an uploaded page."""
    params: dict[str, Any] = {"Bucket": settings().upload_bucket, "Key": key}
    if content_type and media.is_active(content_type):
        content_type = media.INERT_TYPE
        download_name = download_name if download_name is not None else "download"
    if download_name is not None:
        params["ResponseContentDisposition"] = content_disposition(download_name)
    if content_type:
        params["ResponseContentType"] = content_type
    url: str = _s3().generate_presigned_url("get_object", Params=params,
                                            ExpiresIn=expires_in or settings().presign_ttl_s)
    return url


THUMBNAIL_URLS_KEPT = 4096
_thumbnail_urls: OrderedDict[str, tuple[float, str]] = OrderedDict()  # key -> (reuse until, URL)


def thumbnail_url(key: str | None) -> str | None:
    """A presigned GET of a thumbnail (WebP), or None without one.

    A warm function reuses a thumbnail's URL while at least half its lifetime is left: signing
    costs ~0.5-0.9 ms, a list page has up to 50 thumbnails, and a URL that stays the same lets the
    browser cache the image. The URL is only ever handed out after the caller's access was checked;
    it grants no more than the one it replaces (same key, same lifetime bound)."""
    if not key:
        return None
    now = time.monotonic()
    cached = _thumbnail_urls.get(key)
    if cached is not None and cached[0] > now:
        _thumbnail_urls.move_to_end(key)
        return cached[1]
    ttl = settings().presign_ttl_s
    url = presigned_get(key, content_type="image/webp", expires_in=ttl)
    _thumbnail_urls[key] = (now + ttl / 2, url)
    _thumbnail_urls.move_to_end(key)
    while len(_thumbnail_urls) > THUMBNAIL_URLS_KEPT:
        _thumbnail_urls.popitem(last=False)
    return url


def delete_objects(keys: list[str]) -> None:
    """One DeleteObjects request; S3 reports a missing key as deleted, so a replay succeeds."""
    response = _s3().delete_objects(
        Bucket=settings().upload_bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
    errors = response.get("Errors") or []
    if errors:
        codes = sorted({str(e.get("Code")) for e in errors})
        raise DependencyUnavailable(f"S3 did not delete {len(errors)} object(s): {codes}")


def abort_multipart(key: str, upload_id: str) -> None:
    """Abort an unfinished multipart upload and drop its parts; one already gone is fine."""
    s3 = _s3()
    with suppress(s3.exceptions.NoSuchUpload):
        s3.abort_multipart_upload(Bucket=settings().upload_bucket, Key=key, UploadId=upload_id)


# ---- the processor's reads and writes ------------------------------------------------------------

class ObjectChanged(DependencyUnavailable):
    """The object was replaced between two reads (a conditional GET failed): a new event follows."""


def _missing(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in ("404", "NoSuchKey", "NotFound")


def head_object(key: str) -> dict[str, Any] | None:
    """HEAD with S3's checksum (``ChecksumMode=ENABLED``); None when the object is gone."""
    try:
        head: dict[str, Any] = _s3().head_object(Bucket=settings().upload_bucket, Key=key,
                                                 ChecksumMode="ENABLED")
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    return head


def get_object(key: str, *, first_bytes: int | None = None, if_match: str | None = None
               ) -> dict[str, Any] | None:
    """GET the object (the body streams on demand), whole with S3's checksum or only its first
    ``first_bytes``; with ``if_match`` only that version (``ObjectChanged`` otherwise). None when
    the object is gone."""
    params: dict[str, Any] = {"Bucket": settings().upload_bucket, "Key": key}
    if first_bytes is not None:
        params["Range"] = f"bytes=0-{first_bytes - 1}"
    else:
        params["ChecksumMode"] = "ENABLED"
    if if_match is not None:
        params["IfMatch"] = if_match
    s3 = _s3()
    try:
        response: dict[str, Any] = s3.get_object(**params)
    except s3.exceptions.NoSuchKey:
        return None
    except ClientError as exc:
        if _missing(exc):
            return None
        if exc.response.get("Error", {}).get("Code") in ("412", "PreconditionFailed"):
            raise ObjectChanged("the object changed while it was verified; retrying") from exc
        raise
    return response


def put_thumbnail(key: str, webp: bytes) -> None:
    """Store a WebP thumbnail under ``THUMBNAIL_PREFIX`` (outside the processing trigger)."""
    _s3().put_object(Bucket=settings().upload_bucket, Key=key, Body=webp, ContentType="image/webp",
                     CacheControl="private, max-age=86400")
