"""SQL for ``folders`` and ``folder_shares``, and the folder side of ``files`` (which folder a file
is in, the files of a subtree in batches).

A folder is *visible* when it and every ancestor are ``active`` (a folder under a trashed one is
hidden with it). A user *reads through a folder* when some visible ancestor-or-self of it is
shared with them. Queries interpolate only constant fragments; every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection, errors

from fileshare.db import typed
from fileshare.db.files import COLUMNS as FILE_COLUMNS
from fileshare.db.files import FileRow
from fileshare.db.transitions import guard, set_status, status_list
from fileshare.lifecycle import LISTED, FileStatus, Trigger

ACTIVE = "active"
_COLUMNS = "folder_id, owner_id, parent_id, name, status, pending_op, trashed_at, created_at, updated_at"
_F_COLUMNS = ", ".join(f"f.{c.strip()}" for c in FILE_COLUMNS.split(","))


@dataclass(frozen=True)
class FolderRow:
    folder_id: UUID
    owner_id: str
    parent_id: UUID | None
    name: str
    status: str  # active | trashed | deleting
    pending_op: str | None  # a whole-folder trash / restore / purge still under way
    trashed_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Crumb:
    folder_id: UUID
    name: str
    status: str
    depth: int


@dataclass(frozen=True)
class FolderShareRow:
    share_id: UUID
    folder_id: UUID
    grantee_id: str
    email: str
    permission: str
    created_at: datetime


class NameTaken(Exception):
    """A sibling already has this name (case-insensitively)."""


def insert(conn: Connection[Any], *, folder_id: UUID, owner_id: str, parent_id: UUID | None,
           name: str) -> FolderRow:
    try:
        with conn.transaction():  # a savepoint: a clash leaves the outer transaction usable
            row = typed.one(conn, FolderRow,
                            "INSERT INTO folders (folder_id, owner_id, parent_id, name)"
                            " VALUES (%s, %s, %s, %s)"
                            f" RETURNING {_COLUMNS}", (folder_id, owner_id, parent_id, name))
    except errors.UniqueViolation as exc:
        raise NameTaken(name) from exc
    assert row is not None
    return row


def get(conn: Connection[Any], folder_id: UUID, *, for_update: bool = False) -> FolderRow | None:
    return typed.one(conn, FolderRow, f"SELECT {_COLUMNS} FROM folders WHERE folder_id = %s"
                     + (" FOR UPDATE" if for_update else ""), (folder_id,))


def find_child(conn: Connection[Any], owner_id: str, parent_id: UUID | None, name: str) -> FolderRow | None:
    """The owner's live folder called ``name`` (case-insensitively) under ``parent_id``."""
    return typed.one(conn, FolderRow,
                     f"SELECT {_COLUMNS} FROM folders WHERE owner_id = %s"
                     " AND parent_id IS NOT DISTINCT FROM %s"
                     " AND lower(name) = lower(%s) AND status <> 'deleting'", (owner_id, parent_id, name))


def update(conn: Connection[Any], folder_id: UUID, *, name: str, parent_id: UUID | None) -> FolderRow:
    try:
        with conn.transaction():
            row = typed.one(conn, FolderRow,
                            "UPDATE folders SET name = %s, parent_id = %s, updated_at = now()"
                            " WHERE folder_id = %s"
                            f" RETURNING {_COLUMNS}", (name, parent_id, folder_id))
    except errors.UniqueViolation as exc:
        raise NameTaken(name) from exc
    assert row is not None
    return row


def ancestors(conn: Connection[Any], folder_id: UUID) -> list[Crumb]:
    """The folder and its ancestors, nearest first."""
    return typed.many(conn, Crumb, "SELECT folder_id, name, status, depth FROM folder_ancestors(%s)"
                      " ORDER BY depth", (folder_id,))


def subtree_depth(conn: Connection[Any], folder_id: UUID) -> int:
    """How many levels lie below the folder (0: no subfolders)."""
    row = conn.execute(
        "WITH RECURSIVE down AS (SELECT folder_id, 0 AS d FROM folders WHERE folder_id = %s"
        " UNION ALL SELECT c.folder_id, down.d + 1 FROM folders c JOIN down ON c.parent_id = down.folder_id"
        " WHERE down.d < 64) SELECT max(d) AS d FROM down", (folder_id,)).fetchone()
    return int(row["d"] or 0) if row else 0


