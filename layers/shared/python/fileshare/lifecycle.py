"""A file's lifecycle: its statuses, the triggers that move it, and the one table that says which
trigger moves which status to which and what event it emits.

Processing, the multipart abort, trash, restore, purge, expiry, the sweeper and the deleter all go
through this table: their guarded UPDATEs take their ``WHERE status ...`` from it
(``fileshare.db.transitions``), and the domain asks it whether a trigger is allowed before acting.

```
pending --VERIFY--> ready --REVERIFY--> ready         pending|ready|rejected --TRASH--> trashed
pending --REJECT | ABORT | ABANDON--> rejected        trashed --RESTORE--> the status before
ready --REJECT_REPLACED--> rejected                   trashed --PURGE | RETENTION_END--> deleting
pending|ready --EXPIRE--> deleting                    deleting --REMOVE--> gone (the row is deleted)
```

A trashed file remembers the status it had (``status_before_trash``). Processing outcomes apply to
that remembered status while the file stays in the trash (``in_trash`` in the table): a file
trashed while its upload was on the way is verified, and a restore lands on ``ready`` or
``rejected``, never on a ``pending`` that nothing would finish. ``deleting`` is terminal: nothing
but REMOVE (the deleter's last step, the row is deleted) leaves it, so a deletion event can never
destroy a file that came back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from fileshare.errors import Conflict
from fileshare.event_types import EventType


class FileStatus(StrEnum):
    """The values of ``files.status`` (the table's CHECK constraint lists exactly these)."""

    PENDING = "pending"  # the row exists, its bytes are on the way (or never arrived)
    READY = "ready"  # the bytes were verified; thumbnail and search document exist
    REJECTED = "rejected"  # verification failed (or the upload was aborted or abandoned)
    TRASHED = "trashed"  # restorable for the retention period; remembers its status before
    DELETING = "deleting"  # a purge is under way; terminal


class Trigger(StrEnum):
    """What happens to a file (the events of the state machine, not the Kafka events it emits)."""

    VERIFY = "verify"  # processing: the bytes passed
    REJECT = "reject"  # processing: the bytes failed, or the owner's quota is full
    REVERIFY = "reverify"  # processing: a ready file's key was written again and the new bytes passed
    REJECT_REPLACED = "reject_replaced"  # ... and the new bytes failed
    ABORT = "abort"  # the owner aborted an unfinished multipart upload
    ABANDON = "abandon"  # the sweeper: pending for longer than an upload may take
    TRASH = "trash"  # DELETE /files/{id}
    RESTORE = "restore"  # POST /files/{id}/restore
    PURGE = "purge"  # DELETE /trash/{id}
    RETENTION_END = "retention_end"  # the sweeper: in the trash longer than the retention period
    EXPIRE = "expire"  # the sweeper: expires_at passed
    REMOVE = "remove"  # the deleter's last step: the row is deleted


PRIOR: Literal["prior"] = "prior"  # RESTORE's target: the status the file had before the trash
GONE: Literal["gone"] = "gone"  # REMOVE's target: the row no longer exists
Target = FileStatus | Literal["prior", "gone"]


@dataclass(frozen=True)
class Transition:
    sources: frozenset[FileStatus]
    target: Target
    emits: EventType | None  # the event recorded in the same transaction (None: none)
    in_trash: bool = False  # also applies to a trashed file whose status before the trash is a source
    idempotent_in: frozenset[FileStatus] = frozenset()  # statuses where the trigger changes nothing


def _s(*statuses: FileStatus) -> frozenset[FileStatus]:
    return frozenset(statuses)


# short names for the table below
P, R, X, T, D = (FileStatus.PENDING, FileStatus.READY, FileStatus.REJECTED, FileStatus.TRASHED,
                 FileStatus.DELETING)

TABLE: Mapping[Trigger, Transition] = {
    Trigger.VERIFY: Transition(_s(P), R, EventType.FILE_READY, in_trash=True),
    Trigger.REJECT: Transition(_s(P), X, EventType.FILE_REJECTED, in_trash=True),
    # file.updated only when checksum, type or thumbnail changed (the same bytes again emit nothing)
    Trigger.REVERIFY: Transition(_s(R), R, EventType.FILE_UPDATED, in_trash=True),
    Trigger.REJECT_REPLACED: Transition(_s(R), X, EventType.FILE_REJECTED, in_trash=True),
    Trigger.ABORT: Transition(_s(P), X, EventType.FILE_REJECTED),
    Trigger.ABANDON: Transition(_s(P), X, EventType.FILE_REJECTED),
    Trigger.TRASH: Transition(_s(P, R, X), T, EventType.FILE_TRASHED, idempotent_in=_s(T)),
    Trigger.RESTORE: Transition(_s(T), PRIOR, EventType.FILE_RESTORED),
    Trigger.PURGE: Transition(_s(T), D, EventType.FILE_DELETED, idempotent_in=_s(D)),
    Trigger.RETENTION_END: Transition(_s(T), D, EventType.FILE_DELETED),
    Trigger.EXPIRE: Transition(_s(P, R), D, EventType.FILE_EXPIRED),
    Trigger.REMOVE: Transition(_s(D), GONE, None),
}

# Read-side sets, named once.
OWNER_VISIBLE = _s(P, R, X, T)  # the owner sees (and manages) the file
VIEWER_VISIBLE = _s(P, R, X)  # a user it is shared with sees it
LISTED = _s(P, R, X)  # GET /files (the trash lists the trashed ones)
STORED = _s(R, T, D)  # occupies the owner's quota (pending uploads reserve it separately)
HIDDEN_FROM_SEARCH = _s(T, D)
RESTORABLE_TO = _s(P, R, X)  # what ``status_before_trash`` can hold
TAKES_VERSIONS = _s(R)  # a new version is accepted, or another made current, only while ready


class VersionStatus(StrEnum):
    """The values of ``file_versions.status`` (migration 0050's CHECK lists exactly these).

    A version is not a file: it never trashes or restores on its own (its file does, and a purge
    removes every version). ``pending -> ready`` (verified; it becomes the file's current version
    at once, the old current is kept as a ``ready`` row) or ``pending -> rejected`` (verification
    failed, over quota, or the file was no longer ready); ``ready -> rejected`` when a kept
    version's key was written again while its POST was still valid (its bytes are no longer the
    verified ones). Nothing leaves ``rejected``; deleting a version deletes its row.
    """

    PENDING = "pending"
    READY = "ready"
    REJECTED = "rejected"


VERSION_MOVES: Mapping[VersionStatus, frozenset[VersionStatus]] = {
    VersionStatus.PENDING: frozenset({VersionStatus.READY, VersionStatus.REJECTED}),
    VersionStatus.READY: frozenset({VersionStatus.REJECTED}),
    VersionStatus.REJECTED: frozenset(),
}


class IllegalTransition(Conflict):
    """A trigger that the table does not allow in the file's current state."""

    code = "illegal_transition"

    def __init__(self, trigger: Trigger, state: State) -> None:
        where = state.status.value + (f" (was {state.before_trash.value})" if state.before_trash else "")
        super().__init__(f"a {where} file cannot {trigger.value}")
        self.trigger, self.state = trigger, state


@dataclass(frozen=True)
class State:
    """A file's status, and for a trashed file the status it had before the trash."""

    status: FileStatus
    before_trash: FileStatus | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any] | Any) -> State:
        """The state of a files row (a mapping or an object with ``status``/``status_before_trash``)."""
        get = row.get if isinstance(row, Mapping) else lambda k: getattr(row, k, None)
        status = FileStatus(str(get("status")))
        before = get("status_before_trash") if status is FileStatus.TRASHED else None
        return cls(status, FileStatus(before) if before else None)

    @property
    def underlying(self) -> FileStatus:
        """What processing decides about: the status, or for a trashed file the one before the
        trash (``ready`` for rows trashed before that was recorded, as a restore assumes)."""
        if self.status is FileStatus.TRASHED:
            return self.before_trash or FileStatus.READY
        return self.status


