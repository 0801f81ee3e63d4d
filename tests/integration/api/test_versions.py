"""File versions (issue 14 part 3) against the real local services: the files handler, LocalStack
S3 (presigned POSTs, presigned GETs), the real processor handler on the S3 notification, the
deleter's purge, PostgreSQL.

Upload v1, upload v2 -> both listed, v2 current; v1's bytes download; v1 made current; v2 deleted
with its bytes; the quota counts every kept version (at the request and at the processor's
re-check); a rejected v2 leaves v1 current; a purge removes every version's bytes and thumbnails;
another user and a viewer get 404s (a viewer still downloads the current version).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import requests

from fileshare.config import settings
from tests.integration.conftest import Api, User, _load_handler
from tests.support.iam import without_grant
from tests.support.pipeline import (
    failed_ids,
    invoke,
    reset_caches,
    s3_notification,
    sqs_event,
    temporary_topic,
)

V1 = b"the first version\n"
V2 = b"the second version, longer\n"
BUCKET = "fileshare-test-versions"  # no S3 notifications: only this test's processor runs


@pytest.fixture(scope="module")
def own_topic() -> Iterator[str]:
    import os

    with temporary_topic(os.environ["KAFKA_BOOTSTRAP_SERVERS"], "versions") as name:
        yield name


@pytest.fixture(autouse=True)
def own_bucket(monkeypatch: pytest.MonkeyPatch, own_topic: str) -> Iterator[None]:
    """A bucket of this module's own, without notifications, and a topic of its own: the processor
    and the deleter run exactly when a test invokes them. (On the shared bucket and topic, any
    running gateway's pollers may act first, and one built from code without versions would
    delete a version's bytes as an orphan, or purge a file without its versions.)"""
    from fileshare.adapters.aws import client

    monkeypatch.setenv("EVENTS_TOPIC", own_topic)

    try:
        client("s3").head_bucket(Bucket=BUCKET)
    except client("s3").exceptions.ClientError:
        client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("UPLOAD_BUCKET", BUCKET)
    reset_caches()
    yield
    monkeypatch.undo()
    reset_caches()


@pytest.fixture(scope="module")
def sharing_module() -> ModuleType:
    return _load_handler("sharing")


@pytest.fixture(scope="module")
def trash_module() -> ModuleType:
    return _load_handler("trash")


def _post(upload: dict[str, Any], data: bytes, content_type: str = "text/plain") -> None:
    posted = requests.post(upload["url"], data=upload["fields"],
                           files={"file": ("blob", data, content_type)}, timeout=30)
    assert posted.status_code == 204, posted.text


def _process(key: str, size: int) -> None:
    result = invoke("processor", sqs_event(s3_notification(settings().upload_bucket, key, size)))
    assert failed_ids(result) == []


def _png(color: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


def _ready_file(api: Api, name: str = "notes.txt", data: bytes = V1, content_type: str = "text/plain") -> str:
    reply = api("POST", "/files", body={"name": name, "size": len(data), "content_type": content_type})
    assert reply.status == 201, reply.body
    _post(reply.body["upload"], data, content_type)
    _process(reply.body["upload"]["fields"]["key"], len(data))
    file_id = str(reply.body["file_id"])
    assert api("GET", f"/files/{file_id}").body["status"] == "ready"
    return file_id


def _new_version(api: Api, file_id: str, data: bytes, *, name: str | None = None,
                 content_type: str = "text/plain", process: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"size": len(data), "content_type": content_type}
    if name is not None:
        body["name"] = name
    reply = api("POST", f"/files/{file_id}/versions", body=body)
    assert reply.status == 201, reply.body
    _post(reply.body["upload"], data, content_type)
    if process:
        _process(reply.body["upload"]["fields"]["key"], len(data))
    return dict(reply.body)


def _versions(api: Api, file_id: str) -> list[dict[str, Any]]:
    reply = api("GET", f"/files/{file_id}/versions")
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


def _download(api: Api, path: str) -> bytes:
    reply = api("GET", path)
    assert reply.status == 200, reply.body
    got = requests.get(reply.body["url"], timeout=30)
    assert got.status_code == 200, got.text
    return got.content


def _exists(s3: Any, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=settings().upload_bucket, Key=key)
        return True
    except ClientError:
        return False


def test_upload_list_download_make_current_and_delete(files_api: Api, alice: User, s3: Any, db: Any) -> None:
    # Given a ready file and a second version of it, processed like any upload
    file_id = _ready_file(files_api)
    v2 = _new_version(files_api, file_id, V2, name="notes v2.txt")
    v2_id, v2_key = str(v2["version_id"]), v2["upload"]["fields"]["key"]
    assert v2_key == f"u/{alice.user_id}/{file_id}/v/{v2_id}/notes v2.txt"

    # Then both are listed, newest first, v2 current; the file shows v2 (name, size, checksum)
    listed = _versions(files_api, file_id)
    assert [(v["version_id"], v["current"], v["status"]) for v in listed] == [
        (v2_id, True, "ready"), (file_id, False, "ready")]
    assert [v["size"] for v in listed] == [len(V2), len(V1)]
    assert listed[1]["checksum_sha256"] == hashlib.sha256(V1).hexdigest()
    file = files_api("GET", f"/files/{file_id}").body
    assert (file["name"], file["size"], file["checksum_sha256"]) == (
        "notes v2.txt", len(V2), hashlib.sha256(V2).hexdigest())
    assert _download(files_api, f"/files/{file_id}/download") == V2
    # and v1's bytes are still there, downloadable on their own
    assert _download(files_api, f"/files/{file_id}/versions/{file_id}/download") == V1
    # and the change went to the outbox as file.version_added (the activity feed's "version added")
    added = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s AND type = 'file.version_added'",
                       (file_id,)).fetchall()
    assert [a["payload"]["data"]["version_id"] for a in added] == [v2_id]
    # which the notifier turns into a notice in the owner's inbox
    assert _notified(alice, added[0]["payload"]) == (
        "A new version of “notes v2.txt” is ready and is now the current one.")

    # A duplicate S3 event for the kept v1 changes nothing (its bytes are not an orphan)
    _process(f"u/{alice.user_id}/{file_id}/notes.txt", len(V1))
    assert _exists(s3, f"u/{alice.user_id}/{file_id}/notes.txt")

    # When v1 is made current again
    reply = files_api("POST", f"/files/{file_id}/versions/{file_id}/current")
    assert reply.status == 200, reply.body
    assert [(v["version_id"], v["current"]) for v in reply.body["items"]] == [(v2_id, False), (file_id, True)]
    file = files_api("GET", f"/files/{file_id}").body
    assert (file["name"], file["size"]) == ("notes.txt", len(V1))
    assert _download(files_api, f"/files/{file_id}/download") == V1
    # making the current one current again changes nothing
    assert files_api("POST", f"/files/{file_id}/versions/{file_id}/current").status == 200

    # The current version cannot be deleted; another can, with its bytes
    refused = files_api("DELETE", f"/files/{file_id}/versions/{file_id}")
    assert (refused.status, refused.error_code) == (409, "version_is_current")
    assert files_api("DELETE", f"/files/{file_id}/versions/{v2_id}").status == 204
    assert not _exists(s3, v2_key)
    assert [v["version_id"] for v in _versions(files_api, file_id)] == [file_id]
    missing = files_api("DELETE", f"/files/{file_id}/versions/{v2_id}")
    assert (missing.status, missing.error_code) == (404, "version_not_found")
    gone = files_api("GET", f"/files/{file_id}/versions/{v2_id}/download")
    assert (gone.status, gone.error_code) == (404, "version_not_found")


def test_quota_counts_every_version_kept(files_api: Api, alice: User, db: Any) -> None:
    # Given a file with two versions and a quota of 3 version sizes
    data = b"q" * 100
    file_id = _ready_file(files_api, data=data)
    _new_version(files_api, file_id, data)
    db.execute("UPDATE users SET quota_bytes = 300 WHERE user_id = %s", (alice.user_id,))

    # Then /me counts both versions
    assert files_api("GET", "/me").body["used_bytes"] == 200

    # A third version fits; a pending one reserves its bytes, so a fourth is refused up front
    third = _new_version(files_api, file_id, data, process=False)
    refused = files_api("POST", f"/files/{file_id}/versions",
                        body={"size": 100, "content_type": "text/plain"})
    assert (refused.status, refused.error_code) == (413, "quota_exceeded")

    # And the processor re-checks: with the quota lowered meanwhile, the third is rejected, the
    # current version stays
    db.execute("UPDATE users SET quota_bytes = 250 WHERE user_id = %s", (alice.user_id,))
    _process(third["upload"]["fields"]["key"], 100)
    listed = _versions(files_api, file_id)
    rejected = next(v for v in listed if v["version_id"] == str(third["version_id"]))
    assert (rejected["status"], rejected["reject_reason"], rejected["current"]) == (
        "rejected", "quota_exceeded", False)
    assert files_api("GET", "/me").body["used_bytes"] == 200


def _notified(user: User, payload: dict[str, Any]) -> str:
    """Deliver one outbox event as the notifier does (idempotent: twice) and return the newest
    message in ``user``'s inbox about it."""
    from fileshare.event_types import Event
    from fileshare.notifications import notices as notifications

    event = Event.model_validate(payload)
    assert notifications.deliver(event) is notifications.Outcome.DELIVERED
    assert notifications.deliver(event) is notifications.Outcome.DUPLICATE
    inbox = notifications.list_notifications(user.user_id, unread_only=True, limit=50, after=None).items
    return next(n.message for n in inbox if n.file_id == event.file_id and n.type == event.type.value)


def test_a_rejected_version_leaves_the_current_one(files_api: Api, alice: User, s3: Any, db: Any) -> None:
    # Given a ready file, and a "PNG" version whose bytes are text
    file_id = _ready_file(files_api)
    bad = _new_version(files_api, file_id, b"not a picture at all", content_type="image/png")

    # Then the version is rejected, its bytes deleted, and the file still shows v1
    listed = _versions(files_api, file_id)
    assert listed[0]["version_id"] == str(bad["version_id"])
    assert (listed[0]["status"], listed[0]["current"]) == ("rejected", False)
    assert listed[0]["reject_reason"]
    assert [v["version_id"] for v in listed if v["current"]] == [file_id]
    assert not _exists(s3, bad["upload"]["fields"]["key"])
    file = files_api("GET", f"/files/{file_id}").body
    assert (file["status"], file["size"]) == ("ready", len(V1))
    assert _download(files_api, f"/files/{file_id}/download") == V1
    # and a rejected version is not downloadable and cannot be made current
    for method, suffix in (("GET", "/download"), ("POST", "/current")):
        reply = files_api(method, f"/files/{file_id}/versions/{bad['version_id']}{suffix}")
        assert (reply.status, reply.error_code) == (409, "version_not_ready")
    # and the owner is told: one file.version_rejected with the reason, and a notice (the feed's
    # version_rejected entry is test_activity_rules')
    told = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s AND type = 'file.version_rejected'",
                      (file_id,)).fetchall()
    assert [t["payload"]["data"]["version_id"] for t in told] == [str(bad["version_id"])]
    reason = told[0]["payload"]["data"]["reason"]
    assert reason == listed[0]["reject_reason"]
    assert _notified(alice, told[0]["payload"]).startswith("Your new version “notes.txt” was rejected: ")


