"""File versions (issue 14 part 3): upload a new version, list, download one, make one current,
delete one. The owner's alone: a viewer sees (and downloads) the current version only, so every
route here is a 404 for anyone but the owner (as a file that is not theirs), like the activity feed.
A version goes up exactly as a new file does: a presigned POST, or multipart from
``MULTIPART_THRESHOLD_BYTES`` (``.../versions/{id}/parts`` and ``/complete``; deleting the pending
version aborts it).

Why explicit version keys rather than S3 bucket versioning: each version is its own immutable
object (``u/<owner>/<file>/v/<version>/<name>``), so
- the presigned POST pins exactly one key, and a new version can never overwrite an old one
  (with bucket versioning every version shares one key, and the processor's replaced-object
  check, which compares ETags on that key, could not tell a new version from a rewrite);
- the processor's S3-event path verifies a new version like a first upload (size, type, SHA-256,
  thumbnail), and a rejected version never touches the current one;
- quota is a plain sum over rows (``file_versions`` plus ``files``), deleting one version is a plain
  DeleteObject, and purging a file deletes a known list of keys: no noncurrent-version lifecycle
  rules, no delete markers, nothing LocalStack might model differently from AWS.

The ``files`` row is always the current version, so nothing that reads files changes; see
``db.versions`` for how versions are stored and swapped.
"""

from __future__ import annotations

import uuid
from typing import Any

from fileshare import access, event_types, events
from fileshare.adapters import cache, storage
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import folders as folders_db
from fileshare.db import users as users_db
from fileshare.db import versions as versions_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.db.versions import VersionRow, current_version_id
from fileshare.errors import Conflict, NotFound
from fileshare.lifecycle import TAKES_VERSIONS, FileStatus, State, VersionStatus
from fileshare.models import (
    CompleteIn,
    MultipartUpload,
    PartsIn,
    PartUrlList,
    PostUpload,
    StoredPartList,
    VersionCreate,
    VersionCreated,
    VersionList,
    VersionOut,
)
from fileshare.records import (
    abort_quietly,
    check_content_type,
    check_quota,
    check_size,
    completed_before,
    completion_parts,
    sanitize_name,
    signed_parts,
)

MAX_VERSIONS = 100  # kept per file (the list is one page)


def _owned(conn: Any, file_id: uuid.UUID, user_id: str, *, for_update: bool = False) -> FileRow:
    """The caller's own file; anyone else (a viewer too) gets the 404 a missing file gets."""
    row = files_db.get(conn, file_id, for_update=for_update)
    if row is None or not access.is_owner(row, user_id) or row.status == FileStatus.DELETING:
        raise NotFound("file not found", code="file_not_found")
    return row


def _require_ready(row: FileRow) -> None:
    if State.of(row).status not in TAKES_VERSIONS:
        raise Conflict(f"the file is {row.status}: versions change only on a ready file",
                       code="file_not_ready")


def _version(conn: Any, file_id: uuid.UUID, version_id: uuid.UUID, *, for_update: bool = False
             ) -> VersionRow:
    row = versions_db.get(conn, file_id, version_id, for_update=for_update)
    if row is None:
        raise NotFound("version not found", code="version_not_found")
    return row


