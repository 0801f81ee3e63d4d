"""Upload processing: an object arrived under ``u/``; verify it and make the file ready (or reject it).

Steps for a ``pending`` file: GET the object (its headers give the size, checked against the row,
and the same response streams the bytes, so the check and the bytes refer to one object version);
sniff the type from the first bytes; hash the whole stream with bounded memory; thumbnail images;
(an object larger than ``FULL_READ_MAX_BYTES`` that S3 itself checksummed, every part against the
SHA-256 signed into its presigned URL, is not re-read: HEAD gives size and S3's checksum, a ranged
GET pinned to that version by ETag gives the bytes to sniff, and S3's checksum is recorded);
then one transaction: the guarded transition ``pending -> ready`` plus its outbox event, recording
the verified object's ETag. After the commit: invalidate the cache, publish inline (never fails the
record), index in OpenSearch.

What an event can find (keys are server-chosen and the row is committed before the presigned POST
is handed out, so every object under ``u/`` should belong to a live row):
- ``pending``: verify, as above;
- ``ready`` and the event's (or else the current object's) ETag is the verified one: a duplicate;
- ``ready`` but the object now has another ETag: the owner wrote the key again while the presigned
  POST was still valid. The current bytes are verified again, against the file's current type: if
  they pass, checksum, type, thumbnail and ETag are updated and ``file.updated`` announces it; if
  they fail, the file becomes ``rejected`` with the reason, its objects and search document go, and
  ``file.rejected`` is sent;
- ``rejected``: the object is deleted again (idempotent);
- ``trashed``: handled as the status it had before the trash, the outcome written to
  ``status_before_trash``; so a file trashed while its upload was on the way is verified, and a
  restore lands on ``ready`` or ``rejected``, never on a ``pending`` that nothing would finish;
- no row, or a file being purged: the object is garbage (bytes sent after a purge with a presigned
  POST still valid, say) and is deleted.

Every status change is a trigger of the lifecycle table (``fileshare.lifecycle``): VERIFY and
REJECT out of ``pending``, REVERIFY and REJECT_REPLACED for a replaced object of a ``ready`` file,
each also applying to a trashed file's status before the trash. Every S3 call goes through
``fileshare.adapters.storage``.

Idempotency and retries (S3 and SQS deliver at least once):
- every transition is a guarded UPDATE (see ``db.processing``): of two workers on one object, one
  gets the row and writes the event; the other sees nothing to do (or, re-verifying, starts over
  from the row the winner wrote);
- a record for a file that is already ``ready`` re-runs the after-commit steps: the search document
  is created with ``op_type=create`` under the file id (an existing one is a 409, treated as done,
  so a late duplicate never overwrites the ACL a share added), and publishing picks up whatever
  the outbox still holds. So when OpenSearch is down the record fails, SQS redelivers it, and the
  retry indexes the file without touching its state again;
- a record for an already ``rejected`` file deletes its objects and any search document again.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from fileshare import event_types, events, media, records
from fileshare.adapters import storage, telemetry, tracing
from fileshare.adapters.cache import invalidate_file
from fileshare.adapters.observability import logger, metrics
from fileshare.adapters.storage import delete_objects, thumbnail_key_for
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import folders as folders_db
from fileshare.db import processing as sql
from fileshare.db import versions as versions_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.db.versions import VersionRow, current_version_id
from fileshare.errors import DependencyUnavailable
from fileshare.lifecycle import TAKES_VERSIONS, FileStatus, State, Trigger, VersionStatus, emits
from fileshare.search import index as search_index

UPLOAD_PREFIX = "u/"
CHUNK_BYTES = 1024 * 1024
THUMBNAIL_MAX_SOURCE_BYTES = 50 * 1024 * 1024  # larger images are hashed but not thumbnailed
# Objects up to this size are read and hashed whole (at ~80 MB/s from S3 in Lambda, 256 MiB take
# about 3.5 s); larger ones with an S3 checksum are verified from HEAD plus the first bytes only.
# infra/README.md has the sizing arithmetic behind the processor's timeout and batch size.
FULL_READ_MAX_BYTES = 256 * 1024 * 1024
ATTEMPTS = 3  # a re-verification that loses this many races in a row is left to an SQS retry


class RowChanged(Exception):
    """Another worker changed the row between our read and our guarded UPDATE: read it again."""


class Outcome(StrEnum):
    READY = "ready"
    REJECTED = "rejected"
    UPDATED = "updated"  # a ready file's object was replaced; the new bytes passed verification
    ALREADY_DONE = "already_done"  # a duplicate or a retry: state unchanged, side effects ensured
    DELETED = "deleted"  # an object no live file owns (no row, or being purged): removed
    IGNORED = "ignored"  # not ours (another prefix or bucket), or the object vanished


@dataclass(frozen=True)
class S3Object:
    """What an S3 ObjectCreated record says (the key already URL-decoded)."""

    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None
    event_time: float | None = None  # S3's eventTime (epoch seconds): the upload -> ready SLO's start


@dataclass(frozen=True)
class Verified:
    """What verification found in one object version's bytes."""

    etag: str | None
    checksum: str | None  # whole-object SHA-256 (hex) when known
    content_type: str
    image: bytes | None  # the bytes, when the type gets a thumbnail
    s3_checksum: str | None = None  # what S3 verified, "<ALGORITHM>[-COMPOSITE]:<value>"