def test_purge_removes_every_version_and_thumbnail(files_api: Api, alice: User, s3: Any,
                                                    trash_module: ModuleType) -> None:
    # Given an image file with two more versions, each thumbnailed
    file_id = _ready_file(files_api, "pic.png", _png("red"), "image/png")
    _new_version(files_api, file_id, _png("green"), content_type="image/png")
    _new_version(files_api, file_id, _png("blue"), content_type="image/png")
    bucket = settings().upload_bucket

    def keys() -> list[str]:
        found = []
        for prefix in (f"u/{alice.user_id}/{file_id}", f"t/{alice.user_id}/{file_id}"):
            found += [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
        return found

    assert len([k for k in keys() if k.startswith("u/")]) == 3
    assert len([k for k in keys() if k.startswith("t/")]) == 3  # one thumbnail per version

    # When it is trashed, then purged and the deleter runs (twice: a redelivered event)
    trash = Api(trash_module, alice.claims)
    assert files_api("DELETE", f"/files/{file_id}").status == 204
    assert trash("DELETE", f"/trash/{file_id}").status == 204
    from fileshare import deletion

    assert deletion.purge(uuid.UUID(file_id), alice.user_id) is deletion.Outcome.PURGED
    assert deletion.purge(uuid.UUID(file_id), alice.user_id) is deletion.Outcome.ALREADY_GONE

    # Then no byte of any version is left
    assert keys() == []


def test_versions_are_the_owners_alone(files_module: ModuleType, sharing_module: ModuleType, alice: User,
                                       bob: User, new_user: Any) -> None:
    viewer_user = new_user()
    owner, other, viewer = (Api(files_module, u.claims) for u in (alice, bob, viewer_user))
    assert viewer("GET", "/me").status == 200
    file_id = _ready_file(owner)
    v2 = str(_new_version(owner, file_id, V2)["version_id"])
    share = Api(sharing_module, alice.claims)("POST", f"/files/{file_id}/shares",
                                               body={"email": viewer_user.email, "permission": "viewer"})
    assert share.status == 201, share.body

    calls = [("POST", f"/files/{file_id}/versions", {"size": 5, "content_type": "text/plain"}),
             ("GET", f"/files/{file_id}/versions", None),
             ("GET", f"/files/{file_id}/versions/{file_id}/download", None),
             ("POST", f"/files/{file_id}/versions/{file_id}/current", None),
             ("DELETE", f"/files/{file_id}/versions/{file_id}", None)]
    for api in (other, viewer):
        for method, path, body in calls:
            reply = api(method, path, body=body)
            assert (reply.status, reply.error_code) == (404, "file_not_found"), (method, path, reply.body)
    # the viewer reads and downloads the current version, as before
    assert viewer("GET", f"/files/{file_id}").body["size"] == len(V2)
    assert _download(viewer, f"/files/{file_id}/download") == V2
    # and nothing changed for the owner
    assert [v["version_id"] for v in _versions(owner, file_id)] == [v2, file_id]
    # anonymous: the handler refuses without claims (the gateway's 401 is the access matrix's)
    assert Api(files_module, None)("GET", f"/files/{file_id}/versions").status == 401


def test_a_version_needs_a_ready_file(files_api: Api, trash_module: ModuleType) -> None:
    file_id = _ready_file(files_api)
    assert files_api("DELETE", f"/files/{file_id}").status == 204
    reply = files_api("POST", f"/files/{file_id}/versions", body={"size": 5, "content_type": "text/plain"})
    assert (reply.status, reply.error_code) == (409, "file_not_ready")
    # the trashed file's versions are still listed for its owner
    assert [v["version_id"] for v in _versions(files_api, file_id)] == [file_id]


def test_the_feed_and_the_search_document_follow_the_current_version(files_api: Api, alice: User, db: Any,
                                                                     opensearch: Any) -> None:
    from fileshare.activity import feed as activity
    from fileshare.event_types import Event
    from fileshare.search import index as search_index
    from tests.support.pipeline import search_doc

    activity_api = Api(_load_handler("activity"), alice.claims)
    # Given a ready file (the processor indexed it) and a second version under another name
    file_id = _ready_file(files_api, "report.txt")
    _new_version(files_api, file_id, V2, name="report v2.txt")

    # Then the processor rewrote the search document from the promoted row
    assert (search_doc(uuid.UUID(file_id)) or {}).get("name") == "report v2.txt"

    # When the first version is made current, and the indexer reads the file.updated it announced
    assert files_api("POST", f"/files/{file_id}/versions/{file_id}/current").status == 200
    payloads = [r["payload"] for r in db.execute(
        "SELECT payload FROM outbox WHERE aggregate_id = %s ORDER BY seq", (file_id,)).fetchall()]
    updated = next(p for p in payloads if p["type"] == "file.updated")
    assert search_index.handle(json.dumps(updated)) is search_index.Action.INDEXED
    assert (search_doc(uuid.UUID(file_id)) or {}).get("name") == "report.txt"

    # And the activity consumer turns the events into the feed's entries
    for payload in payloads:
        activity.record(Event.model_validate(payload))
    reply = activity_api("GET", f"/files/{file_id}/activity")
    assert reply.status == 200, reply.body
    actions = [i["action"] for i in reply.body["items"]]
    assert actions[:3] == ["version_made_current", "version_added", "uploaded"], actions
    added = reply.body["items"][1]["details"]
    assert set(added) == {"version_id", "size"} and added["size"] == len(V2)


def test_the_sweeper_gives_up_a_version_upload_that_never_arrived(files_api: Api, alice: User,
                                                                  db: Any) -> None:
    from fileshare import expiry

    # Given a version whose bytes never came, older than an upload may take
    file_id = _ready_file(files_api)
    version = _new_version(files_api, file_id, V2, process=False)
    db.execute("UPDATE file_versions SET created_at = now() - interval '2 days' WHERE version_id = %s",
               (version["version_id"],))
    reserved = files_api("POST", f"/files/{file_id}/versions",
                         body={"size": 1, "content_type": "text/plain"})
    assert reserved.status == 201

    # When the sweeper runs
    assert expiry.abandoned_versions_batch() >= 1

    # Then it is rejected (no longer reserving quota), its bytes gone, the current one untouched
    listed = {v["version_id"]: v for v in _versions(files_api, file_id)}
    gone = listed[str(version["version_id"])]
    assert (gone["status"], gone["reject_reason"]) == ("rejected", "upload_abandoned")
    told = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s AND type = 'file.version_rejected'",
                      (file_id,)).fetchall()
    assert [t["payload"]["data"] for t in told] == [
        {"version_id": str(version["version_id"]), "name": "notes.txt", "reason": "upload_abandoned"}]
    assert _notified(alice, told[0]["payload"]) == (
        "Your new version “notes.txt” was rejected: its bytes did not arrive in time."
        " The file keeps its current version.")
    assert listed[file_id]["current"] and listed[str(reserved.body["version_id"])]["status"] == "pending"
    from fileshare.db import versions as versions_db

    assert versions_db.usage(db, alice.user_id) == (0, 1)  # (kept, reserved): only the fresh one


