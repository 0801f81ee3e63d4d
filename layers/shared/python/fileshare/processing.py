"""Upload processing: an object arrived under ``u/``; verify it and make the file ready (or reject it).

Steps for a ``pending`` file: GET the object (its headers give the size, checked against the row,
and the same response streams the bytes, so the check and the bytes refer to one object version);
sniff the type from the first bytes; hash the whole stream with bounded memory; thumbnail images;
then one transaction: the guarded transition ``pending -> ready`` plus its outbox event. After the
commit: invalidate the cache, publish inline (never fails the record), index in OpenSearch.

Idempotency and retries (S3 and SQS deliver at least once):
- the transition is ``UPDATE ... WHERE status = 'pending'``: of two workers on one object, one
  gets the row and writes the event; the other sees nothing to do;
- a record for a file that is already ``ready`` re-runs the after-commit steps: the search document
  is created with ``op_type=create`` under the file id (an existing one is a 409, treated as done,
  so a late duplicate never overwrites the ACL a share added), and publishing picks up whatever
  the outbox still holds. So when OpenSearch is down the record fails, SQS redelivers it, and the
  retry indexes the file without touching its state again; no extra column is needed;
- a record for an already ``rejected`` file deletes the object again (idempotent).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from fileshare import events, media
from fileshare.aws import client as aws_client
from fileshare.cache import invalidate_file
from fileshare.config import settings
from fileshare.db import processing as sql
from fileshare.db.connection import transaction
from fileshare.errors import DependencyUnavailable
from fileshare.observability import logger, metrics
from fileshare.search_index import search_document

UPLOAD_PREFIX = "u/"
THUMBNAIL_PREFIX = "t/"  # outside the notification filter: writing here never retriggers processing
CHUNK_BYTES = 1024 * 1024
THUMBNAIL_MAX_SOURCE_BYTES = 50 * 1024 * 1024  # larger images are hashed but not thumbnailed


class Outcome(StrEnum):
    READY = "ready"
    REJECTED = "rejected"
    ALREADY_DONE = "already_done"  # a duplicate or a retry: state unchanged, side effects ensured
    IGNORED = "ignored"  # not ours: another prefix or bucket, an unknown key, a vanished object


@dataclass(frozen=True)
class S3Object:
    """What an S3 ObjectCreated record says (the key already URL-decoded)."""

    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None


def thumbnail_key(owner_id: str, file_id: UUID) -> str:
    return f"{THUMBNAIL_PREFIX}{owner_id}/{file_id}.webp"


def process_object(obj: S3Object) -> Outcome:
    """Process one created object. Raises when the record should be retried (a dependency down)."""
    log = {"bucket": obj.bucket, "key": obj.key}
    if not obj.key.startswith(UPLOAD_PREFIX) or obj.bucket != settings().upload_bucket:
        logger.info("ignoring an object outside the upload prefix", extra=log)
        return Outcome.IGNORED
    with transaction() as conn:
        row = sql.get_by_key(conn, obj.key)
    if row is None:
        logger.warning("no file row for this object; dropping the event", extra=log)
        metrics.add_metric(name="UnknownObjects", unit="Count", value=1)
        return Outcome.IGNORED
    file_id: UUID = row["file_id"]
    logger.append_keys(file_id=str(file_id))
    try:
        if row["status"] == "pending":
            return _process_pending(obj, row)
        if row["status"] == "ready":
            _after_ready(row)
        elif row["status"] == "rejected":
            _after_rejected(row)
        logger.info("file already processed", extra={**log, "status": row["status"]})
        return Outcome.ALREADY_DONE
    finally:
        logger.remove_keys(["file_id"])


def _process_pending(obj: S3Object, row: dict[str, Any]) -> Outcome:
    s3 = aws_client("s3")
    try:
        response = s3.get_object(Bucket=obj.bucket, Key=obj.key)
    except s3.exceptions.NoSuchKey:
        logger.warning("object is gone; nothing to process", extra={"key": obj.key})
        return Outcome.IGNORED
    body = response["Body"]
    try:
        if int(response["ContentLength"]) != int(row["size"]):
            return _reject(row, "size_mismatch")
        head = body.read(media.SNIFF_BYTES)
        verdict = media.check_type(row["content_type"], head, settings().allowed_content_types)
        if not verdict.ok:
            return _reject(row, verdict.reason or "content_type_mismatch")
        digest = hashlib.sha256(head)
        keep = verdict.effective_type in media.THUMBNAIL_SOURCES and row["size"] <= THUMBNAIL_MAX_SOURCE_BYTES
        image = bytearray(head) if keep else None
        total = len(head)
        for chunk in body.iter_chunks(CHUNK_BYTES):
            digest.update(chunk)
            total += len(chunk)
            if image is not None:
                image += chunk
    finally:
        body.close()
    if total != row["size"]:
        raise DependencyUnavailable(f"read {total} of {row['size']} bytes; retrying")
    thumb_key = _store_thumbnail(row, bytes(image)) if image is not None else None
    return _finish(row, digest.hexdigest(), verdict.effective_type, thumb_key)


def _store_thumbnail(row: dict[str, Any], image: bytes) -> str | None:
    webp = media.thumbnail(image)
    if webp is None:
        logger.warning("no thumbnail: image not decodable or too large")
        metrics.add_metric(name="ThumbnailSkipped", unit="Count", value=1)
        return None
    key = thumbnail_key(row["owner_id"], row["file_id"])
    aws_client("s3").put_object(Bucket=settings().upload_bucket, Key=key, Body=webp,
                                ContentType="image/webp", CacheControl="private, max-age=86400")
    return key


def _finish(row: dict[str, Any], checksum: str, content_type: str, thumb_key: str | None) -> Outcome:
    """One transaction: quota re-check, the guarded transition, the outbox event."""
    file_id: UUID = row["file_id"]
    ready: dict[str, Any] | None = None
    rejected: dict[str, Any] | None = None
    with transaction() as conn:
        quota = sql.lock_owner_quota(conn, row["owner_id"])
        used = sql.stored_bytes(conn, row["owner_id"], excluding=file_id)
        if quota is not None and used + int(row["size"]) > quota:
            rejected = sql.mark_rejected(conn, file_id, "quota_exceeded")
            if rejected is not None:
                events.record(conn, _rejected_event(rejected))
        else:
            ready = sql.mark_ready(conn, file_id, checksum_sha256=checksum, content_type=content_type,
                                   thumbnail_key=thumb_key)
            if ready is not None:
                events.record(conn, events.Event(
                    type=events.EventType.FILE_READY, file_id=file_id, owner_id=ready["owner_id"],
                    data={"name": ready["name"], "size": ready["size"], "content_type": content_type,
                          "checksum_sha256": checksum, "thumbnail_key": thumb_key}))
    if rejected is not None:
        _after_rejected(rejected)
        _count("FilesRejected", rejected)
        return Outcome.REJECTED
    if ready is None:  # another worker made the transition first; make sure its side effects exist
        logger.info("another worker processed this file first")
        with transaction() as conn:
            current = sql.get_by_key(conn, row["s3_key"])
        if current is not None and current["status"] == "ready":
            _after_ready(current)
        return Outcome.ALREADY_DONE
    _after_ready(ready)
    _count("FilesReady", ready)
    return Outcome.READY


def _reject(row: dict[str, Any], reason: str) -> Outcome:
    with transaction() as conn:
        rejected = sql.mark_rejected(conn, row["file_id"], reason)
        if rejected is not None:
            events.record(conn, _rejected_event(rejected))
    if rejected is None:
        return Outcome.ALREADY_DONE
    logger.info("file rejected", extra={"reason": reason})
    _after_rejected(rejected)
    _count("FilesRejected", rejected)
    return Outcome.REJECTED


def _rejected_event(row: dict[str, Any]) -> events.Event:
    return events.Event(type=events.EventType.FILE_REJECTED, file_id=row["file_id"],
                        owner_id=row["owner_id"],
                        data={"name": row["name"], "reason": row["reject_reason"]})


def _after_rejected(row: dict[str, Any]) -> None:
    """Remove the object (raises so the record is retried), then cache and event, which never fail."""
    aws_client("s3").delete_object(Bucket=settings().upload_bucket, Key=row["s3_key"])
    invalidate_file(row["file_id"])
    events.publish_now([row["file_id"]])


def _after_ready(row: dict[str, Any]) -> None:
    """Cache and event first (they never fail the record), then the search document (may raise)."""
    invalidate_file(row["file_id"])
    events.publish_now([row["file_id"]])
    _index(row)


def _index(row: dict[str, Any]) -> None:
    """Create the file's search document once; an existing document means a previous attempt did it."""
    from opensearchpy.exceptions import ConflictError

    from fileshare.search_client import client as search_client

    with transaction() as conn:
        readers = sql.readers(conn, row["file_id"], row["owner_id"])
    try:
        search_client().index(index=settings().search_alias, id=str(row["file_id"]),
                              body=search_document(row, readers), op_type="create")
    except ConflictError:
        return
    except Exception as exc:
        metrics.add_metric(name="IndexingFailed", unit="Count", value=1)
        raise DependencyUnavailable(f"indexing failed: {exc!r}") from exc


def _count(name: str, row: dict[str, Any]) -> None:
    metrics.add_metric(name=name, unit="Count", value=1)
    created = row.get("created_at")
    if created is not None:
        latency_ms = (time.time() - created.timestamp()) * 1000
        metrics.add_metric(name="UploadToProcessedMs", unit="Milliseconds", value=latency_ms)