def s3_checksum_of(head: dict[str, Any]) -> str | None:
    """S3's own SHA-256 checksum of an object (HEAD with ChecksumMode=ENABLED), as recorded."""
    value = head.get("ChecksumSHA256")
    if not value:
        return None
    composite = head.get("ChecksumType") == "COMPOSITE" or "-" in str(value)
    return f"SHA256{'-COMPOSITE' if composite else ''}:{value}"


def full_object_sha256_hex(s3_checksum: str | None) -> str | None:
    """The whole-object SHA-256 in hex, when S3's checksum is one (not a checksum of parts)."""
    if not s3_checksum or not s3_checksum.startswith("SHA256:"):
        return None
    return base64.b64decode(s3_checksum.split(":", 1)[1]).hex()


def normalize_etag(value: str | None) -> str | None:
    """S3 quotes ETags in headers but not in event notifications; compare them unquoted."""
    stripped = (value or "").strip().strip('"')
    return stripped or None


def process_object(obj: S3Object) -> Outcome:
    """Process one created object. Raises when the record should be retried (a dependency down)."""
    log = {"bucket": obj.bucket, "key": obj.key}
    if not obj.key.startswith(UPLOAD_PREFIX) or obj.bucket != settings().upload_bucket:
        logger.info("ignoring an object outside the upload prefix", extra=log)
        return Outcome.IGNORED
    for _attempt in range(ATTEMPTS):
        with transaction() as conn:
            row = sql.get_by_key(conn, obj.key)
            version = versions_db.get_by_key(conn, obj.key) if row is None else None
        if version is not None:
            try:
                return _process_version(obj, version)
            except RowChanged:
                continue
        if row is None or State.of(row).status is FileStatus.DELETING:
            return _delete_orphan(obj, row)
        logger.append_keys(file_id=str(row.file_id))
        try:
            match State.of(row).underlying:  # a trashed file: the status it had before the trash
                case FileStatus.PENDING:
                    return _process_pending(obj, row)
                case FileStatus.READY:
                    return _process_ready(obj, row)
                case FileStatus.REJECTED:
                    _after_rejected(row)
            logger.info("file already processed", extra={**log, "status": row.status})
            return Outcome.ALREADY_DONE
        except RowChanged:
            continue  # another worker changed the row meanwhile: look again
        finally:
            logger.remove_keys(["file_id"])
    raise DependencyUnavailable("the file kept changing while its object was verified; retrying")


def _delete_orphan(obj: S3Object, row: FileRow | None) -> Outcome:
    """Delete an object no live file owns. Idempotent: deleting a missing key succeeds."""
    delete_objects([obj.key])  # obj.bucket is the upload bucket (process_object checked)
    logger.warning("deleted an object that no live file owns", extra={
        "key": obj.key, "status": row.status if row else None,
        "file_id": str(row.file_id) if row else None})
    metrics.add_metric(name="OrphanObjectsDeleted", unit="Count", value=1)
    return Outcome.DELETED


