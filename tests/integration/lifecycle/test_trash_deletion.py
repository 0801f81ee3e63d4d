"""Trash, restore and purge through the API, and the deletion consumer (functions/deleter), against
the real PostgreSQL, Redis, LocalStack S3, OpenSearch and Kafka.

Files are made ready by the real processor (``processing.process_object`` on the uploaded object),
so each has its original under ``u/``, a thumbnail under ``t/`` and a search document. The deleter
is invoked with MSK-shaped events built (with the local runtime's ``msk_event``) from the outbox
rows the API wrote, and once end to end through Kafka with the local runtime's MSK poller.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from fileshare.adapters.cache import file_key
from fileshare.adapters.storage import thumbnail_key
from fileshare.config import settings
from fileshare.event_types import Event, EventType
from tests.integration.conftest import Api, User
from tests.integration.lifecycle.conftest import (
    KAFKA,
    add_link,
    deletion_payload,
    msk_event_for,
    objects_of,
    outbox_events,
    ready_image,
    refresh_search,
    run_deleter,
    search_doc,
    share_with,
    status_of,
)

pytestmark = pytest.mark.usefixtures("isolated_stack")


# ---- trash, restore, purge --------------------------------------------------------------------

def test_trash_restore_purge_lifecycle(files_api: Api, trash_api: Api, search_module: Any, files_module: Any,
                                       deleter: Any, alice: User, bob: User, db: Any, s3: Any,
                                       redis_client: Any) -> None:
    # Given a ready image (original + thumbnail + search document), shared with bob
    file_id = ready_image(files_api, db)
    share_with(db, file_id, bob)
    add_link(db, file_id)
    keys = objects_of(s3, alice.user_id, file_id)
    assert len(keys) == 2 and any(k.startswith("t/") for k in keys)
    assert search_doc(file_id) is not None
    as_bob = Api(files_module, bob.claims)
    assert as_bob("GET", f"/files/{file_id}").status == 200
    search = Api(search_module, alice.claims)

    # When alice trashes it: gone from her list, from search, and from bob's view; in her trash
    assert files_api("DELETE", f"/files/{file_id}").status == 204
    assert file_id not in [i["file_id"] for i in files_api("GET", "/files").body["items"]]
    refresh_search()
    found = search("GET", "/search", query={"q": "holiday"}).body["items"]
    assert file_id not in [i["file_id"] for i in found]
    assert as_bob("GET", f"/files/{file_id}").status == 404
    listed = trash_api("GET", "/trash")
    assert listed.status == 200, listed.body
    [item] = [i for i in listed.body["items"] if i["file_id"] == file_id]
    assert item["status"] == "trashed" and item["name"] == "holiday photo.png"
    assert item["purge_at"] > item["trashed_at"]

    # (the indexer marks the document trashed on file.trashed; run its step here, as it would)
    from fileshare.search.index import sync_file

    sync_file(uuid.UUID(file_id))
    assert search_doc(file_id)["status"] == "trashed"  # type: ignore[index]

    # When she restores it: ready again, out of the trash, searchable again, visible to bob again
    files_api("GET", f"/files/{file_id}")  # cache the trashed record: the restore must drop it
    restored = trash_api("POST", f"/files/{file_id}/restore")
    assert restored.status == 200 and restored.body["status"] == "ready", restored.body
    assert not redis_client.exists(file_key(file_id))
    assert files_api("GET", f"/files/{file_id}").body["status"] == "ready"
    assert trash_api("GET", "/trash").body["items"] == []
    refresh_search()
    assert search_doc(file_id)["status"] == "ready"  # type: ignore[index]
    assert file_id in [i["file_id"] for i in search("GET", "/search", query={"q": "holiday"}).body["items"]]
    assert as_bob("GET", f"/files/{file_id}").status == 200
    assert [e["type"] for e in outbox_events(db, file_id)][-2:] == ["file.trashed", "file.restored"]

    # When she trashes and purges it: deleting + file.deleted (with owner and name), gone from the API
    assert files_api("DELETE", f"/files/{file_id}").status == 204
    assert trash_api("DELETE", f"/trash/{file_id}").status == 204
    row = db.execute("SELECT status FROM files WHERE file_id = %s", (file_id,)).fetchone()
    assert row["status"] == "deleting"
    payload = deletion_payload(db, file_id)
    assert payload["owner_id"] == alice.user_id and payload["data"]["name"] == "holiday photo.png"
    assert payload["data"]["reason"] == "purged"
    assert files_api("GET", f"/files/{file_id}").status == 404
    assert trash_api("POST", f"/files/{file_id}/restore").status == 404
    assert trash_api("DELETE", f"/trash/{file_id}").status == 204  # a repeated purge changes nothing
    assert len([e for e in outbox_events(db, file_id) if e["type"] == "file.deleted"]) == 1

    # Then the deleter removes objects, document, cache entry, shares, links and the row
    result = run_deleter(deleter, msk_event_for(payload))
    assert result == {"batchItemFailures": []}
    assert objects_of(s3, alice.user_id, file_id) == []
    assert search_doc(file_id) is None
    assert not redis_client.exists(file_key(file_id))
    for table in ("files", "shares", "links"):
        assert db.execute(f"SELECT count(*) AS n FROM {table} WHERE file_id = %s",  # noqa: S608
                          (file_id,)).fetchone()["n"] == 0, table

    # And the same event again (at-least-once delivery) succeeds and changes nothing
    assert run_deleter(deleter, msk_event_for(payload)) == {"batchItemFailures": []}
    assert objects_of(s3, alice.user_id, file_id) == []


def test_a_purge_that_crashed_midway_completes_on_retry(files_api: Api, trash_api: Api, deleter: Any,
                                                       alice: User, bob: User, db: Any, s3: Any) -> None:
    # Given a purged file whose deletion already removed some pieces before crashing
    file_id = ready_image(files_api, db, name="half gone.png")
    share_with(db, file_id, bob)
    add_link(db, file_id)
    assert files_api("DELETE", f"/files/{file_id}").status == 204
    assert trash_api("DELETE", f"/trash/{file_id}").status == 204
    payload = deletion_payload(db, file_id)
    original = payload["data"]["s3_key"]
    s3.delete_object(Bucket=settings().upload_bucket, Key=original)  # the original went first...
    from fileshare.search.index import client

    client().delete(index=settings().search_alias, id=file_id)  # ...and the search document
    assert objects_of(s3, alice.user_id, file_id) == [thumbnail_key(alice.user_id, uuid.UUID(file_id))]

    # When the event is redelivered
    assert run_deleter(deleter, msk_event_for(payload)) == {"batchItemFailures": []}

    # Then what was left is removed too, and the row last
    assert objects_of(s3, alice.user_id, file_id) == []
    assert search_doc(file_id) is None
    assert db.execute("SELECT count(*) AS n FROM files WHERE file_id = %s", (file_id,)).fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM shares WHERE file_id = %s", (file_id,)).fetchone()["n"] == 0


def test_a_deletion_event_for_a_file_not_being_deleted_is_ignored(files_api: Api, deleter: Any, alice: User,
                                                                  db: Any, s3: Any) -> None:
    # Given a ready file and a (stale or forged) file.deleted event naming it
    file_id = ready_image(files_api, db, name="keep me.png")
    row = db.execute("SELECT * FROM files WHERE file_id = %s", (file_id,)).fetchone()
    stale = Event(type=EventType.FILE_DELETED, file_id=row["file_id"], owner_id=alice.user_id,
                         data={"name": row["name"], "s3_key": row["s3_key"], "reason": "purged"})

    # When the deleter receives it, together with an event of another type
    other = Event(type=EventType.FILE_UPDATED, file_id=row["file_id"], owner_id=alice.user_id)
    result = run_deleter(deleter, msk_event_for(json.loads(stale.to_json()), json.loads(other.to_json())))

    # Then nothing is deleted
    assert result == {"batchItemFailures": []}
    assert len(objects_of(s3, alice.user_id, file_id)) == 2
    assert search_doc(file_id) is not None
    assert files_api("GET", f"/files/{file_id}").body["status"] == "ready"


def test_a_malformed_record_fails_alone(files_api: Api, trash_api: Api, deleter: Any, db: Any) -> None:
    # Given a batch with one record that is not an event envelope and one real purge
    file_id = ready_image(files_api, db, name="batch.png")
    files_api("DELETE", f"/files/{file_id}")
    trash_api("DELETE", f"/trash/{file_id}")
    event = msk_event_for({"file_id": str(uuid.uuid4()), "type": 7}, deletion_payload(db, file_id))

    # Then only the malformed record is reported for retry (by partition and offset), the purge is done
    result = run_deleter(deleter, event)
    failed = {"itemIdentifier": {"partition": "fileshare.events-0", "offset": 0}}
    assert result == {"batchItemFailures": [failed]}
    assert db.execute("SELECT count(*) AS n FROM files WHERE file_id = %s", (file_id,)).fetchone()["n"] == 0


def test_trash_routes_are_owner_only(files_api: Api, trash_module: Any, files_module: Any, alice: User,
                                     bob: User, db: Any) -> None:
    file_id = ready_image(files_api, db, name="private.png")
    share_with(db, file_id, bob)  # even a viewer of the file
    assert files_api("DELETE", f"/files/{file_id}").status == 204
    theirs = Api(trash_module, bob.claims)
    for method, path in (("POST", f"/files/{file_id}/restore"), ("DELETE", f"/trash/{file_id}"),
                         ("POST", f"/files/{uuid.uuid4()}/restore"), ("DELETE", f"/trash/{uuid.uuid4()}")):
        reply = theirs(method, path)
        assert reply.status == 404 and reply.error_code == "file_not_found", (method, path, reply.body)
    assert theirs("GET", "/trash").body["items"] == []
    assert status_of(db, file_id) == "trashed"

    # A viewer of a file that is not in the trash can see it, so is told it is the owner's to do
    assert Api(trash_module, alice.claims)("POST", f"/files/{file_id}/restore").status == 200
    for method, path in (("POST", f"/files/{file_id}/restore"), ("DELETE", f"/trash/{file_id}")):
        reply = theirs(method, path)
        assert reply.status == 403 and reply.error_code == "owner_only", (method, path, reply.body)
    anonymous = Api(trash_module)
    assert anonymous("GET", "/trash").status == 401


def test_restore_and_purge_need_a_trashed_file_and_restore_ends_with_retention(
        files_api: Api, trash_api: Api, db: Any) -> None:
    file_id = ready_image(files_api, db, name="rules.png")
    not_trashed = trash_api("POST", f"/files/{file_id}/restore")
    assert not_trashed.status == 409 and not_trashed.error_code == "file_not_trashed"
    purge = trash_api("DELETE", f"/trash/{file_id}")
    assert purge.status == 409 and purge.error_code == "file_not_trashed"

    assert files_api("DELETE", f"/files/{file_id}").status == 204
    days = settings().trash_retention_days
    db.execute("UPDATE files SET trashed_at = now() - make_interval(days => %s, secs => 1)"
               " WHERE file_id = %s", (days, file_id))
    expired = trash_api("POST", f"/files/{file_id}/restore")
    assert expired.status == 410 and expired.error_code == "trash_expired"
    assert status_of(db, file_id) == "trashed"


def test_restore_returns_a_file_to_the_status_it_had(files_api: Api, trash_api: Api, db: Any) -> None:
    pending = files_api("POST", "/files", body={"name": "p.txt", "size": 5, "content_type": "text/plain"})
    file_id = pending.body["file_id"]
    files_api("DELETE", f"/files/{file_id}")
    reply = trash_api("POST", f"/files/{file_id}/restore")
    assert reply.status == 200 and reply.body["status"] == "pending"
    row = db.execute("SELECT status_before_trash, trashed_at FROM files WHERE file_id = %s",
                     (file_id,)).fetchone()
    assert row == {"status_before_trash": None, "trashed_at": None}


def test_trash_pages_most_recently_trashed_first(files_api: Api, trash_api: Api, db: Any) -> None:
    ids = [files_api("POST", "/files", body={"name": f"t{i}.txt", "size": 5, "content_type": "text/plain"}
                     ).body["file_id"] for i in range(3)]
    for offset, file_id in enumerate(ids):  # distinct, known trash times: t0 oldest
        files_api("DELETE", f"/files/{file_id}")
        db.execute("UPDATE files SET trashed_at = now() - make_interval(mins => %s) WHERE file_id = %s",
                   (10 - offset, file_id))
    first = trash_api("GET", "/trash", query={"limit": "2"})
    assert [i["file_id"] for i in first.body["items"]] == [ids[2], ids[1]] and first.body["next_cursor"]
    second = trash_api("GET", "/trash", query={"limit": "2", "cursor": first.body["next_cursor"]})
    assert [i["file_id"] for i in second.body["items"]] == [ids[0]] and second.body["next_cursor"] is None
    bad = trash_api("GET", "/trash", query={"cursor": "bm90LWEtY3Vyc29y"})
    assert bad.status == 422 and bad.error_code == "invalid_cursor"


# ---- end to end through Kafka ------------------------------------------------------------------

@pytest.mark.skipif(not KAFKA, reason="Kafka is not in the environment")
def test_purge_through_kafka_and_the_msk_poller(files_api: Api, trash_api: Api, deleter: Any, alice: User,
                                                db: Any, s3: Any) -> None:
    from infra.declaration import KafkaTrigger, by_name
    from lambdarun.pool import Invocation
    from lambdarun.sources.kafka import KafkaPoller

    # Given a purged file whose file.deleted the API published to Kafka after the commit
    file_id = ready_image(files_api, db, name="via kafka.png")
    files_api("DELETE", f"/files/{file_id}")
    trash_api("DELETE", f"/trash/{file_id}")
    published = db.execute("SELECT published_at FROM outbox WHERE aggregate_id = %s"
                           " AND type = 'file.deleted'", (file_id,)).fetchone()
    assert published["published_at"] is not None

    # When the local MSK poller (the deleter's declared trigger, on this topic) feeds the deleter
    declared = next(t for t in by_name("deleter").triggers if isinstance(t, KafkaTrigger))
    group = f"{declared.consumer_group}-{uuid.uuid4().hex[:6]}"
    trigger = KafkaTrigger(topic=settings().events_topic, consumer_group=group,
                           batch_size=declared.batch_size)

    def invoke(function: str, event: dict[str, Any]) -> Invocation:
        return Invocation(function, str(uuid.uuid4()), ok=True, result=run_deleter(deleter, event))

    poller = KafkaPoller(invoke, "deleter", trigger, bootstrap=KAFKA, aws_region="us-east-1")
    deadline = time.monotonic() + 45  # a limit on polling, not a timing assertion
    try:
        poller.connect()
        while time.monotonic() < deadline and db.execute(
                "SELECT 1 FROM files WHERE file_id = %s", (file_id,)).fetchone() is not None:
            poller.poll_once(timeout_ms=500)
    finally:
        poller.close()

    # Then the file is gone everywhere
    assert db.execute("SELECT 1 FROM files WHERE file_id = %s", (file_id,)).fetchone() is None
    assert objects_of(s3, alice.user_id, file_id) == []
    assert search_doc(file_id) is None