def test_a_kept_version_written_again_is_rejected_and_a_deleted_pending_one_is_an_orphan(
        files_api: Api, alice: User, s3: Any) -> None:
    # Given v1 kept and v2 current, and v1's presigned POST still valid
    created = files_api("POST", "/files",
                        body={"name": "a.txt", "size": len(V1), "content_type": "text/plain"})
    first_upload = created.body["upload"]
    file_id = str(created.body["file_id"])
    _post(first_upload, V1)
    _process(first_upload["fields"]["key"], len(V1))
    v2 = _new_version(files_api, file_id, V2)

    # When the owner writes other bytes to v1's key, and its event arrives
    _post(first_upload, b"X" * len(V1))
    _process(first_upload["fields"]["key"], len(V1))

    # Then v1 is rejected (its bytes are not the verified ones), its object gone; v2 stays current
    listed = {v["version_id"]: v for v in _versions(files_api, file_id)}
    assert (listed[file_id]["status"], listed[file_id]["reject_reason"]) == ("rejected", "object_replaced")
    assert not _exists(s3, first_upload["fields"]["key"])
    assert listed[str(v2["version_id"])]["current"]
    assert _download(files_api, f"/files/{file_id}/download") == V2

    # And a pending version deleted before its bytes arrive: the bytes are an orphan, deleted
    v3 = _new_version(files_api, file_id, b"three", process=False)
    assert files_api("DELETE", f"/files/{file_id}/versions/{v3['version_id']}").status == 204
    _post(v3["upload"], b"three")
    _process(v3["upload"]["fields"]["key"], 5)
    assert not _exists(s3, v3["upload"]["fields"]["key"])
    assert [v["version_id"] for v in _versions(files_api, file_id)] == [str(v2["version_id"]), file_id]