def _open(obj: S3Object, size: int) -> dict[str, Any] | None:
    """GET the object (the body streams on demand); None when it is gone.

    For a large object S3 checksummed, HEAD (size, ETag, checksum) and a ranged GET of the first
    bytes pinned to that ETag: the result then carries ``S3Checksum`` and no more than the head.
    """
    response: dict[str, Any] | None
    if size > FULL_READ_MAX_BYTES:
        head = storage.head_object(obj.key)
        checksum = s3_checksum_of(head) if head is not None else None
        if head is not None and checksum is not None:
            # replaced between HEAD and GET: storage.ObjectChanged (retried; a new event follows)
            ranged = storage.get_object(obj.key, first_bytes=media.SNIFF_BYTES, if_match=head["ETag"])
            if ranged is None:
                return _gone(obj)
            telemetry.adopt((head.get("Metadata") or {}).get(telemetry.CORRELATION_META))
            return {**ranged, "ContentLength": head["ContentLength"], "ETag": head["ETag"],
                    "S3Checksum": checksum}
        if head is None:
            return _gone(obj)
        logger.warning("large object without an S3 checksum: reading it whole",
                       extra={"key": obj.key, "size": size})
    response = storage.get_object(obj.key)
    if response is None:
        return _gone(obj)
    telemetry.adopt((response.get("Metadata") or {}).get(telemetry.CORRELATION_META))  # the upload's request
    return response


def _gone(obj: S3Object) -> dict[str, Any] | None:
    """What ``_open`` returns for an object that is gone (None), logged."""
    logger.warning("object is gone; nothing to process", extra={"key": obj.key})
    return None


def _verify(response: dict[str, Any], row: FileRow | VersionRow) -> Verified | str:
    """Check one GET response's bytes against the row: the verified facts, or a rejection reason."""
    body = response["Body"]
    s3_checksum = response.get("S3Checksum")  # set: a large object verified by S3, only its head read
    try:
        if int(response["ContentLength"]) != int(row.size):
            return "size_mismatch"
        head = body.read(media.SNIFF_BYTES)
        verdict = media.check_type(row.content_type, head, settings().allowed_content_types)
        if not verdict.ok:
            return verdict.reason or "content_type_mismatch"
        if s3_checksum is not None:
            return Verified(etag=normalize_etag(response.get("ETag")),
                            checksum=full_object_sha256_hex(s3_checksum), content_type=verdict.effective_type,
                            image=None, s3_checksum=s3_checksum)
        digest = hashlib.sha256(head)
        keep = verdict.effective_type in media.THUMBNAIL_SOURCES and row.size <= THUMBNAIL_MAX_SOURCE_BYTES
        image = bytearray(head) if keep else None
        total = len(head)
        for chunk in body.iter_chunks(CHUNK_BYTES):
            digest.update(chunk)
            total += len(chunk)
            if image is not None:
                image += chunk
    finally:
        body.close()
    if total != row.size:
        raise DependencyUnavailable(f"read {total} of {row['size']} bytes; retrying")
    return Verified(etag=normalize_etag(response.get("ETag")), checksum=digest.hexdigest(),
                    content_type=verdict.effective_type, image=bytes(image) if image is not None else None,
                    s3_checksum=s3_checksum_of(response))


def _continuing(response: dict[str, Any], what: str) -> Any:
    """A span continuing the upload request's trace (the object's ``traceparent`` metadata): the
    verification, the row's transition and the event it records belong to the upload's story."""
    return tracing.span(what, parent=tracing.traceparent_of(response.get("Metadata")), flush=True)


def _process_pending(obj: S3Object, row: FileRow) -> Outcome:
    response = _open(obj, int(row.size))
    if response is None:
        return Outcome.IGNORED
    with _continuing(response, "process upload"):
        verified = _verify(response, row)
        if isinstance(verified, str):
            return _reject(row, verified)
        thumb_key = _store_thumbnail(row, verified.image) if verified.image is not None else None
        return _finish(row, verified, thumb_key, event_time=obj.event_time)