def lock_owner(conn: Connection[Any], owner_id: str) -> None:
    """Serialize one owner's folder moves (two crossing moves could otherwise make a cycle)."""
    conn.execute("SELECT 1 FROM users WHERE user_id = %s FOR UPDATE", (owner_id,))


# ---- listing --------------------------------------------------------------------------------

def child_folders(conn: Connection[Any], owner_id: str, parent_id: UUID | None, limit: int,
                  after: tuple[str, UUID] | None) -> list[FolderRow]:
    """Live subfolders in name order (case-insensitive), after a keyset position."""
    sql = (f"SELECT {_COLUMNS} FROM folders WHERE owner_id = %s AND parent_id IS NOT DISTINCT FROM %s"
           f" AND status = '{ACTIVE}'")
    params: list[Any] = [owner_id, parent_id]
    if after is not None:
        sql += " AND (lower(name), folder_id) > (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY lower(name), folder_id LIMIT %s"
    return typed.many(conn, FolderRow, sql, [*params, limit])


def child_files(conn: Connection[Any], owner_id: str, folder_id: UUID | None, limit: int,
                after: tuple[str, UUID] | None) -> list[FileRow]:
    """Listed files directly in the folder (the root: ``None``), in name order."""
    sql = (f"SELECT {FILE_COLUMNS} FROM files WHERE owner_id = %s AND folder_id IS NOT DISTINCT FROM %s"
           f" AND status IN ({status_list(LISTED)})")
    params: list[Any] = [owner_id, folder_id]
    if after is not None:
        sql += " AND (lower(name), file_id) > (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY lower(name), file_id LIMIT %s"
    return typed.many(conn, FileRow, sql, [*params, limit])


def file_name_taken(conn: Connection[Any], folder_id: UUID, name: str, *,
                    besides: UUID | None = None) -> bool:
    row = conn.execute(f"SELECT 1 FROM files WHERE folder_id = %s AND lower(name) = lower(%s)"
                       f" AND status IN ({status_list(LISTED)}) AND file_id IS DISTINCT FROM %s",
                       (folder_id, name, besides)).fetchone()
    return row is not None


# ---- sharing --------------------------------------------------------------------------------

_SHARE_COLUMNS = "s.share_id, s.folder_id, s.grantee_id, u.email, s.permission, s.created_at"


def insert_share(conn: Connection[Any], *, share_id: UUID, folder_id: UUID, grantee_id: str,
                 permission: str) -> FolderShareRow | None:
    """The new share; None when the folder is already shared with this user."""
    return typed.one(
        conn, FolderShareRow,
        "WITH s AS (INSERT INTO folder_shares (share_id, folder_id, grantee_id, permission)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (folder_id, grantee_id) DO NOTHING RETURNING *)"
        f" SELECT {_SHARE_COLUMNS} FROM s JOIN users u ON u.user_id = s.grantee_id",
        (share_id, folder_id, grantee_id, permission))


def list_shares(conn: Connection[Any], folder_id: UUID) -> list[FolderShareRow]:
    return typed.many(conn, FolderShareRow,
                      f"SELECT {_SHARE_COLUMNS} FROM folder_shares s JOIN users u ON u.user_id = s.grantee_id"
                      " WHERE s.folder_id = %s ORDER BY s.created_at, s.share_id", (folder_id,))


def delete_share(conn: Connection[Any], folder_id: UUID, share_id: UUID) -> str | None:
    """Remove the share; its grantee's id, or None when the folder has no such share."""
    row = conn.execute("DELETE FROM folder_shares WHERE share_id = %s AND folder_id = %s"
                       " RETURNING grantee_id",
                       (share_id, folder_id)).fetchone()
    return row["grantee_id"] if row else None


def reads_through(conn: Connection[Any], folder_id: UUID | None, user_id: str) -> bool:
    """True when the folder is visible and it or an ancestor is shared with ``user_id``."""
    if folder_id is None:
        return False
    row = conn.execute(
        "SELECT bool_and(a.status = 'active') AS visible,"
        " bool_or(EXISTS (SELECT 1 FROM folder_shares s WHERE s.folder_id = a.folder_id"
        "                 AND s.grantee_id = %s)) AS shared"
        " FROM folder_ancestors(%s) a", (user_id, folder_id)).fetchone()
    return bool(row and row["visible"] and row["shared"])