def test_two_workers_on_the_same_two_versions_promote_each_once(files_api: Api, alice: User, s3: Any,
                                                                db: Any) -> None:
    from tests.support.pipeline import invoke_concurrently

    # Given two new versions whose bytes arrived, and one SQS batch with both events
    file_id = _ready_file(files_api)
    v2 = _new_version(files_api, file_id, V2, process=False)
    v3 = _new_version(files_api, file_id, b"the third\n", process=False)
    keys = [v2["upload"]["fields"]["key"], v3["upload"]["fields"]["key"]]
    batch = sqs_event(s3_notification(settings().upload_bucket, keys[0], len(V2)),
                      s3_notification(settings().upload_bucket, keys[1], len(b"the third\n")))

    # When two processor environments handle the batch at the same moment (a duplicate delivery)
    outcomes = invoke_concurrently("processor", batch)

    # Then both succeed, each version was promoted exactly once, and every version keeps its bytes
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert all(failed_ids(response) == [] for _, response in outcomes), outcomes
    listed = _versions(files_api, file_id)
    assert {v["version_id"] for v in listed} == {file_id, str(v2["version_id"]), str(v3["version_id"])}
    assert all(v["status"] == "ready" for v in listed) and sum(v["current"] for v in listed) == 1
    added = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s"
                       " AND type = 'file.version_added'", (file_id,)).fetchall()
    assert sorted(a["payload"]["data"]["version_id"] for a in added) == sorted(
        [str(v2["version_id"]), str(v3["version_id"])])
    assert all(_exists(s3, k) for k in [*keys, f"u/{alice.user_id}/{file_id}/notes.txt"])


