"""Fixtures and helpers of the file lifecycle tests (trash, restore, purge, the deleter, the
sweeper's expiry and housekeeping): ready images made by the real processor, MSK-shaped deletion
events from the outbox, and ``isolated_stack``, a module's own bucket and events topic, which the
trash and sweeper modules opt into with ``pytestmark``.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from fileshare.adapters import kafka as kafka_adapter
from fileshare.adapters.storage import thumbnail_key
from fileshare.config import settings
from fileshare.processing import Outcome, S3Object, process_object
from tests.integration.conftest import Api, User, _load_handler
from tests.support.apigw import FakeContext

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")


# ---- helpers ----------------------------------------------------------------------------------

def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


def ready_image(api: Api, db: Any, name: str = "holiday photo.png") -> str:
    """Upload through the presigned POST and run the real processor: original, thumbnail, document."""
    data = png_bytes()
    created = api("POST", "/files", body={"name": name, "size": len(data), "content_type": "image/png"})
    assert created.status == 201, created.body
    upload, file_id = created.body["upload"], created.body["file_id"]
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("b", data, "image/png")},
                         timeout=30)
    assert sent.status_code == 204
    key = upload["fields"]["key"]
    outcome = process_object(S3Object(bucket=settings().upload_bucket, key=key))
    assert outcome in (Outcome.READY, Outcome.ALREADY_DONE)  # ALREADY_DONE: a running dev stack was first
    assert status_of(db, file_id) == "ready"
    return str(file_id)


def status_of(db: Any, file_id: str) -> str | None:
    row = db.execute("SELECT status FROM files WHERE file_id = %s", (file_id,)).fetchone()
    return row["status"] if row else None


def objects_of(s3: Any, owner_id: str, file_id: str) -> list[str]:
    """Every object of the file: under its upload prefix, and its thumbnail."""
    bucket = settings().upload_bucket
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"u/{owner_id}/{file_id}/").get("Contents", [])
    thumbs = s3.list_objects_v2(Bucket=bucket, Prefix=thumbnail_key(owner_id, uuid.UUID(file_id))).get(
        "Contents", [])
    return sorted(o["Key"] for o in listed + thumbs)


def search_doc(file_id: str) -> dict[str, Any] | None:
    from opensearchpy.exceptions import NotFoundError

    from fileshare.search.index import client

    try:
        return dict(client().get(index=settings().search_alias, id=file_id)["_source"])
    except NotFoundError:
        return None


def refresh_search() -> None:
    from fileshare.search.index import client

    client().indices.refresh(index=settings().search_alias)


def outbox_events(db: Any, file_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(
        "SELECT seq, type, payload FROM outbox WHERE aggregate_id = %s ORDER BY seq", (file_id,))]


def msk_event_for(*payloads: dict[str, Any], topic: str = "fileshare.events") -> dict[str, Any]:
    """An MSK event (as Lambda's event source mapping delivers it) carrying these outbox payloads."""
    from lambdarun.events import KafkaRecord, msk_event

    records = [KafkaRecord(topic, 0, offset, int(time.time() * 1000), 0, str(p["file_id"]).encode(),
                           json.dumps(p).encode(), (("event-type", str(p["type"]).encode()),))
               for offset, p in enumerate(payloads)]
    return msk_event(records, cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/test/x",
                     bootstrap=KAFKA or "127.0.0.1:9092")


def deletion_payload(db: Any, file_id: str) -> dict[str, Any]:
    rows = [e for e in outbox_events(db, file_id) if e["type"] in ("file.deleted", "file.expired")]
    assert len(rows) == 1, rows
    payload: dict[str, Any] = rows[0]["payload"]
    return payload


def share_with(db: Any, file_id: str, grantee: User) -> None:
    db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, 1000) ON CONFLICT DO NOTHING",
               (grantee.user_id, grantee.email))
    db.execute("INSERT INTO shares (share_id, file_id, grantee_id, permission) VALUES (%s, %s, %s, 'viewer')",
               (uuid.uuid4(), file_id, grantee.user_id))


def add_link(db: Any, file_id: str) -> None:
    db.execute("INSERT INTO links (link_id, file_id, token_hash) VALUES (%s, %s, %s)",
               (uuid.uuid4(), file_id, uuid.uuid4().hex))


TEST_BUCKET = "fileshare-trash-tests"


@pytest.fixture(scope="module")
def isolated_stack() -> Iterator[None]:
    """The module's own bucket (no S3 notifications) and events topic (``pytestmark`` opts in).

    A running dev stack's processor, indexer and deleter consume the real upload queue and events
    topic; with their own bucket and topic these tests' files and events are theirs alone, so
    every step below is done by the code under test, never by a background consumer.
    """
    from kafka.admin import KafkaAdminClient, NewTopic

    from fileshare.adapters.aws import client

    s3 = client("s3")
    try:
        s3.head_bucket(Bucket=TEST_BUCKET)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=TEST_BUCKET)
    topic = f"fileshare.events.test-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=KAFKA.split(",")) if KAFKA else None
    if admin is not None:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UPLOAD_BUCKET", TEST_BUCKET)
        mp.setenv("EVENTS_TOPIC", topic)
        settings.cache_clear()
        kafka_adapter.reset_producer()
        yield
    settings.cache_clear()
    kafka_adapter.reset_producer()
    if admin is not None:
        admin.delete_topics([topic])
        admin.close()


@pytest.fixture(scope="session")
def trash_module() -> Any:
    return _load_handler("trash")


@pytest.fixture(scope="session")
def deleter() -> Any:
    return _load_handler("deleter").lambda_handler


@pytest.fixture
def trash_api(trash_module: Any, alice: User) -> Api:
    return Api(trash_module, alice.claims)


def run_deleter(deleter: Any, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = deleter(event, FakeContext(function_name="deleter"))
    return result