def _process_ready(obj: S3Object, row: FileRow) -> Outcome:
    """An event about a verified file: a duplicate, or its key was written again. ``RowChanged``
    when the row changed under us (the caller reads it again)."""
    stored = row.verified_etag
    if stored is not None and normalize_etag(obj.etag) == stored:
        _after_ready(row)  # a duplicate of the event about the verified version
        logger.info("file already processed", extra={"key": obj.key, "status": row.status})
        return Outcome.ALREADY_DONE
    response = _open(obj, int(row.size))
    if response is None:
        return Outcome.IGNORED
    current = normalize_etag(response.get("ETag"))
    if current is not None and current == stored:
        response["Body"].close()  # a late event about an older version: the current bytes are verified
        _after_ready(row)
        return Outcome.ALREADY_DONE
    logger.warning("the object of a verified file was replaced; verifying it again",
                   extra={"key": obj.key, "verified_etag": stored, "current_etag": current})
    metrics.add_metric(name="ObjectsReverified", unit="Count", value=1)
    with _continuing(response, "process replaced object"):
        verified = _verify(response, row)
        if isinstance(verified, str):
            return _reject_replaced(row, verified)
        return _accept_replaced(row, verified)


def _reject_replaced(row: FileRow, reason: str) -> Outcome:
    """REJECT_REPLACED: ready -> rejected (``RowChanged`` when another worker got there first)."""
    with transaction() as conn:
        rejected = sql.mark_replaced_rejected(conn, row.file_id, old_etag=row.verified_etag,
                                              reason=reason)
        if rejected is not None:
            events.record(conn, records.file_rejected(rejected))
    if rejected is None:
        raise RowChanged
    logger.info("a replaced object failed verification; file rejected", extra={"reason": reason})
    _after_rejected(rejected)
    metrics.add_metric(name="ReplacedObjectsRejected", unit="Count", value=1)
    return Outcome.REJECTED


def _accept_replaced(row: FileRow, verified: Verified) -> Outcome:
    """REVERIFY: ready -> ready with the new bytes' facts, ``file.updated`` when any changed
    (``RowChanged`` when another worker got there first)."""
    thumb_key = _store_thumbnail(row, verified.image) if verified.image is not None else None
    with transaction() as conn:
        updated = sql.mark_reverified(conn, row.file_id, old_etag=row.verified_etag,
                                      etag=verified.etag, checksum_sha256=verified.checksum,
                                      content_type=verified.content_type, thumbnail_key=thumb_key,
                                      s3_checksum=verified.s3_checksum)
        changes = {k: updated[k] for k in ("checksum_sha256", "content_type", "thumbnail_key")
                   if updated is not None and updated[k] != row[k]}
        if updated is not None and changes:
            events.record(conn, event_types.Event(
                type=emits(Trigger.REVERIFY), file_id=updated.file_id, owner_id=updated.owner_id,
                data={"changes": changes, "reason": "object_replaced"}))
    if updated is None:
        raise RowChanged
    if row.thumbnail_key and thumb_key is None:  # no longer an image: drop the old thumbnail
        delete_objects([row.thumbnail_key])
    invalidate_file(updated.file_id)
    events.publish_now([updated.file_id])
    search_index.sync(updated.file_id)
    if not changes:  # the same bytes again (or a file verified before ETags were recorded)
        return Outcome.ALREADY_DONE
    metrics.add_metric(name="ReplacedObjectsAccepted", unit="Count", value=1)
    return Outcome.UPDATED


def _store_thumbnail(row: FileRow | VersionRow, image: bytes) -> str | None:
    webp = media.thumbnail(image)
    if webp is None:
        logger.warning("no thumbnail: image not decodable or too large")
        metrics.add_metric(name="ThumbnailSkipped", unit="Count", value=1)
        return None
    key = thumbnail_key_for(row.owner_id, row.file_id, row.s3_key)  # this version's own
    storage.put_thumbnail(key, webp)
    return key