def create_version(user_id: str, file_id: uuid.UUID, request: VersionCreate) -> VersionCreated:
    """A pending version and how to upload its bytes (a presigned POST, or multipart from the
    threshold, exactly as a new file); the quota counts every kept version and every pending
    upload. The processor makes it current once its bytes pass (``file.version_added``)."""
    config = settings()
    check_size(request.size, config.max_upload_bytes)
    check_content_type(request.content_type, config.allowed_content_types)
    version_id = uuid.uuid4()
    with transaction() as conn:  # the name and key first: the multipart upload needs the key
        owned = _owned(conn, file_id, user_id)
        name = sanitize_name(request.name) if request.name is not None else owned.name
    key = storage.version_key(user_id, file_id, version_id, name)
    # As for a new file: CreateMultipartUpload runs before the transaction, never under the user's
    # row lock, and is aborted again when the insert is refused.
    algorithm = "SHA256" if request.part_checksums else None
    multipart = (storage.start_multipart(key, request.size, request.content_type,
                                         checksum_algorithm=algorithm)
                 if request.size >= config.multipart_threshold_bytes else None)
    try:
        with transaction() as conn:
            user = users_db.get(conn, user_id, for_update=True)  # serializes one user's quota checks
            row = _owned(conn, file_id, user_id, for_update=True)
            assert user is not None  # the file's owner has a row
            _require_ready(row)
            if versions_db.count_for_file(conn, file_id) >= MAX_VERSIONS - 1:
                raise Conflict(f"a file keeps at most {MAX_VERSIONS} versions: delete one first",
                               code="too_many_versions")
            used, pending = users_db.usage(conn, user_id)
            check_quota(user.quota_bytes, used, pending, request.size)
            versions_db.insert_pending(conn, version_id=version_id, file_id=file_id, owner_id=user_id,
                                       name=name, s3_key=key, size=request.size,
                                       content_type=request.content_type,
                                       upload_id=multipart["upload_id"] if multipart else None,
                                       part_checksum_algorithm=algorithm if multipart else None)
    except BaseException:
        if multipart is not None:
            abort_quietly(key, multipart["upload_id"])
        raise
    upload: PostUpload | MultipartUpload
    if multipart is not None:
        upload = MultipartUpload.model_validate(multipart)
    else:
        upload = PostUpload.model_validate(storage.presigned_post(
            key, request.size, request.content_type, checksum_sha256=request.checksum_sha256))
    return VersionCreated(file_id=file_id, version_id=version_id, upload=upload)


def _not_multipart_pending() -> Conflict:
    return Conflict("this version has no multipart upload in progress", code="not_multipart_pending")


def _multipart_upload_id(version: VersionRow) -> str:
    """The id of the version's unfinished multipart upload; a 409 when it has none."""
    if version.status != VersionStatus.PENDING or not version.upload_id:
        raise _not_multipart_pending()
    return version.upload_id


def _pending_multipart(conn: Any, user_id: str, file_id: uuid.UUID,
                       version_id: uuid.UUID) -> tuple[VersionRow, str]:
    _owned(conn, file_id, user_id)
    version = _version(conn, file_id, version_id)
    return version, _multipart_upload_id(version)


def complete_upload(user_id: str, file_id: uuid.UUID, version_id: uuid.UUID,
                    request: CompleteIn) -> VersionOut:
    """Complete a version's multipart upload (S3 then emits the event the processor verifies).
    A retry of a complete that went through (the client saw a timeout) answers with the version
    as it is now, current or kept, when the parts are the ones the processor verified; any other
    parts are a 409, as for a new file (``files.completed_before``)."""
    etags = [p.etag for p in request.parts]
    with transaction() as conn:  # the file's row, then the version's: the processor's lock order
        row = _owned(conn, file_id, user_id, for_update=True)
        if str(version_id) == current_version_id(row):
            if completed_before(row.status, row.verified_etag, etags):
                return _current_out(conn, row)
            raise _not_multipart_pending()
        version = _version(conn, file_id, version_id, for_update=True)
        if completed_before(version.status, version.verified_etag, etags):
            return _out(version)
        upload_id = _multipart_upload_id(version)
        parts = completion_parts(request, int(version.size), version.part_checksum_algorithm)
        storage.complete_multipart(version.s3_key, upload_id, parts)
    return _out(version)


def sign_parts(user_id: str, file_id: uuid.UUID, version_id: uuid.UUID, request: PartsIn) -> PartUrlList:
    """Presigned URLs for more parts of a version's unfinished multipart upload."""
    with transaction() as conn:
        version, upload_id = _pending_multipart(conn, user_id, file_id, version_id)
    return signed_parts(request, version.s3_key, upload_id, int(version.size),
                        version.part_checksum_algorithm)


def stored_parts(user_id: str, file_id: uuid.UUID, version_id: uuid.UUID) -> StoredPartList:
    """What S3 already holds of a version's unfinished multipart upload (resume by skipping it)."""
    with transaction() as conn:
        version, upload_id = _pending_multipart(conn, user_id, file_id, version_id)
    return StoredPartList.model_validate({"parts": storage.list_parts(version.s3_key, upload_id)})


def _current_out(conn: Any, row: FileRow) -> VersionOut:
    created = versions_db.current_created_at(conn, row.file_id) or row.created_at
    status = VersionStatus.READY if State.of(row).underlying is FileStatus.READY else State.of(row).underlying
    return VersionOut(version_id=uuid.UUID(current_version_id(row)), name=row.name, size=row.size,
                      content_type=row.content_type, status=status.value,  # type: ignore[arg-type]
                      reject_reason=row.reject_reason, checksum_sha256=row.checksum_sha256,
                      created_at=created, current=True)


