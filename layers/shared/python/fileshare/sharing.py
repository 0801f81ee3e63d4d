"""Sharing a file with another user (as a viewer), listing and revoking shares, and the files
shared with the caller.

Rules (access in ``fileshare.access``):
- only the owner manages a file's shares; a viewer trying is ``403 owner_only``; anyone else
  gets ``404`` as if the file did not exist;
- the recipient must have an account (``422 unknown_recipient``: the request is well formed but
  names nobody we can share with; 404 would read as "no such file"); sharing with yourself is
  ``422 cannot_share_with_self``; sharing twice with the same user is ``409 already_shared``;
- every change and its outbox event (``share.created`` / ``share.revoked``) are one transaction;
  after the commit the search document's ``readers`` are rewritten from PostgreSQL, the cache
  entry dropped and the event published. Search re-checks every hit in PostgreSQL, so a revoked
  viewer never sees the file even if OpenSearch could not be updated.
"""

from __future__ import annotations

import uuid

from fileshare import cursor, event_types, events
from fileshare.access import require_owner, share_recipient
from fileshare.adapters import cache
from fileshare.adapters.observability import metrics
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import shares as shares_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.errors import Conflict, NotFound
from fileshare.models import FileList, ShareIn, ShareList, ShareOut
from fileshare.records import file_out, new_event, to_record


def _require_shareable(row: FileRow) -> None:
    if row.status not in shares_db.VIEWABLE_STATUSES:
        raise Conflict("restore the file before sharing it", code="file_trashed")


def _share_out(row: shares_db.ShareRow) -> ShareOut:
    return ShareOut.model_validate({"share_id": row.share_id, "file_id": row.file_id, "email": row.email,
                                    "permission": row.permission, "created_at": row.created_at})


def share_file(user_id: str, file_id: uuid.UUID, request: ShareIn) -> ShareOut:
    with transaction() as conn:
        row = require_owner(conn, shares_db.lock_file(conn, file_id), user_id)
        _require_shareable(row)
        recipient_id = share_recipient(conn, user_id, request.email, what="file")
        cap = settings().max_shares_per_file
        if shares_db.count_for_file(conn, file_id) >= cap:  # counted under the file's row lock
            raise Conflict(f"a file can be shared with at most {cap} users; revoke one first",
                           code="too_many_shares")
        share = shares_db.insert(conn, share_id=uuid.uuid4(), file_id=file_id,
                                 grantee_id=recipient_id, permission=request.permission)
        if share is None:
            raise Conflict("the file is already shared with this user", code="already_shared")
        events.record(conn, new_event(event_types.EventType.SHARE_CREATED, row, share_id=share.share_id,
                                      recipient_id=recipient_id, permission=request.permission,
                                      name=row.name))
    _after_change(file_id)
    metrics.add_metric(name="SharesCreated", unit="Count", value=1)
    return _share_out(share)


def list_shares(user_id: str, file_id: uuid.UUID) -> ShareList:
    with transaction() as conn:
        require_owner(conn, files_db.get(conn, file_id), user_id)
        rows = shares_db.list_for_file(conn, file_id)
    return ShareList(items=[_share_out(r) for r in rows])


def revoke_share(user_id: str, file_id: uuid.UUID, share_id: uuid.UUID) -> None:
    with transaction() as conn:
        row = require_owner(conn, shares_db.lock_file(conn, file_id), user_id)
        removed = shares_db.delete(conn, file_id, share_id)
        if removed is None:
            raise NotFound("this file has no such share", code="share_not_found")
        events.record(conn, new_event(event_types.EventType.SHARE_REVOKED, row, share_id=share_id,
                                      recipient_id=removed.grantee_id, name=row.name))
    _after_change(file_id)
    metrics.add_metric(name="SharesRevoked", unit="Count", value=1)


def shared_with_me(user_id: str, limit: int, after: str | None) -> FileList:
    position = cursor.decode_time_id(after) if after else None
    with transaction() as conn:
        rows = shares_db.shared_with(conn, user_id, limit + 1, position)
    page = rows[:limit]
    next_cursor = (cursor.encode([page[-1]["shared_at"].isoformat(), str(page[-1]["file_id"])])
                   if len(rows) > limit else None)
    return FileList(items=[file_out(to_record(r)) for r in page], next_cursor=next_cursor)


# ---- after a committed change -------------------------------------------------------------------

def _after_change(file_id: uuid.UUID) -> None:
    from fileshare.search import index as search_index  # cold start: opensearch-py only when a share changes

    search_index.sync_readers(file_id)
    cache.invalidate_file(file_id)
    events.publish_now([file_id])
