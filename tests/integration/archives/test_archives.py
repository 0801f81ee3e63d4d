"""Archives (issue 14 part 2): POST /archives -> archive.requested through the outbox and Kafka ->
the archiver streams a ZIP into an S3 multipart upload -> progress, zip.ready, the inbox and email,
the download, expiry; failures, limits and redelivery. Against the real PostgreSQL, LocalStack S3
and SES and Kafka; handlers run in-process as Lambda runs them.

The tests use a bucket of their own (``own_bucket`` in this folder's conftest points UPLOAD_BUCKET at it
for the module): the running stack's pipeline never sees their objects.
"""

from __future__ import annotations

import io
import os
import subprocess
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import requests

from fileshare.event_types import EventType
from infra.declaration import namespace_of
from lambdarun.events import KafkaRecord, msk_event
from tests.integration.archives.conftest import BUCKET
from tests.integration.conftest import Api, User, _load_handler
from tests.support.apigw import FakeContext
from tests.support.pipeline import end_offsets, records_since

TOPIC = namespace_of(os.environ).physical("fileshare.events")  # the test namespace's topic
SES_STORE = f"{os.environ.get('AWS_ENDPOINT_URL', 'http://localhost:4566')}/_aws/ses"


@pytest.fixture(scope="module")
def archives_module() -> ModuleType:
    return _load_handler("archives")


@pytest.fixture(scope="module")
def archiver_module() -> ModuleType:
    return _load_handler("archiver")


@pytest.fixture(scope="module")
def notifier_module() -> ModuleType:
    return _load_handler("notifier")


@pytest.fixture
def api(archives_module: ModuleType, alice: User) -> Api:
    return Api(archives_module, alice.claims)


@pytest.fixture
def ready_file(db: Any) -> Callable[..., uuid.UUID]:
    """A ``ready`` file row of ``owner`` with its object in the test bucket (made behind the API)."""
    from fileshare.adapters.aws import client

    def make(owner: User, name: str, data: bytes) -> uuid.UUID:
        db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s)"
                   " ON CONFLICT DO NOTHING", (owner.user_id, owner.email, 10**12))
        file_id = uuid.uuid4()
        key = f"u/{owner.user_id}/{file_id}/{name}"
        client("s3").put_object(Bucket=BUCKET, Key=key, Body=data)
        db.execute("INSERT INTO files (file_id, owner_id, name, s3_key, size, content_type, status)"
                   " VALUES (%s, %s, %s, %s, %s, 'application/octet-stream', 'ready')",
                   (file_id, owner.user_id, name, key, len(data)))
        return file_id
    return make


def share(db: Any, file_id: uuid.UUID, grantee: User) -> None:
    db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
               (grantee.user_id, grantee.email, 10**9))
    db.execute("INSERT INTO shares (share_id, file_id, grantee_id, permission) VALUES (%s, %s, %s, 'viewer')",
               (uuid.uuid4(), file_id, grantee.user_id))


def msk(*values: bytes) -> dict[str, Any]:
    records = [KafkaRecord(TOPIC, 0, i, int(time.time() * 1000), 0, None, value, (("event-type", b"x"),))
               for i, value in enumerate(values)]
    return msk_event(records, cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/t/1",
                     bootstrap="127.0.0.1:9092")


def run_handler(module: ModuleType, *values: bytes) -> list[dict[str, Any]]:
    result = module.lambda_handler(msk(*values), FakeContext(function_name="archiver"))
    return list(result.get("batchItemFailures", []))


def requested_value(db: Any, archive_id: str) -> bytes:
    """The archive.requested event as the outbox holds it (what Kafka carries)."""
    row = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s AND type = %s",
                     (archive_id, EventType.ARCHIVE_REQUESTED.value)).fetchone()
    assert row is not None
    import json
    return json.dumps(row["payload"]).encode()


