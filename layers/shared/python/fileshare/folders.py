"""Folders: a tree per owner (the root is implicit), listing with breadcrumbs, moves without cycles,
sharing a whole folder, and whole-folder trash, restore and purge in bounded, resumable batches.

Access (``fileshare.access`` for files): the owner manages a folder; a user reads a folder, and
every file and subfolder inside it now and later, while some visible ancestor-or-self is shared
with them (``db.folders.reads_through``: one recursive walk up the tree, so revoking a folder
share cuts everything inside at once, and a file moved out stops being readable at once). A
viewer trying an owner-only action gets ``403 owner_only``; anyone else ``404``.

Search resolves folder grants at query time: each document carries its file's direct
``folder_id``, and a search adds a ``terms`` filter on the folders the caller reads through
(computed in PostgreSQL per search). So sharing, revoking or moving a folder touches no search
document; moving a file rewrites only that file's document. The alternative, copying grants into
every document's ``readers``, would mean rewriting a whole subtree's documents on every share,
revoke and folder move (unbounded work racing later changes). Search re-checks every hit in
PostgreSQL anyway, so a stale document can hide a file but never leak one.

Whole-folder operations mark the folder (``status``, ``pending_op``) and move its files in
batches: each batch is one transaction that takes the next files the lifecycle table allows
(``db.folders.trash_batch`` etc., guards from ``fileshare.lifecycle``) and records each file's
event with it. Which files are left is read from their status, never from a saved position, so a
crash or a retry resumes exactly where the last commit stopped: nothing is skipped and no event
is recorded twice. A call does at most ``max_batches``; ``done: false`` means call again (the
sweeper also finishes pending operations through ``resume_pending``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, cast

from fileshare import access, cursor, events, lifecycle
from fileshare.adapters import cache
from fileshare.config import settings
from fileshare.db import folders as folders_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.db.folders import FolderRow
from fileshare.deletion import Reason, deletion_event
from fileshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from fileshare.event_types import Event, EventType
from fileshare.lifecycle import Trigger
from fileshare.models import (
    Crumb,
    FolderCreate,
    FolderDetail,
    FolderItem,
    FolderItems,
    FolderOpOut,
    FolderOut,
    FolderPatch,
    FolderShareList,
    FolderShareOut,
    ShareIn,
)
from fileshare.records import file_out, new_event, sanitize_name, to_record

Op = Literal["trash", "restore", "purge"]
MAX_DEPTH = 32  # folders below the root; keeps every recursive walk short
BATCH_SIZE = 200  # files per transaction of a whole-folder operation
MAX_BATCHES = 10  # batches per call (a call stays well inside the API's time limit)


def folder_out(row: FolderRow) -> FolderOut:
    return FolderOut(folder_id=row.folder_id, name=row.name, parent_id=row.parent_id, owner_id=row.owner_id,
                     status=row.status, created_at=row.created_at,  # type: ignore[arg-type]
                     pending_op=row.pending_op)  # type: ignore[arg-type]


def _not_found() -> NotFound:
    return NotFound("folder not found", code="folder_not_found")


def _visible(conn: Any, folder_id: uuid.UUID) -> bool:
    return all(c.status == folders_db.ACTIVE for c in folders_db.ancestors(conn, folder_id))


def _own(conn: Any, folder_id: uuid.UUID, user_id: str, *, for_update: bool = False,
         live: bool = True) -> FolderRow:
    """The caller's folder (visible, unless ``live`` is False: trash and purge see trashed ones);
    403 ``owner_only`` for a user who reads it through a share; otherwise 404."""
    row = folders_db.get(conn, folder_id, for_update=for_update)
    if (row is not None and row.owner_id == user_id and row.status != "deleting"
            and (not live or _visible(conn, folder_id))):
        return row
    if row is not None and folders_db.reads_through(conn, folder_id, user_id):
        raise Forbidden("only the folder's owner may do this", code="owner_only")
    raise _not_found()


def _readable(conn: Any, folder_id: uuid.UUID, user_id: str) -> FolderRow:
    row = folders_db.get(conn, folder_id)
    if row is not None and ((row.owner_id == user_id and _visible(conn, folder_id))
                            or folders_db.reads_through(conn, folder_id, user_id)):
        return row
    raise _not_found()


def readable_folder(conn: Any, folder_id: uuid.UUID, user_id: str) -> FolderRow:
    """The folder if ``user_id`` may read it now (its owner while it is visible, or through a share
    of it or an ancestor: ``folder_ancestors``); otherwise 404 ``folder_not_found``."""
    return _readable(conn, folder_id, user_id)


def _name(raw: str) -> str:
    try:
        return sanitize_name(raw)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code="invalid_name") from exc


def _clash(name: str) -> Conflict:
    return Conflict(f"this folder already has an item called {name!r}", code="name_taken")


# ---- create, read, list, rename, move -------------------------------------------------------

def create_folder(user_id: str, email: str, request: FolderCreate) -> FolderOut:
    name = _name(request.name)
    with transaction() as conn:
        if users_db.ensure(conn, user_id, email, settings().default_quota_bytes) is None:
            raise Conflict("this email belongs to another account", code="email_in_use")
        folders_db.lock_owner(conn, user_id)
        row = _create(conn, user_id, request.parent_id, name)
    events.publish_now([row.folder_id])
    return folder_out(row)


def _create(conn: Any, user_id: str, parent_id: uuid.UUID | None, name: str) -> FolderRow:
    depth = 0
    if parent_id is not None:
        _own(conn, parent_id, user_id)
        depth = len(folders_db.ancestors(conn, parent_id))
    if depth + 1 > MAX_DEPTH:
        raise ValidationFailed(f"folders nest at most {MAX_DEPTH} deep", code="folder_too_deep")
    try:
        row = folders_db.insert(conn, folder_id=uuid.uuid4(), owner_id=user_id, parent_id=parent_id,
                                name=name)
    except folders_db.NameTaken as exc:
        raise _clash(name) from exc
    events.record(conn, folder_event(EventType.FOLDER_CREATED, row, parent_id=parent_id))
    return row


def folder_event(event_type: EventType, folder: FolderRow, **data: Any) -> Event:
    """An event about a folder: keyed by the folder's id, ``data.folder`` says so (the consumers
    that key on files, the indexer and the deleter, acknowledge it unread)."""
    return Event(type=event_type, file_id=folder.folder_id, owner_id=folder.owner_id,
                        data={"folder": True, "name": folder.name, **data})


def folder_name(conn: Any, folder_id: uuid.UUID | None) -> str | None:
    """A folder's name for an event's details (None: the root, or a folder gone meanwhile)."""
    row = folders_db.get(conn, folder_id) if folder_id is not None else None
    return row.name if row else None


def resolve_upload_folder(conn: Any, user_id: str, folder_id: uuid.UUID | None,
                          relative_path: str | None, created: list[uuid.UUID] | None = None
                          ) -> uuid.UUID | None:
    """The folder an upload goes into: ``folder_id`` (the caller's, visible), then each directory
    of ``relative_path`` below it, created when missing (the last segment is the file's name).
    Runs in the upload's transaction (the owner row is locked there), so a failed upload leaves
    no folder behind (nor its ``folder.created`` event). The ids of the folders made are appended
    to ``created`` (the caller publishes their events after the commit)."""
    if folder_id is not None:
        _own(conn, folder_id, user_id)
    if relative_path is None:
        return folder_id
    segments = [s for s in relative_path.replace("\\", "/").split("/") if s.strip(" .")]
    for segment in segments[:-1]:
        name = _name(segment)
        existing = folders_db.find_child(conn, user_id, folder_id, name)
        if existing is not None and existing.status != folders_db.ACTIVE:
            raise Conflict(f"the folder {name!r} is in the trash", code="folder_trashed")
        if existing is None:
            folder_id = _create(conn, user_id, folder_id, name).folder_id
            if created is not None:
                created.append(folder_id)
        else:
            folder_id = existing.folder_id
    return folder_id


def check_file_target(conn: Any, user_id: str, folder_id: uuid.UUID | None, name: str,
                      file_id: uuid.UUID | None = None) -> None:
    """A file called ``name`` may go into ``folder_id``: the caller's visible folder, no sibling file
    of that name (the root allows duplicates, as it always has)."""
    if folder_id is None:
        return
    _own(conn, folder_id, user_id)
    if folders_db.file_name_taken(conn, folder_id, name, besides=file_id):
        raise _clash(name)


def check_restore_target(conn: Any, row: FileRow) -> None:
    """A trashed file may come back into its folder: 409 ``parent_trashed`` while the folder is in
    the trash (restore the folder instead), 409 ``name_taken`` when a live sibling has its name."""
    if row.folder_id is None:
        return
    if not _visible(conn, row.folder_id):
        raise Conflict("the file's folder is in the trash; restore the folder", code="parent_trashed")
    if folders_db.file_name_taken(conn, row.folder_id, row.name, besides=row.file_id):
        raise _clash(row.name)


def _folder_page(rows: list[Any], limit: int, position: Callable[[Any], datetime | None]) -> FolderItems:
    page = rows[:limit]
    last = position(page[-1]) if page else None
    next_cursor = (cursor.encode([last.isoformat(), str(page[-1].folder_id)])
                   if len(rows) > limit and last is not None else None)
    return FolderItems(items=[FolderItem(kind="folder", folder=folder_out(r)) for r in page],
                       next_cursor=next_cursor)


def _position(after: str | None) -> tuple[datetime, uuid.UUID] | None:
    return cursor.decode_time_id(after) if after else None


def trashed_folders(user_id: str, limit: int = 100, after: str | None = None) -> FolderItems:
    """The caller's folders in the trash (each restores or purges as a whole), newest first, by
    cursor."""
    position = _position(after)
    with transaction() as conn:
        rows = folders_db.trashed(conn, user_id, limit + 1, position)
    return _folder_page(rows, limit, lambda r: r.trashed_at)


def get_folder(user_id: str, folder_id: uuid.UUID) -> FolderDetail:
    with transaction() as conn:
        row = _readable(conn, folder_id, user_id)
        crumbs = list(reversed(folders_db.ancestors(conn, folder_id)))  # top first
        if row.owner_id != user_id:  # a viewer's path starts at the topmost folder shared with them
            shared = [i for i, c in enumerate(crumbs) if _shared_with(conn, c.folder_id, user_id)]
            crumbs = crumbs[shared[0]:] if shared else crumbs[-1:]
    return FolderDetail(**folder_out(row).model_dump(),
                        path=[Crumb(folder_id=c.folder_id, name=c.name) for c in crumbs])


def _shared_with(conn: Any, folder_id: uuid.UUID, user_id: str) -> bool:
    return conn.execute("SELECT 1 FROM folder_shares WHERE folder_id = %s AND grantee_id = %s",
                        (folder_id, user_id)).fetchone() is not None


def list_items(user_id: str, folder_id: uuid.UUID | None, limit: int, after: str | None) -> FolderItems:
    """Subfolders first, then files, each by name; the cursor is ``[kind, lower(name), id]``."""
    position = cursor.decode(after, kinds=(int, str, str)) if after else None
    try:
        kind, key = (position[0], (position[1], uuid.UUID(position[2]))) if position else (0, None)
    except ValueError as exc:
        raise ValidationFailed("the cursor is not valid", code="invalid_cursor") from exc
    if kind not in (0, 1):
        raise ValidationFailed("the cursor is not valid", code="invalid_cursor")
    with transaction() as conn:
        owner = _readable(conn, folder_id, user_id).owner_id if folder_id is not None else user_id
        folders: list[FolderRow] = []
        if kind == 0:
            folders = folders_db.child_folders(conn, owner, folder_id, limit + 1, key)
        files: list[FileRow] = []
        if len(folders) <= limit:
            files = folders_db.child_files(conn, owner, folder_id, limit + 1 - len(folders),
                                           key if kind == 1 else None)
    detail = get_folder(user_id, folder_id) if folder_id is not None else None
    items = ([FolderItem(kind="folder", folder=folder_out(f)) for f in folders]
             + [FolderItem(kind="file", file=file_out(to_record(f))) for f in files])
    page, more = items[:limit], len(items) > limit
    next_cursor = None
    if more:
        last = page[-1]
        if last.folder is not None:
            next_cursor = cursor.encode([0, last.folder.name.lower(), str(last.folder.folder_id)])
        else:
            assert last.file is not None
            next_cursor = cursor.encode([1, last.file.name.lower(), str(last.file.file_id)])
    return FolderItems(folder=detail, items=page, next_cursor=next_cursor)


def update_folder(user_id: str, folder_id: uuid.UUID, patch: FolderPatch) -> FolderOut:
    """Rename and/or move; or, with ``trashed: false`` alone, restore (``pending_op`` says whether
    the restore's batches are still under way)."""
    if "trashed" in patch.model_fields_set:
        if patch.model_fields_set != {"trashed"} or patch.trashed is not False:
            raise ValidationFailed("trashed: false restores a folder; send it alone", code="invalid_patch")
        restore_folder(user_id, folder_id)
        with transaction() as conn:
            return folder_out(_own(conn, folder_id, user_id, live=False))
    with transaction() as conn:
        folders_db.lock_owner(conn, user_id)  # moves of one owner serialize: no crossing cycle
        row = _own(conn, folder_id, user_id, for_update=True)
        name = _name(patch.name) if patch.name is not None else row.name
        parent_id = patch.parent_id if "parent_id" in patch.model_fields_set else row.parent_id
        if parent_id != row.parent_id and parent_id is not None:
            _own(conn, parent_id, user_id)
            chain = folders_db.ancestors(conn, parent_id)
            if any(c.folder_id == folder_id for c in chain):
                raise Conflict("a folder cannot move into itself or a folder inside it", code="folder_cycle")
            if len(chain) + 1 + folders_db.subtree_depth(conn, folder_id) > MAX_DEPTH:
                raise ValidationFailed(f"folders nest at most {MAX_DEPTH} deep", code="folder_too_deep")
        if name == row.name and parent_id == row.parent_id:
            return folder_out(row)
        try:
            updated = folders_db.update(conn, folder_id, name=name, parent_id=parent_id)
        except folders_db.NameTaken as exc:
            raise _clash(name) from exc
        changes: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        moved: dict[str, Any] = {}
        if name != row.name:
            changes["name"], previous["name"] = name, row.name
        if parent_id != row.parent_id:
            changes["parent_id"], previous["parent_id"] = parent_id, row.parent_id
            moved = {"from_folder": folder_name(conn, row.parent_id),
                     "to_folder": folder_name(conn, parent_id)}
        events.record(conn, folder_event(EventType.FOLDER_UPDATED, updated, changes=changes,
                                         previous=previous, **moved))
    events.publish_now([folder_id])
    return folder_out(updated)


# ---- sharing --------------------------------------------------------------------------------

def _share_out(row: folders_db.FolderShareRow) -> FolderShareOut:
    return FolderShareOut(share_id=row.share_id, folder_id=row.folder_id, email=row.email,
                          permission=row.permission, created_at=row.created_at)  # type: ignore[arg-type]


def _share_event(event_type: EventType, folder: FolderRow, **data: Any) -> Event:
    """A folder share's event (``folder_event``), so the notifier tells the grantee "X shared
    <folder> with you" and the outbox keeps the change."""
    return folder_event(event_type, folder, **data)


def share_folder(user_id: str, folder_id: uuid.UUID, request: ShareIn) -> FolderShareOut:
    with transaction() as conn:
        folder = _own(conn, folder_id, user_id, for_update=True)
        recipient_id = access.share_recipient(conn, user_id, request.email, what="folder")
        share = folders_db.insert_share(conn, share_id=uuid.uuid4(), folder_id=folder_id,
                                        grantee_id=recipient_id, permission=request.permission)
        if share is None:
            raise Conflict("the folder is already shared with this user", code="already_shared")
        events.record(conn, _share_event(EventType.SHARE_CREATED, folder, share_id=share.share_id,
                                         recipient_id=recipient_id, permission=request.permission))
    events.publish_now([folder_id])
    return _share_out(share)


def list_folder_shares(user_id: str, folder_id: uuid.UUID) -> FolderShareList:
    with transaction() as conn:
        _own(conn, folder_id, user_id, live=False)  # the owner sees a trashed folder's shares too
        return FolderShareList(items=[_share_out(r) for r in folders_db.list_shares(conn, folder_id)])


def revoke_folder_share(user_id: str, folder_id: uuid.UUID, share_id: uuid.UUID) -> None:
    """Cuts the grantee off everything inside at once: access and search resolve folder grants
    from ``folder_shares`` on every request (file records are cached, grants never are)."""
    with transaction() as conn:
        folder = _own(conn, folder_id, user_id, for_update=True, live=False)
        grantee = folders_db.delete_share(conn, folder_id, share_id)
        if grantee is None:
            raise NotFound("this folder has no such share", code="share_not_found")
        events.record(conn, _share_event(EventType.SHARE_REVOKED, folder, share_id=share_id,
                                         recipient_id=grantee))
    events.publish_now([folder_id])


def shared_folders(user_id: str, limit: int = 100, after: str | None = None) -> FolderItems:
    """The visible folders shared with the caller, most recently shared first, by cursor."""
    position = _position(after)
    with transaction() as conn:
        rows = folders_db.shared_with(conn, user_id, limit + 1, position)
    return _folder_page(rows, limit, lambda r: r.shared_at)


# ---- whole-folder trash, restore, purge ------------------------------------------------------

def trash_folder(user_id: str, folder_id: uuid.UUID, *, batch_size: int = BATCH_SIZE,
                 max_batches: int = MAX_BATCHES) -> FolderOpOut:
    """Move the folder and everything inside to the trash; calling again resumes an unfinished one."""
    with transaction() as conn:
        folders_db.lock_owner(conn, user_id)  # an upload into the folder (which holds it) finishes first
        row = _own(conn, folder_id, user_id, for_update=True, live=False)
        if row.status == folders_db.ACTIVE:
            folders_db.set_op(conn, folder_id, status="trashed", pending_op="trash")
        elif row.pending_op not in ("trash", None):
            raise Conflict(f"a {row.pending_op} of this folder is under way", code="folder_busy")
    return run(folder_id, batch_size=batch_size, max_batches=max_batches)


def restore_folder(user_id: str, folder_id: uuid.UUID, *, batch_size: int = BATCH_SIZE,
                   max_batches: int = MAX_BATCHES) -> FolderOpOut:
    """Bring back the folder and the files its trash moved (not files trashed on their own)."""
    with transaction() as conn:
        folders_db.lock_owner(conn, user_id)  # an upload into the folder (which holds it) finishes first
        row = _own(conn, folder_id, user_id, for_update=True, live=False)
        if row.status == "trashed":
            if row.parent_id is not None and not _visible(conn, row.parent_id):
                raise Conflict("restore the folder this one is in first", code="parent_trashed")
            folders_db.set_op(conn, folder_id, status=folders_db.ACTIVE, pending_op="restore")
        elif row.pending_op is None:
            raise Conflict("the folder is not in the trash", code="folder_not_trashed")
        elif row.pending_op != "restore":
            raise Conflict(f"a {row.pending_op} of this folder is under way", code="folder_busy")
    return run(folder_id, batch_size=batch_size, max_batches=max_batches)


def purge_folder(user_id: str, folder_id: uuid.UUID, *, batch_size: int = BATCH_SIZE,
                 max_batches: int = MAX_BATCHES) -> FolderOpOut:
    """Delete a trashed folder for good: its files go down the deletion path, then the folders."""
    with transaction() as conn:
        folders_db.lock_owner(conn, user_id)
        row = folders_db.get(conn, folder_id, for_update=True)
        if row is not None and row.owner_id == user_id and row.status == "deleting":
            pass  # a retry: resume
        else:
            row = _own(conn, folder_id, user_id, for_update=True, live=False)
            if row.status != "trashed":
                raise Conflict("move the folder to the trash before deleting it for good",
                               code="folder_not_trashed")
            folders_db.set_op(conn, folder_id, status="deleting", pending_op="purge")
    return run(folder_id, batch_size=batch_size, max_batches=max_batches)


_Batch = Callable[[Any, uuid.UUID, int], list[FileRow]]


def _trash_events(rows: list[FileRow]) -> list[Event]:
    return [new_event(lifecycle.emits(Trigger.TRASH), r, trashed_at=r["trashed_at"]) for r in rows]


def _restore_events(rows: list[FileRow]) -> list[Event]:
    return [Event(type=lifecycle.emits(Trigger.RESTORE), file_id=r["file_id"], owner_id=r["owner_id"],
                         data={"name": r["name"], "status": r["status"]}) for r in rows]


def _purge_events(rows: list[FileRow]) -> list[Event]:
    return [deletion_event(r, lifecycle.emits(Trigger.PURGE), Reason.PURGED) for r in rows]


# Each operation's steps in order; a purge first trashes what a cut-short trash left behind.
_STEPS: dict[str, list[tuple[_Batch, Callable[[list[FileRow]], list[Event]]]]] = {
    "trash": [(folders_db.trash_batch, _trash_events)],
    "restore": [(folders_db.restore_batch, _restore_events)],
    "purge": [(folders_db.trash_batch, _trash_events), (folders_db.purge_batch, _purge_events)],
}


def run(folder_id: uuid.UUID, *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> FolderOpOut:
    """Run up to ``max_batches`` batches of the folder's pending operation; finish it when no file
    is left to move. Safe to call concurrently and after a crash (see the module docstring)."""
    op: Op = "trash"
    for _ in range(max_batches):
        moved: list[uuid.UUID] = []
        with transaction() as conn:
            row = folders_db.get(conn, folder_id, for_update=True)  # one batch at a time per folder
            if row is None or row.pending_op is None:
                return FolderOpOut(folder_id=folder_id, op=_op_of(row, op), done=True, remaining=0)
            op = cast(Op, row.pending_op)
            for batch, make_events in _STEPS[op]:
                rows = batch(conn, folder_id, batch_size)
                for event in make_events(rows):
                    events.record(conn, event)
                moved = [r["file_id"] for r in rows]
                if rows:
                    break
            if not moved:  # nothing left: the operation is complete
                if op == "purge":
                    folders_db.delete_tree(conn, folder_id)
                else:
                    folders_db.set_op(conn, folder_id, status=row.status, pending_op=None)
        _after_batch(moved, restored=op == "restore")
        if not moved:
            return FolderOpOut(folder_id=folder_id, op=op, done=True, remaining=0)
    with transaction() as conn:
        row = folders_db.get(conn, folder_id)
        left = folders_db.remaining(conn, folder_id, op) if row and row.pending_op else 0
    return FolderOpOut(folder_id=folder_id, op=op, done=left == 0 and (row is None or row.pending_op is None),
                       remaining=left)


def _op_of(row: FolderRow | None, default: str) -> Any:
    if row is None:
        return "purge"
    return {"trashed": "trash", "active": "restore"}.get(row.status, default)


def _after_batch(file_ids: list[uuid.UUID], *, restored: bool) -> None:
    for file_id in file_ids:
        cache.invalidate_file(file_id)
    if file_ids:
        events.publish_now(file_ids)
    if restored:  # found again at once (the indexer does the same from the events)
        # cold start: opensearch-py only when a restore syncs
        from fileshare.search import index as search_index

        search_index.sync_quietly(file_ids)


def resume_pending(limit: int = 10, has_time: Callable[[], bool] = lambda: True) -> int:
    """The sweeper's step: continue whole-folder operations a caller left unfinished (oldest
    first, one call's worth of batches each, while there is time); how many it worked on."""
    with transaction() as conn:
        pending = folders_db.pending_ops(conn, limit)
    done = 0
    for row in pending:
        if not has_time():
            break
        run(row.folder_id)
        done += 1
    return done
