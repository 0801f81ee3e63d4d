"""Who may do what with a file, beyond "the owner": the one rule sharing and links both apply.

- the owner may manage a file (share it, link it, list and revoke its shares and links) while it
  is pending, ready, rejected or in the trash;
- a viewer (a user the file is shared with) may read it while it is pending, ready or rejected; an
  owner-only action by a viewer is ``403 owner_only`` (they can see the file, so its existence is
  no secret to them);
- anyone else gets ``404``, exactly as if the file did not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fileshare.db import folders as folders_db
from fileshare.db import shares as shares_db
from fileshare.errors import Forbidden, NotFound, ValidationFailed
from fileshare.lifecycle import OWNER_VISIBLE, VIEWER_VISIBLE

OWNER_VISIBLE_STATUSES: frozenset[str] = OWNER_VISIBLE
VIEWER_VISIBLE_STATUSES: frozenset[str] = VIEWER_VISIBLE


def is_viewer(conn: Any, row: Mapping[str, Any], user_id: str) -> bool:
    """True when the file is shared with ``user_id`` and in a state a viewer may see."""
    return (row["owner_id"] != user_id and row["status"] in VIEWER_VISIBLE_STATUSES
            and (shares_db.is_viewer(conn, row["file_id"], user_id)
                 or folders_db.reads_through(conn, row.get("folder_id"), user_id)))


def is_owner(row: Mapping[str, Any], user_id: str) -> bool:
    """True when ``user_id`` owns the file and it is in a state the owner may see."""
    return row["owner_id"] == user_id and row["status"] in OWNER_VISIBLE_STATUSES


def require_owner[R: Mapping[str, Any]](conn: Any, row: R | None, user_id: str) -> R:
    """The file row if the caller owns it; 403 ``owner_only`` for a viewer; otherwise 404."""
    if row is not None and is_owner(row, user_id):
        return row
    if row is not None and is_viewer(conn, row, user_id):
        raise Forbidden("only the file's owner may do this", code="owner_only")
    raise NotFound("file not found", code="file_not_found")


def share_recipient(conn: Any, sharer_id: str, email: str, *, what: str) -> str:
    """The user id ``sharer_id`` shares a ``what`` ("file", "folder") with: someone with an account
    under ``email`` who is not the sharer (422 ``unknown_recipient`` / ``cannot_share_with_self``)."""
    recipient = shares_db.user_by_email(conn, email)
    if recipient is None:
        raise ValidationFailed("no user has this email address; they need an account first",
                               code="unknown_recipient")
    if recipient.user_id == sharer_id:
        raise ValidationFailed(f"you cannot share a {what} with yourself", code="cannot_share_with_self")
    return recipient.user_id
