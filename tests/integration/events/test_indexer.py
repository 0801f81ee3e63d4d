"""The indexer (functions/indexer) against the real OpenSearch, PostgreSQL and the files API.

Changes are made through the API or the domain (so the events are the ones the code really
writes to the outbox); each event is then handed to the indexer as an MSK-shaped record.

Other writers may also fix the document synchronously (sharing rewrites ``readers``, restore
rewrites the document). So that each test proves what *the indexer* does, the document is first
put back into the stale state it would have without that writer, then the indexer runs.
"""

from __future__ import annotations

import time
import uuid
from types import ModuleType
from typing import Any

import pytest

from fileshare.config import settings
from fileshare.event_types import Event, EventType
from lambdarun.events import KafkaRecord, msk_event
from tests.integration.conftest import Api, User, _load_handler
from tests.support.apigw import FakeContext

TOPIC = "fileshare.events"


@pytest.fixture(scope="module")
def indexer() -> ModuleType:
    return _load_handler("indexer")


def run_indexer(module: ModuleType, *values: bytes) -> list[dict[str, Any]]:
    records = [KafkaRecord(TOPIC, 0, i, int(time.time() * 1000), 0, None, v) for i, v in enumerate(values)]
    event = msk_event(records, cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/t/1",
                      bootstrap="127.0.0.1:9092")
    result = module.lambda_handler(event, FakeContext(function_name="indexer"))
    return list(result.get("batchItemFailures", []))


def last_event(db: Any, file_id: str, kind: str) -> bytes:
    """The newest outbox event of this type for the file, as its Kafka record value."""
    row = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s AND type = %s ORDER BY seq DESC"
                     " LIMIT 1", (file_id, kind)).fetchone()
    assert row is not None, f"no {kind} event in the outbox for {file_id}"
    return Event.model_validate(row["payload"]).to_json()


def document(opensearch: Any, file_id: str) -> dict[str, Any] | None:
    from opensearchpy.exceptions import NotFoundError

    try:
        return dict(opensearch.get(index=settings().search_alias, id=file_id)["_source"])
    except NotFoundError:
        return None


def put_document(opensearch: Any, db: Any, file_id: str, **overrides: Any) -> None:
    """Write the document as of the row now, with ``overrides`` (a stale state)."""
    from fileshare.search.index import search_document

    row = db.execute("SELECT * FROM files WHERE file_id = %s", (file_id,)).fetchone()
    body = {**search_document(row, [row["owner_id"]]), **overrides}
    opensearch.index(index=settings().search_alias, id=file_id, body=body, refresh=True)


def index_hits(opensearch: Any, user: User, q: str | None = None) -> list[str]:
    """What the index itself answers for ``user`` (the search API's query, without its PostgreSQL
    re-check), so the index's own state is what is asserted."""
    from fileshare.search.query import SearchQuery, build_query

    opensearch.indices.refresh(index=settings().search_alias)
    body = build_query(user.user_id, SearchQuery(q=q))
    result = opensearch.search(index=settings().search_alias, body=body)
    return [h["_source"]["file_id"] for h in result["hits"]["hits"]]


@pytest.fixture
def ready_file(files_api: Api, db: Any, opensearch: Any) -> str:
    """A ready, indexed file of alice's named "Budget draft.xlsx"."""
    reply = files_api("POST", "/files", body={"name": "Budget draft.xlsx", "size": 10,
                                              "content_type": "application/octet-stream", "tags": ["money"]})
    assert reply.status == 201, reply.body
    file_id = str(reply.body["file_id"])
    db.execute("UPDATE files SET status = 'ready', checksum_sha256 = 'x' WHERE file_id = %s", (file_id,))
    put_document(opensearch, db, file_id)
    return file_id


def test_a_rename_through_the_api_becomes_searchable(
        indexer: ModuleType, search_module: ModuleType, files_api: Api, ready_file: str, alice: User,
        db: Any, opensearch: Any) -> None:
    # Given alice renames and retags her file through the API
    reply = files_api("PATCH", f"/files/{ready_file}", body={"name": "Forecast 2027.xlsx", "tags": ["plan"]})
    assert reply.status == 200, reply.body
    put_document(opensearch, db, ready_file, name="Budget draft.xlsx", tags=["money"])  # as if unsynced
    search = Api(search_module, alice.claims)
    assert search("GET", "/search", query={"q": "forecast"}).body["items"] == []

    # When the indexer gets the file.updated event
    assert run_indexer(indexer, last_event(db, ready_file, "file.updated")) == []

    # Then search finds the new name (and tag), and the old name no longer
    opensearch.indices.refresh(index=settings().search_alias)
    found = search("GET", "/search", query={"q": "forecast"})
    assert [i["file_id"] for i in found.body["items"]] == [ready_file]
    tagged = search("GET", "/search", query={"tag": "plan"})
    assert [i["file_id"] for i in tagged.body["items"]] == [ready_file]
    assert search("GET", "/search", query={"q": "budget"}).body["items"] == []


