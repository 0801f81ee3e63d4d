"""Many uploads started in one request (``POST /files/batch``), and their statuses in one read
(``GET /files/status``): what a page dropping a folder of a thousand files needs instead of a
thousand ``POST /files`` and a thousand status polls.

Each entry goes through the single upload's own steps (``files.prepare_upload``,
``files.insert_upload``, ``files.upload_of``); what differs is that one entry's refusal never
stops the others:

1. every entry's input is checked and, above the multipart threshold, its S3 multipart upload
   started (before any lock, as for one file); an entry that breaks a rule gets its error;
2. the work budget (``upload_budget``) is charged once for what is left: its files and bytes;
3. one transaction locks the user's row and reads the usage once; the quota is checked against a
   running total (an entry that does not fit is ``quota_exceeded``, a smaller later one may still
   fit); each entry is inserted inside its own savepoint, so a refused one (``folder_not_found``,
   ``name_taken`` by an earlier entry of the same batch...) rolls back the folders it made and
   leaves nothing;
4. after the commit the multipart uploads of refused entries are aborted, the folders' events
   published, and the accepted entries' presigned POSTs signed (locally, no call).

If the transaction itself fails (the database is down), every multipart upload started is
aborted and the request fails as a whole: nothing was made.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fileshare import events, files, upload_budget
from fileshare.db import files as files_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.errors import DomainError
from fileshare.models import (
    BatchCreate,
    BatchCreated,
    BatchItem,
    ErrorBody,
    FileCreate,
    FileStatusList,
    FileStatusOut,
)


@dataclass
class _Entry:
    index: int
    request: FileCreate
    prepared: files.PreparedUpload | None = None
    error: DomainError | None = None


def _error(exc: DomainError) -> ErrorBody:
    return ErrorBody(code=exc.code, message=exc.message)


def start_batch(user_id: str, email: str, request: BatchCreate) -> BatchCreated:
    """Start every entry that passes its checks; answer each entry in the request's order."""
    entries = [_Entry(i, r) for i, r in enumerate(request.files)]
    prepared: list[_Entry] = []
    try:
        for entry in entries:
            try:
                entry.prepared = files.prepare_upload(user_id, entry.request)
            except DomainError as exc:
                entry.error = exc
            else:
                prepared.append(entry)
        upload_budget.charge(user_id, files=len(prepared), size=sum(e.request.size for e in prepared))
        created_folders = _insert_all(user_id, email, prepared)
    except BaseException:
        _abort(prepared)
        raise
    _abort([e for e in prepared if e.error is not None])
    if created_folders:  # their folder.created events (the relay sends what this cannot)
        events.publish_now(created_folders)
    items = [_item(e) for e in entries]
    created = sum(1 for i in items if i.error is None)
    return BatchCreated(items=items, created=created, refused=len(items) - created)


def _insert_all(user_id: str, email: str, entries: list[_Entry]) -> list[uuid.UUID]:
    """Insert each entry in its own savepoint under one lock of the user's row; the folders made
    for the entries that were inserted."""
    created_folders: list[uuid.UUID] = []
    if not entries:
        return created_folders
    with transaction() as conn:
        files.ensure_user(conn, user_id, email)
        user = users_db.get(conn, user_id, for_update=True)  # serializes one user's quota checks
        assert user is not None
        used, pending = users_db.usage(conn, user_id)
        for entry in entries:
            assert entry.prepared is not None
            made: list[uuid.UUID] = []
            try:
                files.check_quota(user.quota_bytes, used, pending, entry.request.size)
                with conn.transaction():  # a savepoint: a refused entry's folders roll back with it
                    files.insert_upload(conn, user_id, entry.request, entry.prepared, made)
            except DomainError as exc:
                entry.error = exc
                continue
            pending += entry.request.size
            created_folders.extend(made)
    return created_folders


def _abort(entries: list[_Entry]) -> None:
    for entry in entries:
        if entry.prepared is not None:
            files.abort_prepared(entry.prepared)


def _item(entry: _Entry) -> BatchItem:
    if entry.error is not None or entry.prepared is None:
        assert entry.error is not None
        return BatchItem(index=entry.index, error=_error(entry.error))
    return BatchItem(index=entry.index, file_id=entry.prepared.file_id,
                     upload=files.upload_of(entry.prepared, entry.request))


def statuses(user_id: str, file_ids: list[uuid.UUID]) -> FileStatusList:
    """The caller's own files among ``file_ids`` (others are left out), in the order asked: what a
    page polls while its uploads are checked, one request for many files."""
    wanted = list(dict.fromkeys(file_ids))
    with transaction() as conn:
        rows = {r.file_id: r for r in files_db.get_many(conn, wanted) if r.owner_id == user_id}
    return FileStatusList(items=[
        FileStatusOut.model_validate({"file_id": r.file_id, "name": r.name, "status": r.status,
                                      "folder_id": r.folder_id})
        for r in (rows.get(i) for i in wanted) if r is not None])