def _applies_in_trash(transition: Transition, state: State) -> bool:
    return (transition.in_trash and state.status is FileStatus.TRASHED
            and state.underlying in transition.sources)


def allows(trigger: Trigger, state: State | FileStatus) -> bool:
    """Whether ``trigger`` moves a file in ``state`` (an idempotent no-op is not a move)."""
    state = state if isinstance(state, State) else State(state)
    transition = TABLE[trigger]
    return state.status in transition.sources or _applies_in_trash(transition, state)


def is_noop(trigger: Trigger, state: State | FileStatus) -> bool:
    """Whether ``trigger`` in ``state`` is a repeat that changes nothing and emits nothing."""
    status = state.status if isinstance(state, State) else state
    return status in TABLE[trigger].idempotent_in


def apply(state: State, trigger: Trigger) -> State | None:
    """The state after ``trigger`` (None: the row is gone). A no-op returns ``state`` unchanged;
    anything the table does not allow raises ``IllegalTransition``."""
    transition = TABLE[trigger]
    if is_noop(trigger, state):
        return state
    if _applies_in_trash(transition, state):
        assert isinstance(transition.target, FileStatus)
        return State(FileStatus.TRASHED, transition.target)
    if state.status not in transition.sources:
        raise IllegalTransition(trigger, state)
    if transition.target == GONE:
        return None
    if transition.target == PRIOR:
        return State(state.underlying)
    if transition.target is FileStatus.TRASHED:
        return State(FileStatus.TRASHED, state.status)
    assert isinstance(transition.target, FileStatus)
    return State(transition.target)


def require(trigger: Trigger, state: State | FileStatus) -> Transition:
    """The transition ``trigger`` takes from ``state``; ``IllegalTransition`` when there is none."""
    state = state if isinstance(state, State) else State(state)
    if not allows(trigger, state):
        raise IllegalTransition(trigger, state)
    return TABLE[trigger]


def emits(trigger: Trigger) -> EventType:
    """The event type ``trigger`` records (for triggers that record one)."""
    event_type = TABLE[trigger].emits
    if event_type is None:
        raise ValueError(f"{trigger.value} records no event")
    return event_type


def sources(trigger: Trigger) -> frozenset[FileStatus]:
    return TABLE[trigger].sources