def _out(row: VersionRow) -> VersionOut:
    return VersionOut(version_id=row.version_id, name=row.name, size=row.size, content_type=row.content_type,
                      status=row.status, reject_reason=row.reject_reason,  # type: ignore[arg-type]
                      checksum_sha256=row.checksum_sha256, created_at=row.created_at, current=False)


def list_versions(user_id: str, file_id: uuid.UUID) -> VersionList:
    """Every version of the caller's file, newest first, the current one flagged."""
    with transaction() as conn:
        return _listing(conn, _owned(conn, file_id, user_id))


def _listing(conn: Any, row: FileRow) -> VersionList:
    items = [_current_out(conn, row), *(_out(v) for v in versions_db.list_for_file(conn, row.file_id))]
    items.sort(key=lambda v: (v.created_at, str(v.version_id)), reverse=True)
    return VersionList(items=items)


def download_url(user_id: str, file_id: uuid.UUID, version_id: uuid.UUID) -> str:
    """A presigned GET of one version's bytes (the current one too), named as that version."""
    with transaction() as conn:
        row = _owned(conn, file_id, user_id)
        if row.status != FileStatus.READY:  # a trashed file downloads nothing, as GET .../download
            raise Conflict(f"the file is {row.status}, not ready", code="file_not_ready")
        if str(version_id) == current_version_id(row):
            key, name, content_type = row.s3_key, row.name, row.content_type
        else:
            version = _version(conn, file_id, version_id)
            if version.status != VersionStatus.READY:
                raise Conflict(f"the version is {version.status}, not ready", code="version_not_ready")
            key, name, content_type = version.s3_key, version.name, version.content_type
    return storage.presigned_get(key, download_name=name, content_type=content_type)


def make_current(user_id: str, file_id: uuid.UUID, version_id: uuid.UUID) -> VersionList:
    """The file shows ``version_id`` (its name, size, type, checksum, thumbnail; the search document
    follows through the indexer); the version it showed is kept. Already current: nothing changes."""
    with transaction() as conn:
        row = _owned(conn, file_id, user_id, for_update=True)
        _require_ready(row)
        if str(version_id) == current_version_id(row):
            return _listing(conn, row)
        version = _version(conn, file_id, version_id, for_update=True)
        if version.status != VersionStatus.READY:
            raise Conflict(f"the version is {version.status}: only a ready version can be current",
                           code="version_not_ready")
        versions_db.archive_current(conn, row, uuid.UUID(current_version_id(row)))
        name = version.name
        if row.folder_id is not None and folders_db.file_name_taken(conn, row.folder_id, name,
                                                                    besides=file_id):
            name = row.name  # a sibling has that name: the file keeps its own
        promoted = versions_db.promote(conn, version, name=name)
        changes: dict[str, Any] = {"version_id": str(version_id), "size": promoted.size,
                                   "content_type": promoted.content_type}
        if promoted.name != row.name:
            changes["name"] = promoted.name
        events.record(conn, event_types.Event(type=event_types.EventType.FILE_UPDATED, file_id=file_id,
                                         owner_id=user_id, data={"changes": changes,
                                                                 "reason": "version_made_current"}))
        listing = _listing(conn, promoted)
    cache.invalidate_file(file_id)
    events.publish_now([file_id])
    return listing


def delete_version(user_id: str, file_id: uuid.UUID, version_id: uuid.UUID) -> None:
    """Delete one version that is not the current one: its bytes and thumbnail (inside the
    transaction, before the row goes, so a failure leaves the row and a retry finishes), then its
    row. A pending one is given up (its bytes, if they arrive later, are an orphan the processor
    deletes). The current version is a 409 ``version_is_current``: make another current first."""
    with transaction() as conn:
        row = _owned(conn, file_id, user_id, for_update=True)
        if str(version_id) == current_version_id(row):
            raise Conflict("this is the current version: make another current first, or trash the file",
                           code="version_is_current")
        version = _version(conn, file_id, version_id, for_update=True)
        if version.upload_id:  # an unfinished multipart upload: its parts go too
            storage.abort_multipart(version.s3_key, version.upload_id)
        storage.delete_objects([version.s3_key,
                                storage.thumbnail_key_for(version.owner_id, file_id, version.s3_key)])
        versions_db.delete(conn, version_id)