def archive_objects(s3: Any, owner: User) -> tuple[list[str], list[str]]:
    """(object keys, unfinished multipart upload keys) under the owner's archive prefix."""
    prefix = f"a/{owner.user_id}/"
    objects = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    uploads = [u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", [])]
    return objects, uploads


def download(api: Api, archive_id: str) -> bytes:
    reply = api("GET", f"/archives/{archive_id}/download")
    assert reply.status == 200, reply.body
    got = requests.get(reply.body["url"], timeout=60)
    assert got.status_code == 200
    assert "attachment" in got.headers.get("Content-Disposition", "")
    return got.content


# ---- the whole flow ---------------------------------------------------------------------------

def test_a_selection_of_own_and_shared_files_becomes_one_zip_with_progress_notice_and_link(
        api: Api, alice: User, bob: User, db: Any, ready_file: Callable[..., uuid.UUID],
        archiver_module: ModuleType, notifier_module: ModuleType, tmp_path: Any,
        override_settings: Callable[..., None]) -> None:
    # Given two files of Alice's (one name twice) and one of Bob's shared with her
    one = ready_file(alice, "report.txt", b"first report\n" * 1000)
    two = ready_file(alice, "report.txt", os.urandom(300_000))
    theirs = ready_file(bob, "photo.bin", os.urandom(7 * 1024**2 + 5))
    share(db, theirs, alice)
    since = end_offsets(os.environ["KAFKA_BOOTSTRAP_SERVERS"], TOPIC)

    # When she asks for one ZIP of them
    reply = api("POST", "/archives", body={"file_ids": [str(one), str(two), str(theirs), str(one)],
                                           "name": "holiday"})

    # Then a queued job answers at once (duplicates count once) ...
    assert reply.status == 202, reply.body
    job = reply.body
    assert job["status"] == "queued" and job["name"] == "holiday.zip"
    assert (job["files_total"], job["files_done"], job["bytes_done"]) == (3, 0, 0)
    assert job["bytes_total"] == 13_000 + 300_000 + 7 * 1024**2 + 5
    archive_id = job["archive_id"]
    # ... and archive.requested went to Kafka keyed by the archive (the outbox's inline publish)
    [record] = [r for r in records_since(os.environ["KAFKA_BOOTSTRAP_SERVERS"], TOPIC, since, key=archive_id)
                if b"archive.requested" in r.value]

    # When the archiver gets that record (S3's smallest parts, so the upload has several)
    override_settings(ARCHIVE_PART_BYTES=str(5 * 1024**2))
    assert run_handler(archiver_module, record.value) == []

    # Then the job is ready with full progress ...
    done = api("GET", f"/archives/{archive_id}").body
    assert done["status"] == "ready", done
    assert (done["files_done"], done["bytes_done"]) == (3, job["bytes_total"])
    assert done["size"] > job["bytes_total"] and done["expires_at"]
    # ... the ZIP opens with stdlib zipfile and unzip, with every file's bytes under a distinct name
    data = download(api, archive_id)
    assert len(data) == done["size"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["report.txt", "report (2).txt", "photo.bin"]
        assert archive.read("report.txt") == b"first report\n" * 1000
        assert len(archive.read("photo.bin")) == 7 * 1024**2 + 5
    (tmp_path / "a.zip").write_bytes(data)
    tested = subprocess.run(["unzip", "-t", str(tmp_path / "a.zip")], capture_output=True, text=True,
                            check=False)
    assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout + tested.stderr

    # ... zip.ready is in the outbox, and the notifier puts it in the inbox and mails the link
    ready = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s AND type = 'zip.ready'",
                       (archive_id,)).fetchall()
    assert len(ready) == 1 and ready[0]["payload"]["data"]["files"] == 3
    import json
    assert run_handler(notifier_module, json.dumps(ready[0]["payload"]).encode()) == []
    [notice] = db.execute("SELECT * FROM notifications WHERE user_id = %s", (alice.user_id,)).fetchall()
    assert notice["type"] == "zip.ready" and str(notice["file_id"]) == archive_id
    assert "holiday.zip" in notice["message"] and "3 files" in notice["message"]
    messages = [m for m in requests.get(SES_STORE, timeout=10).json()["messages"]
                if alice.email in (m.get("Destination") or {}).get("ToAddresses", [])]
    assert len(messages) == 1 and f"?archive={archive_id}" in messages[0]["Body"]["text_part"]

    # And a redelivered job record does nothing: no second build, no second zip.ready
    assert run_handler(archiver_module, record.value) == []
    assert db.execute("SELECT count(*) AS n FROM outbox WHERE aggregate_id = %s AND type = 'zip.ready'",
                      (archive_id,)).fetchone()["n"] == 1


# ---- who may ask for what ---------------------------------------------------------------------

def test_another_users_unshared_file_is_a_404_and_nothing_is_queued(
        api: Api, alice: User, bob: User, db: Any, ready_file: Callable[..., uuid.UUID]) -> None:
    mine = ready_file(alice, "mine.txt", b"mine")
    theirs = ready_file(bob, "theirs.txt", b"theirs")

    for ids in ([mine, theirs], [uuid.uuid4()]):
        reply = api("POST", "/archives", body={"file_ids": [str(i) for i in ids]})
        assert reply.status == 404, reply.body
        assert reply.body["error"]["code"] == "file_not_found"
    queued = db.execute("SELECT count(*) AS n FROM archives WHERE owner_id = %s", (alice.user_id,)).fetchone()
    assert queued["n"] == 0
    # and nobody else's archive is visible either
    bobs = Api(api.module, bob.claims)
    own = bobs("POST", "/archives", body={"file_ids": [str(theirs)]})
    assert own.status == 202
    for path in (f"/archives/{own.body['archive_id']}", f"/archives/{own.body['archive_id']}/download"):
        assert api("GET", path).body == {"error": {"code": "archive_not_found",
                                                   "message": "archive not found"}}
    assert api("DELETE", f"/archives/{own.body['archive_id']}").status == 404


def test_limits_answer_4xx_with_the_error_envelope(
        api: Api, alice: User, db: Any, ready_file: Callable[..., uuid.UUID],
        override_settings: Callable[..., None]) -> None:
    files = [ready_file(alice, f"f{i}.txt", b"x" * 100) for i in range(3)]
    pending = ready_file(alice, "pending.txt", b"p")
    db.execute("UPDATE files SET status = 'pending' WHERE file_id = %s", (pending,))
    override_settings(ARCHIVE_MAX_FILES="2", ARCHIVE_MAX_BYTES="250", ARCHIVE_MAX_ACTIVE="1")

    cases = [
        ({"file_ids": [str(f) for f in files]}, 413, "archive_too_many_files"),
        ({"file_ids": [str(f) for f in files[:2]] + [str(files[0])]}, 202, None),  # 200 bytes: fits
        ({"file_ids": [str(files[2])]}, 409, "too_many_archives"),  # one already queued
        ({"file_ids": [str(pending)]}, 409, "file_not_ready"),
        ({"file_ids": []}, 422, "validation_failed"),
        ({"file_ids": ["not-a-uuid"]}, 422, "validation_failed"),
        ({"file_ids": [str(files[0])], "extra": 1}, 422, "validation_failed"),
    ]
    for body, status, code in cases:
        reply = api("POST", "/archives", body=body)
        assert reply.status == status, (body, reply.body)
        if code:
            assert reply.body["error"]["code"] == code and reply.body["error"]["message"]
    override_settings(ARCHIVE_MAX_FILES="2", ARCHIVE_MAX_BYTES="250", ARCHIVE_MAX_ACTIVE="5")
    reply = api("POST", "/archives", body={"file_ids": [str(files[1]), str(files[2])]})
    assert reply.status == 202
    big = ready_file(alice, "big.txt", b"b" * 300)
    reply = api("POST", "/archives", body={"file_ids": [str(big)]})
    assert reply.status == 413 and reply.body["error"]["code"] == "archive_too_large"


# ---- failures leave nothing behind ------------------------------------------------------------

def _queued(api: Api, ids: list[uuid.UUID]) -> str:
    reply = api("POST", "/archives", body={"file_ids": [str(i) for i in ids]})
    assert reply.status == 202, reply.body
    return str(reply.body["archive_id"])


def test_a_vanished_source_fails_the_job_and_aborts_the_upload(
        api: Api, alice: User, db: Any, ready_file: Callable[..., uuid.UUID], s3: Any) -> None:
    from fileshare.archives import worker as archiving

    first = ready_file(alice, "kept.bin", os.urandom(6 * 1024**2))
    gone = ready_file(alice, "gone.bin", b"bytes that will vanish")
    archive_id = _queued(api, [first, gone])
    s3.delete_object(Bucket=BUCKET, Key=db.execute("SELECT s3_key FROM files WHERE file_id = %s",
                                                   (gone,)).fetchone()["s3_key"])

    assert archiving.run(uuid.UUID(archive_id), part_bytes=5 * 1024**2) is archiving.Outcome.FAILED

    job = api("GET", f"/archives/{archive_id}").body
    assert job["status"] == "failed" and job["failure_reason"] == "source_missing"
    assert str(gone) in job["failure_detail"]
    assert archive_objects(s3, alice) == ([], [])  # the first part was uploaded, then aborted
    reply = api("GET", f"/archives/{archive_id}/download")
    assert reply.status == 409 and reply.body["error"]["code"] == "archive_failed"


def test_an_s3_error_mid_way_fails_the_job_with_storage_error_and_nothing_stays(
        api: Api, alice: User, db: Any, ready_file: Callable[..., uuid.UUID], s3: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The multipart upload disappears under the archiver (aborted behind its back after the first
    part): S3's own NoSuchUpload on the next part is the mid-way error."""
    from fileshare.archives import worker as archiving
    from fileshare.archives import zipstream

    source = ready_file(alice, "big.bin", os.urandom(16 * 1024**2))
    archive_id = _queued(api, [source])
    real = zipstream.read_ranges

    def reads_then_loses_upload(key: str, size: int, etag: str,
                                chunk: int = zipstream.CHUNK_BYTES) -> Iterator[bytes]:
        for n, data in enumerate(real(key, size, etag, chunk)):
            if n == 8:  # by now one 5 MiB part is uploaded
                row = db.execute("SELECT s3_key, upload_id FROM archives WHERE archive_id = %s",
                                 (archive_id,)).fetchone()
                s3.abort_multipart_upload(Bucket=BUCKET, Key=row["s3_key"], UploadId=row["upload_id"])
            yield data

    monkeypatch.setattr(archiving, "read_ranges", reads_then_loses_upload)
    assert archiving.run(uuid.UUID(archive_id), part_bytes=5 * 1024**2, chunk_bytes=1024**2,
                         inflight=1) is archiving.Outcome.FAILED

    job = api("GET", f"/archives/{archive_id}").body
    assert job["status"] == "failed" and job["failure_reason"] == "storage_error", job
    assert "NoSuchUpload" in job["failure_detail"]
    assert archive_objects(s3, alice) == ([], [])


def test_a_file_unshared_before_the_job_runs_fails_it_as_source_unavailable(
        api: Api, alice: User, bob: User, db: Any, ready_file: Callable[..., uuid.UUID], s3: Any) -> None:
    from fileshare.archives import worker as archiving

    theirs = ready_file(bob, "was-shared.txt", b"shared for a moment")
    share(db, theirs, alice)
    archive_id = _queued(api, [theirs])
    db.execute("DELETE FROM shares WHERE file_id = %s", (theirs,))

    assert archiving.run(uuid.UUID(archive_id)) is archiving.Outcome.FAILED
    job = api("GET", f"/archives/{archive_id}").body
    assert (job["status"], job["failure_reason"]) == ("failed", "source_unavailable")
    assert archive_objects(s3, alice) == ([], [])


def test_a_job_whose_worker_died_is_claimed_again_and_its_dead_upload_aborted(
        api: Api, alice: User, db: Any, ready_file: Callable[..., uuid.UUID], s3: Any) -> None:
    from fileshare.archives import worker as archiving

    source = ready_file(alice, "again.txt", b"again\n" * 100)
    archive_id = _queued(api, [source])
    key = db.execute("SELECT s3_key FROM archives WHERE archive_id = %s", (archive_id,)).fetchone()["s3_key"]
    dead = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key=key, UploadId=dead, PartNumber=1, Body=b"half")
    # a worker claimed it, started an upload and stopped beating 10 minutes ago
    db.execute("UPDATE archives SET status = 'running', attempt = 1, upload_id = %s,"
               " heartbeat_at = now() - interval '10 minutes' WHERE archive_id = %s", (dead, archive_id))
    # while a fresh heartbeat means another worker has it: a duplicate delivery leaves it alone
    db.execute("UPDATE archives SET heartbeat_at = now() WHERE archive_id = %s", (archive_id,))
    assert archiving.run(uuid.UUID(archive_id)) is archiving.Outcome.SKIPPED
    db.execute("UPDATE archives SET heartbeat_at = now() - interval '10 minutes' WHERE archive_id = %s",
               (archive_id,))

    assert archiving.run(uuid.UUID(archive_id)) is archiving.Outcome.BUILT

    row = db.execute("SELECT status, attempt FROM archives WHERE archive_id = %s", (archive_id,)).fetchone()
    assert (row["status"], row["attempt"]) == ("ready", 2)
    assert archive_objects(s3, alice) == ([key], [])  # the dead upload is gone
    with zipfile.ZipFile(io.BytesIO(download(api, archive_id))) as archive:
        assert archive.read("again.txt") == b"again\n" * 100


# ---- delete and expiry ------------------------------------------------------------------------

def test_delete_removes_the_archive_and_the_sweeper_expires_ready_ones(
        api: Api, alice: User, db: Any, ready_file: Callable[..., uuid.UUID], s3: Any) -> None:
    from fileshare.archives import worker as archiving

    sweeper = _load_handler("sweeper")
    source = ready_file(alice, "keep.txt", b"keep")
    deleted, expiring = _queued(api, [source]), _queued(api, [source])
    for archive_id in (deleted, expiring):
        assert archiving.run(uuid.UUID(archive_id)) is archiving.Outcome.BUILT
    assert len(archive_objects(s3, alice)[0]) == 2

    # DELETE: the object goes at once, the download is 410, a repeat is fine
    assert api("DELETE", f"/archives/{deleted}").status == 204
    assert api("DELETE", f"/archives/{deleted}").status == 204
    assert api("GET", f"/archives/{deleted}").body["status"] == "deleted"
    reply = api("GET", f"/archives/{deleted}/download")
    assert reply.status == 410 and reply.body["error"]["code"] == "archive_expired"

    # expiry: once expires_at passed the sweeper (the scheduled function) deletes it
    db.execute("UPDATE archives SET expires_at = now() - interval '1 second' WHERE archive_id = %s",
               (expiring,))
    counts = sweeper.lambda_handler({"source": "aws.scheduler"},
                                    FakeContext(function_name="sweeper", timeout_ms=120_000))
    assert counts["archives_expired"] >= 1
    assert api("GET", f"/archives/{expiring}").body["status"] == "expired"
    assert api("GET", f"/archives/{expiring}/download").status == 410
    assert archive_objects(s3, alice) == ([], [])


def test_memory_stays_bounded_whatever_the_archive_size(
        api: Api, alice: User, ready_file: Callable[..., uuid.UUID]) -> None:
    """64 MiB of sources through 5 MiB parts: the job's Python allocations peak near
    (inflight + 1) parts plus a chunk, not near the archive's size."""
    import tracemalloc

    from fileshare.archives import worker as archiving

    sources = [ready_file(alice, f"part{i}.bin", os.urandom(16 * 1024**2)) for i in range(4)]
    archive_id = _queued(api, sources)
    tracemalloc.start()
    try:
        assert archiving.run(uuid.UUID(archive_id), part_bytes=5 * 1024**2, chunk_bytes=1024**2,
                             inflight=2) is archiving.Outcome.BUILT
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024**2, f"peak {peak / 1024**2:.1f} MiB for a 64 MiB archive"


def test_a_job_left_queued_is_announced_again_by_the_sweep(
        api: Api, alice: User, db: Any, ready_file: Callable[..., uuid.UUID]) -> None:
    """A job whose archive.requested was never consumed (e.g. published before the archiver's mapping
    existed, which starts at LATEST) gets a second event; a fresh queued job does not."""
    from fileshare.archives import jobs as archives

    source = ready_file(alice, "waiting.txt", b"waiting")
    old, fresh = _queued(api, [source]), _queued(api, [source])
    db.execute("UPDATE archives SET updated_at = now() - interval '20 minutes' WHERE archive_id = %s", (old,))

    assert archives.sweep().archives_reannounced >= 1

    def announced(archive_id: str) -> int:
        return int(db.execute("SELECT count(*) AS n FROM outbox WHERE aggregate_id = %s AND type = %s",
                              (archive_id, EventType.ARCHIVE_REQUESTED.value)).fetchone()["n"])
    assert (announced(old), announced(fresh)) == (2, 1)


def test_delete_while_the_job_runs_stops_it_and_leaves_nothing(
        api: Api, alice: User, ready_file: Callable[..., uuid.UUID], s3: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """DELETE during the build: the worker's next progress write misses (its attempt lost the job),
    so it stops and aborts its upload; no object, no upload, no zip.ready."""
    from fileshare.archives import worker as archiving
    from fileshare.archives import zipstream

    source = ready_file(alice, "cancelled.bin", os.urandom(12 * 1024**2))
    archive_id = _queued(api, [source])
    real = zipstream.read_ranges
    monkeypatch.setattr(archiving, "PROGRESS_EVERY_S", 0.0)  # every chunk writes progress

    def deleted_mid_way(key: str, size: int, etag: str,
                        chunk: int = zipstream.CHUNK_BYTES) -> Iterator[bytes]:
        for n, data in enumerate(real(key, size, etag, chunk)):
            if n == 7:
                assert api("DELETE", f"/archives/{archive_id}").status == 204
            yield data

    monkeypatch.setattr(archiving, "read_ranges", deleted_mid_way)
    assert archiving.run(uuid.UUID(archive_id), part_bytes=5 * 1024**2, chunk_bytes=1024**2,
                         inflight=1) is archiving.Outcome.SUPERSEDED
    assert api("GET", f"/archives/{archive_id}").body["status"] == "deleted"
    assert archive_objects(s3, alice) == ([], [])


# ---- a whole folder ---------------------------------------------------------------------------

def _folder(files: Api, name: str, parent: str | None = None) -> str:
    reply = files("POST", "/folders", body={"name": name, **({"parent_id": parent} if parent else {})})
    assert reply.status == 201, reply.body
    return str(reply.body["folder_id"])


def _into(files: Api, file_id: uuid.UUID, folder_id: str | None) -> None:
    reply = files("PATCH", f"/files/{file_id}", body={"folder_id": folder_id})
    assert reply.status == 200, reply.body


def _zip_names(api: Api, archive_id: str, tmp_path: Any) -> tuple[list[str], dict[str, bytes]]:
    data = download(api, archive_id)
    (tmp_path / f"{archive_id}.zip").write_bytes(data)
    tested = subprocess.run(["unzip", "-t", str(tmp_path / f"{archive_id}.zip")], capture_output=True,
                            text=True, check=False)
    assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout + tested.stderr
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        return names, {n: archive.read(n) for n in names if not n.endswith("/")}


def test_a_folder_zips_recursively_under_relative_paths_with_collisions_renamed(
        api: Api, alice: User, db: Any, ready_file: Callable[..., uuid.UUID], files_module: ModuleType,
        archiver_module: ModuleType, tmp_path: Any) -> None:
    files = Api(files_module, alice.claims)
    # Given Docs/ with a.txt, a file called "notes" next to a subfolder "notes" holding deep.txt,
    # an empty subfolder, a trashed subfolder, a pending upload, and a file at the root
    top = f"Docs-{uuid.uuid4().hex[:6]}"
    docs = _folder(files, top)
    notes = _folder(files, "notes", docs)
    _folder(files, "empty", docs)
    gone = _folder(files, "old", docs)
    a = ready_file(alice, "a.txt", b"alpha\n" * 100)
    clash = ready_file(alice, "notes", b"a file named like its sibling folder")
    deep = ready_file(alice, "deep.txt", os.urandom(6 * 1024**2 + 3))
    hidden = ready_file(alice, "hidden.txt", b"in a trashed folder")
    pending = ready_file(alice, "pending.txt", b"p")
    outside = ready_file(alice, "outside.txt", b"at the root")
    for file_id, folder_id in ((a, docs), (clash, docs), (deep, notes), (hidden, gone), (pending, docs)):
        _into(files, file_id, folder_id)
    db.execute("UPDATE files SET status = 'pending' WHERE file_id = %s", (pending,))
    assert files("DELETE", f"/folders/{gone}").status == 200

    # When Alice zips the folder
    reply = api("POST", "/archives", body={"folder_id": docs})
    assert reply.status == 202, reply.body
    job = reply.body
    assert (job["name"], job["folder_id"], job["files_total"]) == (f"{top}.zip", docs, 3)
    assert job["bytes_total"] == 600 + 36 + 6 * 1024**2 + 3
    assert run_handler(archiver_module, requested_value(db, job["archive_id"])) == []

    # Then the ZIP holds every ready file below it under its path, each directory, and nothing else;
    # the file named like the subfolder is renamed, so both extract
    assert api("GET", f"/archives/{job['archive_id']}").body["status"] == "ready"
    names, contents = _zip_names(api, job["archive_id"], tmp_path)
    assert names == [f"{top}/", f"{top}/empty/", f"{top}/notes/",
                     f"{top}/a.txt", f"{top}/notes (2)", f"{top}/notes/deep.txt"]
    assert contents[f"{top}/notes (2)"] == b"a file named like its sibling folder"
    assert len(contents[f"{top}/notes/deep.txt"]) == 6 * 1024**2 + 3
    assert not {str(hidden), str(pending), str(outside)} & set(
        str(i) for i in db.execute("SELECT file_ids FROM archives WHERE archive_id = %s",
                                   (job["archive_id"],)).fetchone()["file_ids"])

    # And the folder is resolved again when the job runs: a file moved out is left out, one added is in
    _into(files, a, None)
    late = ready_file(alice, "late.txt", b"added after the request")
    second = api("POST", "/archives", body={"folder_id": notes, "name": "just notes"}).body
    _into(files, late, notes)
    assert run_handler(archiver_module, requested_value(db, second["archive_id"])) == []
    done = api("GET", f"/archives/{second['archive_id']}").body
    assert (done["status"], done["name"], done["files_total"], done["files_done"]) == (
        "ready", "just notes.zip", 2, 2)
    names, _ = _zip_names(api, second["archive_id"], tmp_path)
    assert names == ["notes/", "notes/deep.txt", "notes/late.txt"]


def test_a_folder_shared_with_a_viewer_zips_for_them_until_the_share_is_revoked(
        api: Api, alice: User, bob: User, db: Any, ready_file: Callable[..., uuid.UUID],
        files_module: ModuleType, archives_module: ModuleType, archiver_module: ModuleType,
        notifier_module: ModuleType, new_user: Callable[[], User], tmp_path: Any) -> None:
    import json

    files = Api(files_module, alice.claims)
    outer = _folder(files, f"Outer-{uuid.uuid4().hex[:6]}")
    shared = _folder(files, "Shared", outer)
    inner = _folder(files, "Inner", shared)
    for name, folder_id in (("top.txt", outer), ("s.txt", shared), ("i.txt", inner)):
        _into(files, ready_file(alice, name, name.encode() * 10), folder_id)
    db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
               (bob.user_id, bob.email, 10**9))
    share_reply = files("POST", f"/folders/{shared}/shares", body={"email": bob.email})
    assert share_reply.status == 201, share_reply.body
    viewer, stranger = Api(archives_module, bob.claims), Api(archives_module, new_user().claims)

    # The viewer zips the folder shared with them (everything inside, subfolders too) ...
    job = viewer("POST", "/archives", body={"folder_id": shared})
    assert job.status == 202, job.body
    assert run_handler(archiver_module, requested_value(db, job.body["archive_id"])) == []
    names, _ = _zip_names(viewer, job.body["archive_id"], tmp_path)
    assert names == ["Shared/", "Shared/Inner/", "Shared/s.txt", "Shared/Inner/i.txt"]
    # ... but not the folder above it, and nobody else zips either (404, word for word a missing folder)
    missing = viewer("POST", "/archives", body={"folder_id": str(uuid.uuid4())})
    assert (missing.status, missing.body["error"]["code"]) == (404, "folder_not_found")
    for who, folder_id in ((viewer, outer), (stranger, shared), (stranger, inner)):
        reply = who("POST", "/archives", body={"folder_id": folder_id})
        assert reply.status == 404 and reply.body == missing.body, reply.body
    # the job is the viewer's own: the owner does not see it
    assert api("GET", f"/archives/{job.body['archive_id']}").status == 404

    # When the share is revoked between the request and the run, the job fails at run time ...
    queued = viewer("POST", "/archives", body={"folder_id": inner})
    assert queued.status == 202, queued.body
    revoke = files("DELETE", f"/folders/{shared}/shares", query={"share_id": share_reply.body["share_id"]})
    assert revoke.status == 204
    assert run_handler(archiver_module, requested_value(db, queued.body["archive_id"])) == []
    failed = viewer("GET", f"/archives/{queued.body['archive_id']}").body
    assert (failed["status"], failed["failure_reason"]) == ("failed", "source_unavailable")
    # ... with archive.failed in the outbox, and the notifier tells the viewer
    [event] = db.execute("SELECT payload FROM outbox WHERE aggregate_id = %s AND type = 'archive.failed'",
                         (queued.body["archive_id"],)).fetchall()
    assert event["payload"]["owner_id"] == bob.user_id
    assert event["payload"]["data"]["reason"] == "source_unavailable"
    assert run_handler(notifier_module, json.dumps(event["payload"]).encode()) == []
    [notice] = db.execute("SELECT * FROM notifications WHERE user_id = %s AND type = 'archive.failed'",
                          (bob.user_id,)).fetchall()
    assert str(notice["file_id"]) == queued.body["archive_id"] and "could not be made" in notice["message"]


def test_folder_archive_requests_are_checked(
        api: Api, alice: User, files_module: ModuleType, ready_file: Callable[..., uuid.UUID],
        override_settings: Callable[..., None]) -> None:
    files = Api(files_module, alice.claims)
    empty = _folder(files, f"Empty-{uuid.uuid4().hex[:6]}")
    _folder(files, "sub", empty)
    reply = api("POST", "/archives", body={"folder_id": empty})
    assert (reply.status, reply.body["error"]["code"]) == (409, "folder_empty")
    full = _folder(files, f"Full-{uuid.uuid4().hex[:6]}")
    for i in range(3):
        _into(files, ready_file(alice, f"f{i}.txt", b"x" * 100), full)
    one = ready_file(alice, "one.txt", b"1")
    for body in ({}, {"file_ids": [str(one)], "folder_id": full}, {"folder_id": "nope"}):
        reply = api("POST", "/archives", body=body)
        assert (reply.status, reply.body["error"]["code"]) == (422, "validation_failed"), body
    override_settings(ARCHIVE_MAX_FILES="2")
    reply = api("POST", "/archives", body={"folder_id": full})
    assert (reply.status, reply.body["error"]["code"]) == (413, "archive_too_many_files")
    override_settings(ARCHIVE_MAX_FILES="10", ARCHIVE_MAX_BYTES="250")
    reply = api("POST", "/archives", body={"folder_id": full})
    assert (reply.status, reply.body["error"]["code"]) == (413, "archive_too_large")


# ---- listing one's jobs -----------------------------------------------------------------------

def test_the_list_pages_through_my_jobs_newest_first_with_failures_and_without_deleted_ones(
        api: Api, alice: User, bob: User, db: Any, ready_file: Callable[..., uuid.UUID],
        override_settings: Callable[..., None], s3: Any) -> None:
    from fileshare.archives import worker as archiving

    override_settings(ARCHIVE_MAX_ACTIVE="10")
    mine = ready_file(alice, "m.txt", b"m")
    made = [_queued(api, [mine]) for _ in range(5)]
    gone = ready_file(alice, "gone.txt", b"g")
    failing = _queued(api, [gone])
    s3.delete_object(Bucket=BUCKET, Key=db.execute("SELECT s3_key FROM files WHERE file_id = %s",
                                                   (gone,)).fetchone()["s3_key"])
    assert archiving.run(uuid.UUID(failing)) is archiving.Outcome.FAILED
    assert api("DELETE", f"/archives/{made[1]}").status == 204
    theirs = ready_file(bob, "t.txt", b"t")
    assert Api(api.module, bob.claims)("POST", "/archives", body={"file_ids": [str(theirs)]}).status == 202

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        reply = api("GET", "/archives", query={"limit": "2", **({"cursor": cursor} if cursor else {})})
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= 2
        seen += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            break
    expected = [failing, made[4], made[3], made[2], made[0]]  # newest first; the deleted one is gone
    assert [i["archive_id"] for i in seen] == expected
    assert (seen[0]["status"], seen[0]["failure_reason"]) == ("failed", "source_missing")
    bad = api("GET", "/archives", query={"cursor": "not-a-cursor"})
    assert (bad.status, bad.body["error"]["code"]) == (422, "invalid_cursor")
