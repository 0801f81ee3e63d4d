"""SQL fragments generated from the lifecycle table (``fileshare.lifecycle.TABLE``), so every guarded
UPDATE of ``files.status`` takes its sources and its target from the one table.

Only enum values are interpolated (constants of this code base, never input).
"""

from __future__ import annotations

from collections.abc import Iterable

from fileshare.lifecycle import GONE, PRIOR, TABLE, FileStatus, Trigger


def status_list(statuses: Iterable[FileStatus]) -> str:
    """``'pending', 'ready'``: a constant list for ``status IN (...)`` (sorted, so SQL is stable)."""
    return ", ".join(f"'{FileStatus(s).value}'" for s in sorted(statuses))


def guard(trigger: Trigger, *, table: str = "") -> str:
    """The WHERE predicate a row must satisfy for ``trigger`` to move it. For triggers that also
    apply in the trash, a trashed row whose status before the trash is a source matches too
    (``ready`` assumed for rows trashed before that was recorded, as a restore does)."""
    transition = TABLE[trigger]
    col = f"{table}." if table else ""
    sql = f"{col}status IN ({status_list(transition.sources)})"
    if transition.in_trash:
        sql = (f"({sql} OR ({col}status = 'trashed' AND coalesce({col}status_before_trash, 'ready')"
               f" IN ({status_list(transition.sources)})))")
    return sql


def set_status(trigger: Trigger) -> str:
    """The SET clauses moving a row along ``trigger`` (not for REMOVE, which deletes the row)."""
    transition = TABLE[trigger]
    target = transition.target
    if target == GONE:
        raise ValueError(f"{trigger.value} deletes the row; it sets no status")
    if target == PRIOR:
        return "status = coalesce(status_before_trash, 'ready'), status_before_trash = NULL"
    assert isinstance(target, FileStatus)
    if target is FileStatus.TRASHED:
        return "status_before_trash = status, status = 'trashed'"
    if transition.in_trash:  # a trashed file stays trashed; the outcome is what a restore returns to
        return (f"status = CASE WHEN status = 'trashed' THEN status ELSE '{target.value}' END,"
                f" status_before_trash = CASE WHEN status = 'trashed' THEN '{target.value}'"
                " ELSE status_before_trash END")
    return f"status = '{target.value}'"
