"""The file lifecycle's one transition table (``fileshare.lifecycle``): a hypothesis state machine over
the pure table, the SQL fragments generated from it, and its agreement with the schema and the API
model."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from fileshare import lifecycle
from fileshare.db import transitions
from fileshare.event_types import EventType
from fileshare.lifecycle import GONE, PRIOR, TABLE, FileStatus, IllegalTransition, State, Trigger

MIGRATIONS = Path(lifecycle.__file__).parent / "db" / "migrations"
PROCESSING = (Trigger.VERIFY, Trigger.REJECT, Trigger.REVERIFY, Trigger.REJECT_REPLACED)


def _states() -> list[State]:
    """Every state a row can be in: each status, and trashed with each status it can come back to."""
    return ([State(s) for s in FileStatus if s is not FileStatus.TRASHED]
            + [State(FileStatus.TRASHED, b) for b in (None, *sorted(lifecycle.RESTORABLE_TO))])


def _legal(state: State | None) -> bool:
    if state is None:
        return True
    if state.status is FileStatus.TRASHED:
        return state.before_trash is None or state.before_trash in lifecycle.RESTORABLE_TO
    return state.before_trash is None


# ---- the state machine over the table ---------------------------------------------------------

class LifecycleTable(RuleBasedStateMachine):
    """Random sequences of triggers from ``pending``: every step either follows the table or raises
    ``IllegalTransition`` and leaves the state as it was; no sequence reaches an illegal state, and
    ``deleting`` only ever leads to ``gone``."""

    state: State | None
    history: list[tuple[Trigger, State | None]]

    @initialize()
    def upload(self) -> None:  # POST /files: a pending row
        self.state = State(FileStatus.PENDING)
        self.history = []

    @rule(trigger=st.sampled_from(list(Trigger)))
    def fire(self, trigger: Trigger) -> None:
        if self.state is None:  # the row is gone: nothing can be applied to it
            return
        before = self.state
        if lifecycle.allows(trigger, before):
            assert lifecycle.require(trigger, before) is TABLE[trigger]
            after = lifecycle.apply(before, trigger)
        elif lifecycle.is_noop(trigger, before):  # a repeat (trash a trashed file): nothing changes
            after = lifecycle.apply(before, trigger)
            assert after == before
        else:
            with pytest.raises(IllegalTransition) as raised:
                lifecycle.apply(before, trigger)
            assert raised.value.code == "illegal_transition" and raised.value.status == 409
            assert trigger.value in raised.value.message
            with pytest.raises(IllegalTransition):
                lifecycle.require(trigger, before)
            after = before
        if before.status is FileStatus.DELETING:
            assert after in (before, None), "deleting is terminal"
        if after is None:
            assert trigger is Trigger.REMOVE and before.status is FileStatus.DELETING
        if trigger is Trigger.RESTORE and after is not before and after is not None:
            assert after.status is (before.before_trash or FileStatus.READY)
        if trigger in PROCESSING and before.status is FileStatus.TRASHED and after is not before:
            assert after is not None and after.status is FileStatus.TRASHED  # stays in the trash
        self.history.append((trigger, after))
        self.state = after

    @invariant()
    def only_legal_states(self) -> None:
        assert _legal(self.state), (self.state, self.history)


TestLifecycleTable = LifecycleTable.TestCase
TestLifecycleTable.settings = settings(max_examples=200, stateful_step_count=30, deadline=None,
                                       derandomize=True, suppress_health_check=[HealthCheck.too_slow])


# ---- the table itself -------------------------------------------------------------------------

def test_every_trigger_has_one_row_and_every_status_is_reachable_from_pending() -> None:
    assert set(TABLE) == set(Trigger)
    reached, frontier = {State(FileStatus.PENDING)}, [State(FileStatus.PENDING)]
    while frontier:
        state = frontier.pop()
        for trigger in Trigger:
            if lifecycle.allows(trigger, state):
                after = lifecycle.apply(state, trigger)
                if after is not None and after not in reached:
                    reached.add(after)
                    frontier.append(after)
    assert {s.status for s in reached} == set(FileStatus)
    assert all(_legal(s) for s in reached)


@pytest.mark.parametrize("state", _states(), ids=str)
def test_apply_agrees_with_allows_in_every_state(state: State) -> None:
    for trigger in Trigger:
        if lifecycle.allows(trigger, state):
            after = lifecycle.apply(state, trigger)
            assert _legal(after)
            if trigger is not Trigger.REVERIFY:  # the only move from a status to itself
                assert after != state
        elif lifecycle.is_noop(trigger, state):
            assert lifecycle.apply(state, trigger) == state
        else:
            with pytest.raises(IllegalTransition):
                lifecycle.apply(state, trigger)


def test_what_each_trigger_emits() -> None:
    assert {t: TABLE[t].emits for t in Trigger} == {
        Trigger.VERIFY: EventType.FILE_READY, Trigger.REJECT: EventType.FILE_REJECTED,
        Trigger.REVERIFY: EventType.FILE_UPDATED, Trigger.REJECT_REPLACED: EventType.FILE_REJECTED,
        Trigger.ABORT: EventType.FILE_REJECTED, Trigger.ABANDON: EventType.FILE_REJECTED,
        Trigger.TRASH: EventType.FILE_TRASHED, Trigger.RESTORE: EventType.FILE_RESTORED,
        Trigger.PURGE: EventType.FILE_DELETED, Trigger.RETENTION_END: EventType.FILE_DELETED,
        Trigger.EXPIRE: EventType.FILE_EXPIRED, Trigger.REMOVE: None}
    with pytest.raises(ValueError, match="records no event"):
        lifecycle.emits(Trigger.REMOVE)


def test_a_trashed_file_is_processed_as_the_status_it_had() -> None:
    trashed_pending = State(FileStatus.TRASHED, FileStatus.PENDING)
    assert lifecycle.apply(trashed_pending, Trigger.VERIFY) == State(FileStatus.TRASHED, FileStatus.READY)
    assert lifecycle.apply(trashed_pending, Trigger.REJECT) == State(FileStatus.TRASHED, FileStatus.REJECTED)
    assert not lifecycle.allows(Trigger.ABORT, trashed_pending)  # the owner aborts only a live upload
    assert not lifecycle.allows(Trigger.ABANDON, trashed_pending)  # retention purges it instead
    restored = lifecycle.apply(State(FileStatus.TRASHED, FileStatus.READY), Trigger.RESTORE)
    assert restored == State(FileStatus.READY)
    assert lifecycle.apply(State(FileStatus.TRASHED), Trigger.RESTORE) == State(FileStatus.READY)  # old rows


def test_state_of_a_row() -> None:
    assert State.of({"status": "trashed", "status_before_trash": "pending"}).underlying is FileStatus.PENDING
    assert State.of({"status": "ready", "status_before_trash": "pending"}) == State(FileStatus.READY)
    with pytest.raises(ValueError):
        State.of({"status": "archived"})


# ---- the SQL generated from the table ---------------------------------------------------------

def test_guards_and_targets_come_from_the_table() -> None:
    assert transitions.guard(Trigger.EXPIRE) == "status IN ('pending', 'ready')"
    assert transitions.guard(Trigger.VERIFY) == (
        "(status IN ('pending') OR (status = 'trashed' AND coalesce(status_before_trash, 'ready')"
        " IN ('pending')))")
    assert transitions.guard(Trigger.REMOVE, table="f") == "f.status IN ('deleting')"
    assert transitions.set_status(Trigger.TRASH) == "status_before_trash = status, status = 'trashed'"
    assert transitions.set_status(Trigger.PURGE) == "status = 'deleting'"
    assert "status_before_trash = CASE WHEN status = 'trashed' THEN 'rejected'" in transitions.set_status(
        Trigger.REJECT)
    restore = transitions.set_status(Trigger.RESTORE)
    assert restore.startswith("status = coalesce(status_before_trash, 'ready')")
    with pytest.raises(ValueError):
        transitions.set_status(Trigger.REMOVE)
    for trigger in Trigger:  # every guard names only statuses of the enum
        named = set(re.findall(r"'([a-z]+)'", transitions.guard(trigger)))
        assert named <= {s.value for s in FileStatus}


# ---- agreement with the schema, the API model and the read-side sets --------------------------

def _status_check_in_migrations() -> set[str]:
    """The values of the last CHECK on ``files.status`` any migration declares."""
    found: set[str] | None = None
    for path in sorted(MIGRATIONS.glob("*.sql")):
        sql = path.read_text()
        for table in re.finditer(r"CREATE TABLE (?:IF NOT EXISTS )?files\s*\((.*?)\n\);", sql,
                                 flags=re.IGNORECASE | re.DOTALL):  # files only: archives has a status
            for match in re.finditer(r"status\s+text\s+NOT NULL\s+CHECK\s*\(\s*status\s+IN\s*\(([^)]*)\)",
                                     table.group(1), flags=re.IGNORECASE):
                found = set(re.findall(r"'([^']+)'", match.group(1)))
        for match in re.finditer(r"ALTER TABLE files[^;]*CHECK\s*\(\s*status\s+IN\s*\(([^)]*)\)",
                                 sql, flags=re.IGNORECASE):
            found = set(re.findall(r"'([^']+)'", match.group(1)))
    assert found is not None, "no CHECK on files.status in the migrations"
    return found


def test_the_schema_check_lists_exactly_the_enum() -> None:
    assert _status_check_in_migrations() == {s.value for s in FileStatus}


def test_the_schema_check_on_the_status_before_trash_lists_what_a_restore_returns_to() -> None:
    sql = "".join(p.read_text() for p in sorted(MIGRATIONS.glob("*.sql")))
    match = re.search(r"CHECK \(status_before_trash IS NULL OR status_before_trash IN \(([^)]*)\)\)", sql)
    assert match is not None, "no CHECK on files.status_before_trash in the migrations"
    assert set(re.findall(r"'([^']+)'", match.group(1))) == {s.value for s in lifecycle.RESTORABLE_TO}


def test_the_api_model_lists_exactly_the_enum() -> None:
    from fileshare.models import FileStatus as ApiFileStatus

    assert set(typing.get_args(ApiFileStatus)) == {s.value for s in FileStatus}


def test_read_side_sets_follow_the_table() -> None:
    from fileshare import access
    from fileshare.db import shares
    from fileshare.search import query as search

    assert access.OWNER_VISIBLE_STATUSES == lifecycle.OWNER_VISIBLE
    assert frozenset(shares.VIEWABLE_STATUSES) == lifecycle.VIEWER_VISIBLE
    assert frozenset(search.HIDDEN_STATUSES) == lifecycle.HIDDEN_FROM_SEARCH
    assert TABLE[Trigger.TRASH].sources == lifecycle.RESTORABLE_TO  # what can be trashed comes back
    assert lifecycle.HIDDEN_FROM_SEARCH.isdisjoint(lifecycle.VIEWER_VISIBLE)
    assert TABLE[Trigger.RESTORE].target == PRIOR and TABLE[Trigger.REMOVE].target == GONE