def _finish(row: FileRow, verified: Verified, thumb_key: str | None, *,
            event_time: float | None = None) -> Outcome:
    """One transaction: quota re-check, the guarded transition (VERIFY, or REJECT over quota), the
    outbox event."""
    file_id: UUID = row.file_id
    ready: FileRow | None = None
    rejected: FileRow | None = None
    with transaction() as conn:
        quota = sql.lock_owner_quota(conn, row.owner_id)
        used = sql.stored_bytes(conn, row.owner_id, excluding=file_id)
        if quota is not None and used + int(row.size) > quota:
            rejected = sql.mark_rejected(conn, file_id, "quota_exceeded")
            if rejected is not None:
                events.record(conn, records.file_rejected(rejected))
        else:
            ready = sql.mark_ready(conn, file_id, checksum_sha256=verified.checksum,
                                   content_type=verified.content_type, thumbnail_key=thumb_key,
                                   etag=verified.etag, s3_checksum=verified.s3_checksum)
            if ready is not None:
                events.record(conn, event_types.Event(
                    type=emits(Trigger.VERIFY), file_id=file_id, owner_id=ready.owner_id,
                    data={"name": ready.name, "size": ready.size, "content_type": verified.content_type,
                          "checksum_sha256": verified.checksum, "s3_checksum": verified.s3_checksum,
                          "thumbnail_key": thumb_key}))
    if rejected is not None:
        _after_rejected(rejected)
        _count("FilesRejected", rejected)
        return Outcome.REJECTED
    if ready is None:  # another worker made the transition first; make sure its side effects exist
        logger.info("another worker processed this file first")
        with transaction() as conn:
            current = sql.get_by_key(conn, row.s3_key)
        state = State.of(current) if current is not None else None
        if current is not None and state is not None and state.underlying is FileStatus.READY:
            _after_ready(current)
        elif current is not None and state is not None and state.underlying is FileStatus.REJECTED:
            _after_rejected(current)  # e.g. the sweeper gave the upload up meanwhile: drop the thumbnail too
        elif thumb_key and (state is None or state.status is FileStatus.DELETING):
            delete_objects([thumb_key])  # purged while we worked: the deleter may have run already
        return Outcome.ALREADY_DONE
    telemetry.latency(telemetry.UPLOAD_TO_READY, event_time)  # S3's event -> the ready commit
    _after_ready(ready)
    _count("FilesReady", ready)
    return Outcome.READY


def _reject(row: FileRow, reason: str) -> Outcome:
    with transaction() as conn:
        rejected = sql.mark_rejected(conn, row.file_id, reason)
        if rejected is not None:
            events.record(conn, records.file_rejected(rejected))
    if rejected is None:
        return Outcome.ALREADY_DONE
    logger.info("file rejected", extra={"reason": reason})
    _after_rejected(rejected)
    _count("FilesRejected", rejected)
    return Outcome.REJECTED


def _after_rejected(row: FileRow) -> None:
    """Remove the objects and any search document (raises, so the record is retried), then cache
    and event, which never fail. The thumbnail key is deterministic (per version), so a file
    rejected after it had been ready (its object replaced) loses its thumbnail too, and the kept
    versions keep theirs."""
    delete_objects([row.s3_key, thumbnail_key_for(row.owner_id, row.file_id, row.s3_key)])
    search_index.sync(row.file_id)
    invalidate_file(row.file_id)
    events.publish_now([row.file_id])


def _after_ready(row: FileRow) -> None:
    """Cache and event first (they never fail the record), then the search document (may raise)."""
    invalidate_file(row.file_id)
    events.publish_now([row.file_id])
    search_index.create_document(row)


def _count(name: str, row: FileRow) -> None:
    metrics.add_metric(name=name, unit="Count", value=1)
    created = row.created_at
    if created is not None:
        latency_ms = (time.time() - created.timestamp()) * 1000
        metrics.add_metric(name="UploadToProcessedMs", unit="Milliseconds", value=latency_ms)


# ---- a new version of a ready file (``fileshare.versions``) ----------------------------------------

def _process_version(obj: S3Object, version: VersionRow) -> Outcome:
    """An object under a version's key (``u/<owner>/<file>/v/<version>/<name>``): verify a pending
    version and make it current, or recognise a duplicate. ``RowChanged``: look again (the
    version was promoted meanwhile, so its key is the files row's now)."""
    logger.append_keys(file_id=str(version.file_id), version_id=str(version.version_id))
    try:
        match VersionStatus(version.status):
            case VersionStatus.PENDING:
                response = _open(obj, int(version.size))
                if response is None:
                    return Outcome.IGNORED
                with _continuing(response, "process version"):
                    verified = _verify(response, version)
                    if isinstance(verified, str):
                        return _reject_version(version, verified)
                    thumb = _store_thumbnail(version, verified.image) if verified.image is not None else None
                    return _finish_version(version, verified, thumb)
            case VersionStatus.READY:  # a kept version: a duplicate, or its key was written again
                if version.verified_etag is not None and normalize_etag(obj.etag) == version.verified_etag:
                    return Outcome.ALREADY_DONE
                head = storage.head_object(obj.key)
                if head is None or normalize_etag(head.get("ETag")) == version.verified_etag:
                    return Outcome.ALREADY_DONE
                # Its bytes are no longer the verified ones: reject it (a kept version is never
                # re-verified in place: nothing shows it but its own row).
                return _reject_version(version, "object_replaced", from_status=VersionStatus.READY)
            case VersionStatus.REJECTED:
                delete_objects([version.s3_key, thumbnail_key_for(version.owner_id, version.file_id,
                                                                  version.s3_key)])
        return Outcome.ALREADY_DONE
    finally:
        logger.remove_keys(["file_id", "version_id"])