def readable_files(conn: Connection[Any], user_id: str, file_ids: list[UUID], cap: int) -> set[UUID]:
    """Which of ``file_ids`` the user reads through a folder shared with them (search re-check):
    two queries whatever the number of hits."""
    if not file_ids:
        return set()
    readable = set(readable_folder_ids(conn, user_id, cap))
    if not readable:
        return set()
    rows = conn.execute("SELECT file_id, folder_id FROM files WHERE file_id = ANY(%s)"
                        " AND folder_id IS NOT NULL",
                        (file_ids,)).fetchall()
    return {r["file_id"] for r in rows if r["folder_id"] in readable}


def readable_folder_ids(conn: Connection[Any], user_id: str, cap: int) -> list[UUID]:
    """Every visible folder the user reads through a share: the shared folders and all their live
    descendants (at most ``cap``; search filters documents by these as their ``folder_id``)."""
    rows = conn.execute(
        "WITH RECURSIVE sub AS ("
        "  SELECT s.folder_id FROM folder_shares s WHERE s.grantee_id = %s"
        "   AND NOT EXISTS (SELECT 1 FROM folder_ancestors(s.folder_id) a WHERE a.status <> 'active')"
        "  UNION SELECT c.folder_id FROM folders c JOIN sub ON c.parent_id = sub.folder_id"
        f"  WHERE c.status = '{ACTIVE}')"
        " SELECT folder_id FROM sub LIMIT %s", (user_id, cap)).fetchall()
    return [r["folder_id"] for r in rows]


@dataclass(frozen=True)
class SharedFolderRow(FolderRow):
    shared_at: datetime  # when it was shared with the user (the list's order)


def shared_with(conn: Connection[Any], user_id: str, limit: int,
                after: tuple[datetime, UUID] | None = None) -> list[SharedFolderRow]:
    """Visible folders shared with the user, most recently shared first, after a keyset position."""
    sql = (f"SELECT {', '.join('f.' + c.strip() for c in _COLUMNS.split(','))}, s.created_at AS shared_at"
           " FROM folder_shares s JOIN folders f USING (folder_id) WHERE s.grantee_id = %s"
           " AND NOT EXISTS (SELECT 1 FROM folder_ancestors(s.folder_id) a WHERE a.status <> 'active')")
    params: list[Any] = [user_id]
    if after is not None:
        sql += " AND (s.created_at, s.folder_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY s.created_at DESC, s.folder_id DESC LIMIT %s"
    return typed.many(conn, SharedFolderRow, sql, [*params, limit])


# ---- a whole tree (zipping a folder) ----------------------------------------------------------

@dataclass(frozen=True)
class TreeFolder:
    folder_id: UUID
    path: str  # from the top folder, its own name first: "Docs/2026/q1" (names hold no "/")


def tree(conn: Connection[Any], root: UUID, limit: int) -> list[TreeFolder]:
    """The folder and its live descendants with their paths, at most ``limit``, parents first."""
    return typed.many(
        conn, TreeFolder,
        "WITH RECURSIVE sub AS (SELECT folder_id, name AS path, 0 AS depth FROM folders WHERE folder_id = %s"
        "  UNION ALL SELECT c.folder_id, sub.path || '/' || c.name, sub.depth + 1 FROM folders c"
        f"  JOIN sub ON c.parent_id = sub.folder_id WHERE c.status = '{ACTIVE}' AND sub.depth < 64)"
        " SELECT folder_id, path FROM sub ORDER BY depth, lower(path), folder_id LIMIT %s", (root, limit))


def tree_files(conn: Connection[Any], owner_id: str, folder_ids: list[UUID], limit: int) -> list[FileRow]:
    """The owner's ready files directly in any of ``folder_ids``, at most ``limit``, by name."""
    return typed.many(conn, FileRow,
                      f"SELECT {FILE_COLUMNS} FROM files WHERE folder_id = ANY(%s) AND owner_id = %s"
                      f" AND status IN ({status_list([FileStatus.READY])})"
                      " ORDER BY lower(name), file_id LIMIT %s",
                      (folder_ids, owner_id, limit))


# ---- whole-folder operations, in batches ---------------------------------------------------

_SUBTREE = ("WITH RECURSIVE sub AS (SELECT folder_id FROM folders WHERE folder_id = %(root)s"
            " UNION ALL SELECT c.folder_id FROM folders c JOIN sub ON c.parent_id = sub.folder_id) ")