def test_a_large_version_goes_up_as_multipart(files_api: Api, s3: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a ready file and a multipart threshold of 1 KiB (one 5 MiB part holds 2 KiB)
    file_id = _ready_file(files_api)
    monkeypatch.setenv("MULTIPART_THRESHOLD_BYTES", "1024")
    reset_caches()
    data = b"m" * 2048

    # When a new version starts, its one part is PUT, and it is completed
    body = {"size": len(data), "content_type": "text/plain"}
    reply = files_api("POST", f"/files/{file_id}/versions", body=body)
    assert reply.status == 201, reply.body
    upload, version_id = reply.body["upload"], str(reply.body["version_id"])
    assert upload["method"] == "MULTIPART" and upload["part_count"] == 1
    put = requests.put(upload["parts"][0]["url"], data=data, timeout=30)
    assert put.status_code == 200, put.text
    stored = files_api("GET", f"/files/{file_id}/versions/{version_id}/parts")
    assert [p["part_number"] for p in stored.body["parts"]] == [1]
    signed = files_api("POST", f"/files/{file_id}/versions/{version_id}/parts", body={"part_numbers": [1]})
    assert signed.status == 200 and len(signed.body["parts"]) == 1
    done = files_api("POST", f"/files/{file_id}/versions/{version_id}/complete",
                     body={"parts": [{"part_number": 1, "etag": put.headers["ETag"]}]})
    assert done.status == 200, done.body
    again = files_api("POST", f"/files/{file_id}/versions/{version_id}/complete",
                      body={"parts": [{"part_number": 1, "etag": put.headers["ETag"]}]})
    assert again.status == 200, again.body  # a retried complete whose first try went through
    key = f"u/{(files_api.claims or {})['sub']}/{file_id}/v/{version_id}/notes.txt"
    _process(key, len(data))

    # Then it is the current version, with its bytes
    assert [v["version_id"] for v in _versions(files_api, file_id) if v["current"]] == [version_id]
    assert _download(files_api, f"/files/{file_id}/download") == data
    gone = files_api("GET", f"/files/{file_id}/versions/{version_id}/parts")
    assert (gone.status, gone.error_code) == (404, "version_not_found")  # it is the file's now
    # a complete retried after the promotion gets the version, now current; other parts a 409
    late = files_api("POST", f"/files/{file_id}/versions/{version_id}/complete",
                     body={"parts": [{"part_number": 1, "etag": put.headers["ETag"]}]})
    assert (late.status, late.body["version_id"], late.body["current"]) == (200, version_id, True), late.body
    wrong = files_api("POST", f"/files/{file_id}/versions/{version_id}/complete",
                      body={"parts": [{"part_number": 1, "etag": '"' + "0" * 32 + '"'}]})
    assert (wrong.status, wrong.error_code) == (409, "not_multipart_pending"), wrong.body
    # and once another version is current, the retry still answers with this one, kept
    assert files_api("POST", f"/files/{file_id}/versions/{file_id}/current").status == 200
    kept = files_api("POST", f"/files/{file_id}/versions/{version_id}/complete",
                     body={"parts": [{"part_number": 1, "etag": put.headers["ETag"]}]})
    assert (kept.status, kept.body["version_id"], kept.body["current"]) == (200, version_id, False), kept.body

    # And deleting a pending multipart version aborts its upload
    pending = files_api("POST", f"/files/{file_id}/versions", body=body)
    pending_id = str(pending.body["version_id"])
    assert files_api("DELETE", f"/files/{file_id}/versions/{pending_id}").status == 204
    prefix = f"u/{(files_api.claims or {})['sub']}/{file_id}/v/{pending_id}/"
    uploads = s3.list_multipart_uploads(Bucket=settings().upload_bucket, Prefix=prefix)
    assert uploads.get("Uploads", []) == []


def test_the_gate_refuses_a_version_delete_without_its_grant(files_api: Api) -> None:
    """The local IAM gate at work: with ``s3:DeleteObject`` taken out of the files role (as it was
    before files declared BUCKET_DELETE), deleting a version is refused by S3 key by key, the API
    answers 503 and the version and its bytes stay; with the grant, the same delete succeeds."""
    file_id = _ready_file(files_api)
    _new_version(files_api, file_id, V2)
    (kept,) = [v for v in _versions(files_api, file_id) if not v["current"]]
    path = f"/files/{file_id}/versions/{kept['version_id']}"
    with without_grant("files", "s3:DeleteObject"):
        refused = files_api("DELETE", path)
    assert refused.status == 503, refused.body
    assert "AccessDenied" in refused.body["error"]["message"]
    assert _download(files_api, f"{path}/download") == V1  # the bytes are still there
    assert files_api("DELETE", path).status == 204
    assert files_api("GET", f"{path}/download").status == 404


def test_a_missing_key_is_404_only_with_list_bucket(s3: Any) -> None:
    """S3 answers 403, not 404, for a missing key when the role may not ``s3:ListBucket`` under it:
    the processor's orphan path and the archiver's ``source_missing`` depend on the grant."""
    from botocore.exceptions import ClientError

    from fileshare.adapters.aws import client
    from lambdarun.iam.hooks import acting_as

    missing = f"u/{uuid.uuid4()}/gone.txt"
    with acting_as("processor"), pytest.raises(ClientError) as gone:
        client("s3").head_object(Bucket=settings().upload_bucket, Key=missing)
    assert gone.value.response["Error"]["Code"] == "404"
    with without_grant("processor", "s3:ListBucket"), acting_as("processor"), \
            pytest.raises(ClientError) as hidden:
        client("s3").head_object(Bucket=settings().upload_bucket, Key=missing)
    assert hidden.value.response["Error"]["Code"] == "403"