def _reject_version(version: VersionRow, reason: str, *,
                    from_status: VersionStatus = VersionStatus.PENDING) -> Outcome:
    """The version is rejected (the file and its current version are untouched); its bytes and
    thumbnail go. ``file.version_rejected`` tells the owner (inbox and feed) why."""
    with transaction() as conn:
        rejected = versions_db.mark_rejected(conn, version.version_id, reason, from_status=from_status)
        if rejected is not None:
            events.record(conn, records.version_rejected(rejected))
    if rejected is None:
        # Not ours to reject any more: rejected meanwhile (its REJECTED case deletes the bytes
        # again), or promoted or deleted: the key is then the files row's or nobody's, and the
        # next look decides (never delete what may be the current version's bytes).
        raise RowChanged
    events.publish_now([version.file_id])
    delete_objects([version.s3_key, thumbnail_key_for(version.owner_id, version.file_id, version.s3_key)])
    logger.info("version rejected", extra={"reason": reason})
    metrics.add_metric(name="VersionsRejected", unit="Count", value=1)
    return Outcome.REJECTED


def _finish_version(version: VersionRow, verified: Verified, thumb: str | None) -> Outcome:
    """One transaction under the owner's and the file's locks: the quota re-check (every kept
    version counts), the version ready, the old current kept as a version row, the files row
    taking the new version's facts, and ``file.version_added`` in the outbox."""
    reason: str | None = None
    promoted: FileRow | None = None
    with transaction() as conn:
        quota = sql.lock_owner_quota(conn, version.owner_id)
        file = files_db.get(conn, version.file_id, for_update=True)
        current = versions_db.get(conn, version.file_id, version.version_id, for_update=True)
        if current is None:  # promoted by another worker, or deleted: look again from the key
            promoted_meanwhile = file is not None and file.s3_key == version.s3_key
            if thumb and not promoted_meanwhile:  # deleted: the thumbnail we wrote is nobody's
                delete_objects([thumb])
            raise RowChanged
        if current.status != VersionStatus.PENDING:
            return Outcome.ALREADY_DONE
        used = sql.stored_bytes(conn, version.owner_id, excluding=None)
        if file is None or State.of(file).status not in TAKES_VERSIONS:
            reason = "file_not_ready"
        elif quota is not None and used + int(version.size) > quota:
            reason = "quota_exceeded"
        else:
            ready = versions_db.mark_ready(conn, version.version_id, checksum_sha256=verified.checksum,
                                           content_type=verified.content_type, thumbnail_key=thumb,
                                           etag=verified.etag, s3_checksum=verified.s3_checksum)
            assert ready is not None  # locked and pending
            versions_db.archive_current(conn, file, UUID(current_version_id(file)))
            name = version.name
            if file.folder_id is not None and folders_db.file_name_taken(conn, file.folder_id, name,
                                                                         besides=file.file_id):
                name = file.name  # a sibling has the new name: the file keeps its own
            promoted = versions_db.promote(conn, ready, name=name)
            events.record(conn, event_types.Event(
                type=event_types.EventType.FILE_VERSION_ADDED, file_id=file.file_id, owner_id=file.owner_id,
                data={"version_id": str(version.version_id), "name": promoted.name, "size": promoted.size,
                      "content_type": promoted.content_type, "checksum_sha256": verified.checksum,
                      "previous_version_id": current_version_id(file)}))
    if promoted is None:
        assert reason is not None
        return _reject_version(version, reason)
    invalidate_file(promoted.file_id)
    events.publish_now([promoted.file_id])
    search_index.sync(promoted.file_id)
    metrics.add_metric(name="VersionsAdded", unit="Count", value=1)
    return Outcome.READY