def set_op(conn: Connection[Any], folder_id: UUID, *, status: str, pending_op: str | None) -> FolderRow:
    trashed = "now()" if status == "trashed" else ("trashed_at" if status == "deleting" else "NULL")
    row = typed.one(conn, FolderRow,
                    f"UPDATE folders SET status = %s, pending_op = %s, trashed_at = {trashed},"
                    " updated_at = now()"
                    f" WHERE folder_id = %s RETURNING {_COLUMNS}", (status, pending_op, folder_id))
    assert row is not None
    return row


def _subtree_batch(conn: Connection[Any], root: UUID, limit: int, trigger: Trigger,
                   also_set: str = "") -> list[FileRow]:
    """Move up to ``limit`` files of the subtree that the table lets ``trigger`` move (``also_set``:
    more constant assignments). Rows locked by someone else are skipped (the next batch takes them)."""
    return typed.many(conn, FileRow,
        _SUBTREE + f"UPDATE files SET {set_status(trigger)}{also_set}, updated_at = now() WHERE file_id IN"
        " (SELECT file_id FROM files WHERE folder_id IN (SELECT folder_id FROM sub)"
        f" AND {guard(trigger)} ORDER BY file_id LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
        f" RETURNING {FILE_COLUMNS}", {"root": root, "n": limit})


def trash_batch(conn: Connection[Any], root: UUID, limit: int) -> list[FileRow]:
    """Trash up to ``limit`` files of the subtree, marking them as trashed with ``root``."""
    return _subtree_batch(conn, root, limit, Trigger.TRASH, ", trashed_at = now(), trashed_with = %(root)s")


def restore_batch(conn: Connection[Any], root: UUID, limit: int) -> list[FileRow]:
    """Restore up to ``limit`` files that the trash of ``root`` moved (not ones trashed on their own)."""
    return typed.many(conn, FileRow,
        f"UPDATE files SET {set_status(Trigger.RESTORE)}, trashed_at = NULL, trashed_with = NULL,"
        " updated_at = now() WHERE file_id IN (SELECT file_id FROM files WHERE trashed_with = %(root)s"
        f" AND {guard(Trigger.RESTORE)} ORDER BY file_id LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
        f" RETURNING {FILE_COLUMNS}", {"root": root, "n": limit})


def purge_batch(conn: Connection[Any], root: UUID, limit: int) -> list[FileRow]:
    """Move up to ``limit`` trashed files of the subtree to ``deleting`` (the deleter does the rest)."""
    return _subtree_batch(conn, root, limit, Trigger.PURGE)


def remaining(conn: Connection[Any], root: UUID, op: str) -> int:
    """How many files the operation still has to move (0: it is finished)."""
    if op == "restore":
        row = conn.execute("SELECT count(*) AS n FROM files WHERE trashed_with = %s"
                           f" AND {guard(Trigger.RESTORE)}",
                           (root,)).fetchone()
    else:
        trigger = Trigger.TRASH if op == "trash" else Trigger.PURGE
        row = conn.execute(_SUBTREE + "SELECT count(*) AS n FROM files WHERE folder_id IN"
                           f" (SELECT folder_id FROM sub) AND {guard(trigger)}", {"root": root}).fetchone()
    return int(row["n"]) if row else 0


def delete_tree(conn: Connection[Any], root: UUID) -> None:
    """Delete the folder and (by cascade) its subfolders; files still being deleted keep their row
    (their ``folder_id`` becomes NULL) until the deleter removes them."""
    conn.execute("DELETE FROM folders WHERE folder_id = %s", (root,))


def trashed(conn: Connection[Any], owner_id: str, limit: int,
            after: tuple[datetime, UUID] | None = None) -> list[FolderRow]:
    """The owner's trashed folders (not those inside another trashed folder), newest first, after a
    keyset position."""
    sql = (f"SELECT {_COLUMNS} FROM folders f WHERE owner_id = %s AND status = 'trashed'"
           " AND NOT EXISTS (SELECT 1 FROM folder_ancestors(f.parent_id) a WHERE a.status <> 'active')")
    params: list[Any] = [owner_id]
    if after is not None:
        sql += " AND (trashed_at, folder_id) < (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY trashed_at DESC, folder_id DESC LIMIT %s"
    return typed.many(conn, FolderRow, sql, [*params, limit])


def pending_ops(conn: Connection[Any], limit: int) -> list[FolderRow]:
    return typed.many(conn, FolderRow, f"SELECT {_COLUMNS} FROM folders WHERE pending_op IS NOT NULL"
                      " ORDER BY updated_at LIMIT %s", (limit,))
