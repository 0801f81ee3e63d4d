"""The sweeper's housekeeping (``fileshare.housekeeping``) against the real PostgreSQL: published
outbox rows and read notifications past their retention are pruned in bounded batches, oldest first;
unpublished outbox rows and unread notifications never are."""

# ruff: noqa: S608
from __future__ import annotations

import json
import uuid
from typing import Any

from fileshare import housekeeping
from fileshare.db import housekeeping as sql
from fileshare.db.connection import transaction
from tests.integration.conftest import User

AGO = "CASE WHEN %s::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => %s::float8 * 86400) END"


def _outbox(db: Any, *, published_days_ago: float | None, created_days_ago: float = 2000) -> uuid.UUID:
    event_id = uuid.uuid4()
    db.execute("INSERT INTO outbox (event_id, aggregate_id, type, payload, created_at, published_at)"
               " VALUES (%s, %s, 'file.updated', %s, now() - make_interval(days => %s),"
               f" {AGO})",
               (event_id, uuid.uuid4(), json.dumps({}), int(created_days_ago), published_days_ago,
                published_days_ago))
    return event_id


def _outbox_left(db: Any, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = db.execute("SELECT event_id FROM outbox WHERE event_id = ANY(%s)", (ids,)).fetchall()
    return {r["event_id"] for r in rows}


def _notification(db: Any, user: User, *, read_days_ago: float | None) -> uuid.UUID:
    notification_id = uuid.uuid4()
    db.execute("INSERT INTO notifications (notification_id, user_id, event_id, type, message, created_at,"
               " read_at) VALUES (%s, %s, %s, 'file.ready', 'm', now() - interval '2000 days',"
               f" {AGO})",
               (notification_id, user.user_id, uuid.uuid4(), read_days_ago, read_days_ago))
    return notification_id


def test_published_outbox_rows_past_retention_are_pruned_and_nothing_else(
        db: Any, override_settings: Any) -> None:
    override_settings(OUTBOX_RETENTION_DAYS="7")
    old = [_outbox(db, published_days_ago=1900 + i) for i in range(3)]
    recent = _outbox(db, published_days_ago=1)
    unpublished = _outbox(db, published_days_ago=None)  # owed to Kafka: never pruned, however old
    result = housekeeping.run()
    assert result.outbox_pruned >= 3
    assert _outbox_left(db, [*old, recent, unpublished]) == {recent, unpublished}
    db.execute("DELETE FROM outbox WHERE event_id = ANY(%s)", ([recent, unpublished],))


def test_outbox_pruning_is_bounded_and_oldest_first(db: Any) -> None:
    ids = [_outbox(db, published_days_ago=5000 - i) for i in range(5)]  # ids[0] is the oldest
    with transaction() as conn:
        assert sql.prune_published_outbox(conn, 7, 2) == 2
    assert _outbox_left(db, ids) == set(ids[2:])
    # a run that is out of time after one batch stops there
    calls = iter([True, False, False, False, False])
    housekeeping.run(has_time=lambda: next(calls, False), batch=2)
    assert _outbox_left(db, ids) == {ids[4]}
    housekeeping.run(batch=2)
    assert _outbox_left(db, ids) == set()


def test_read_notifications_past_retention_are_pruned_unread_ones_stay(
        db: Any, alice: User, override_settings: Any) -> None:
    override_settings(NOTIFICATION_RETENTION_DAYS="30")
    db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, 1)",
               (alice.user_id, alice.email))
    old_read = [_notification(db, alice, read_days_ago=1900 + i) for i in range(3)]
    recent_read = _notification(db, alice, read_days_ago=2)
    unread = _notification(db, alice, read_days_ago=None)
    result = housekeeping.run(batch=2)  # several batches of two
    assert result.notifications_pruned >= 3
    rows = db.execute("SELECT notification_id FROM notifications WHERE user_id = %s",
                      (alice.user_id,)).fetchall()
    assert {r["notification_id"] for r in rows} == {recent_read, unread}
    assert not set(old_read) & {r["notification_id"] for r in rows}