def test_trash_leaves_the_index_results_and_restore_brings_the_file_back(
        indexer: ModuleType, files_api: Api, ready_file: str, alice: User, db: Any, opensearch: Any) -> None:
    from fileshare import trash

    # When alice trashes the file and the indexer gets file.trashed (the document still says ready)
    assert files_api("DELETE", f"/files/{ready_file}").status == 204
    put_document(opensearch, db, ready_file, status="ready")
    assert ready_file in index_hits(opensearch, alice, "budget")
    assert run_indexer(indexer, last_event(db, ready_file, "file.trashed")) == []

    # Then the index no longer returns it (the document is kept, marked trashed, for a restore)
    assert ready_file not in index_hits(opensearch, alice, "budget")
    assert (document(opensearch, ready_file) or {}).get("status") == "trashed"

    # When she restores it and the indexer gets file.restored (the document still says trashed)
    trash.restore_file(alice.user_id, uuid.UUID(ready_file))
    put_document(opensearch, db, ready_file, status="trashed")
    assert run_indexer(indexer, last_event(db, ready_file, "file.restored")) == []

    # Then it is back
    assert ready_file in index_hits(opensearch, alice, "budget")
    assert (document(opensearch, ready_file) or {}).get("status") == "ready"


def test_share_and_revoke_rewrite_the_readers(
        indexer: ModuleType, ready_file: str, alice: User, bob: User, db: Any, opensearch: Any) -> None:
    from fileshare import sharing
    from fileshare.models import ShareIn

    db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s)",
               (bob.user_id, bob.email, 10**9))
    share = sharing.share_file(alice.user_id, uuid.UUID(ready_file), ShareIn(email=bob.email))
    put_document(opensearch, db, ready_file, readers=[alice.user_id])  # as if sharing's own sync failed
    assert ready_file not in index_hits(opensearch, bob, "budget")

    assert run_indexer(indexer, last_event(db, ready_file, "share.created")) == []
    assert ready_file in index_hits(opensearch, bob, "budget")
    assert (document(opensearch, ready_file) or {})["readers"] == [alice.user_id, bob.user_id]

    sharing.revoke_share(alice.user_id, uuid.UUID(ready_file), share.share_id)
    put_document(opensearch, db, ready_file, readers=[alice.user_id, bob.user_id])
    assert run_indexer(indexer, last_event(db, ready_file, "share.revoked")) == []
    assert ready_file not in index_hits(opensearch, bob, "budget")
    assert ready_file in index_hits(opensearch, alice, "budget")


def test_a_stale_event_writes_the_current_state(
        indexer: ModuleType, files_api: Api, ready_file: str, alice: User, db: Any, opensearch: Any) -> None:
    # Given a first rename's event, and a second rename made since (its event not yet processed)
    assert files_api("PATCH", f"/files/{ready_file}", body={"name": "First name.xlsx"}).status == 200
    first = last_event(db, ready_file, "file.updated")
    assert files_api("PATCH", f"/files/{ready_file}", body={"name": "Second name.xlsx"}).status == 200

    # When the older event arrives (late, or redelivered) and again
    assert run_indexer(indexer, first, first) == []

    # Then the document says what PostgreSQL says now, not what the event said
    assert (document(opensearch, ready_file) or {})["name"] == "Second name.xlsx"


def test_a_file_that_is_gone_loses_its_document(
        indexer: ModuleType, ready_file: str, alice: User, db: Any, opensearch: Any) -> None:
    db.execute("DELETE FROM files WHERE file_id = %s", (ready_file,))
    gone = Event(type=EventType.FILE_DELETED, file_id=uuid.UUID(ready_file), owner_id=alice.user_id,
                 data={"name": "Budget draft.xlsx", "reason": "purged"})
    assert run_indexer(indexer, gone.to_json(), gone.to_json()) == []
    assert document(opensearch, ready_file) is None


def test_a_pending_file_gets_no_document_and_other_events_are_acknowledged(
        indexer: ModuleType, files_api: Api, alice: User, db: Any, opensearch: Any) -> None:
    reply = files_api("POST", "/files", body={"name": "later.txt", "size": 10, "content_type": "text/plain"})
    file_id = str(reply.body["file_id"])
    assert files_api("PATCH", f"/files/{file_id}", body={"name": "later2.txt"}).status == 200
    ready = Event(type=EventType.FILE_READY, file_id=uuid.UUID(file_id), owner_id=alice.user_id)
    failures = run_indexer(indexer, last_event(db, file_id, "file.updated"), ready.to_json(),
                           b'{"type": "calendar.created"}', b"garbage")
    assert failures == [{"itemIdentifier": {"partition": f"{TOPIC}-0", "offset": 3}}]  # only the garbage
    assert document(opensearch, file_id) is None  # the processor creates it once the file is verified
