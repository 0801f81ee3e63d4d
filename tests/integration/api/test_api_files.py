"""The files API (functions/files) against the real local PostgreSQL, Redis and LocalStack S3.

Handlers are called directly with API Gateway REST v1 events carrying Cognito claims, as the
gateway (and API Gateway's authorizer) would pass them after verifying the id token.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from fileshare.adapters.cache import file_key
from tests.integration.conftest import Api, User

TEXT = b"hello, fileshare\n" * 4
PDF_NAME = "Quarterly Report.pdf"


def create(api: Api, *, name: str = "notes.txt", size: int = len(TEXT), content_type: str = "text/plain",
           **extra: Any) -> Any:
    return api("POST", "/files", body={"name": name, "size": size, "content_type": content_type, **extra})


def post_upload(upload: dict[str, Any], data: bytes, content_type: str = "text/plain") -> requests.Response:
    """What the browser does with the presigned POST: the fields, then the file, as multipart/form-data."""
    return requests.post(upload["url"], data=upload["fields"],
                         files={"file": ("blob", data, content_type)}, timeout=30)


def uploaded_file(api: Api, db: Any, *, name: str = "notes.txt", data: bytes = TEXT) -> str:
    """Create, upload through the presigned POST, and mark ready (the processor's job, done here
    directly unless the running processor already did it). Returns the file id."""
    reply = create(api, name=name, size=len(data))
    assert reply.status == 201, reply.body
    assert post_upload(reply.body["upload"], data).status_code == 204
    file_id = reply.body["file_id"]
    db.execute("UPDATE files SET status = 'ready', checksum_sha256 = 'x'"
               " WHERE file_id = %s AND status = 'pending'", (file_id,))
    assert one(db, "SELECT status FROM files WHERE file_id = %s", file_id) == "ready"
    return file_id


def one(db: Any, sql: str, *params: Any) -> Any:
    """The single value of a one-row, one-column query."""
    row = db.execute(sql, params).fetchone()
    return next(iter(row.values()))


def outbox_count(db: Any, file_id: str) -> int:
    return int(one(db, "SELECT count(*) FROM outbox WHERE aggregate_id = %s", file_id))


# ---- POST /files --------------------------------------------------------------------------------

def test_create_returns_a_presigned_post_that_s3_accepts_for_this_key_only(
        files_api: Api, alice: User, db: Any, s3: Any) -> None:
    # Given a new user, when they start an upload with a path in the name
    reply = create(files_api, name="../../etc/notes.txt", tags=["Work", "work", " q3 "])

    # Then a pending row exists under a server-chosen key with a sanitized name
    assert reply.status == 201, reply.body
    file_id, upload = reply.body["file_id"], reply.body["upload"]
    assert upload["method"] == "POST"
    row = db.execute("SELECT * FROM files WHERE file_id = %s", (file_id,)).fetchone()
    assert row["status"] == "pending" and row["owner_id"] == alice.user_id
    assert row["name"] == "notes.txt" and row["tags"] == ["work", "q3"]
    assert row["s3_key"] == f"u/{alice.user_id}/{file_id}/notes.txt" == upload["fields"]["key"]
    assert db.execute("SELECT 1 FROM users WHERE user_id = %s", (alice.user_id,)).fetchone()

    # And LocalStack S3 accepts exactly the declared bytes at that key, with the declared type
    assert post_upload(upload, TEXT).status_code == 204
    head = s3.head_object(Bucket=upload["url"].rstrip("/").rsplit("/", 1)[-1], Key=row["s3_key"])
    assert head["ContentLength"] == len(TEXT) and head["ContentType"] == "text/plain"


def test_s3_refuses_a_post_larger_than_declared_or_to_another_key(files_api: Api) -> None:
    upload = create(files_api).body["upload"]
    too_big = post_upload(upload, TEXT + b"!")
    assert too_big.status_code == 400 and "EntityTooLarge" in too_big.text

    other_key = dict(upload, fields={**upload["fields"], "key": upload["fields"]["key"] + ".exe"})
    assert post_upload(other_key, TEXT).status_code == 403


@pytest.mark.parametrize(("body", "code"), [
    ({"name": "a.txt", "size": 0, "content_type": "text/plain"}, "validation_failed"),
    ({"name": "a.txt", "size": 10, "content_type": "not a type"}, "validation_failed"),
    ({"name": "a.txt", "size": 10}, "validation_failed"),
    ({"name": "a.txt", "size": 10, "content_type": "text/plain", "owner_id": "x"}, "validation_failed"),
    ({"name": "../ /..", "size": 10, "content_type": "text/plain"}, "invalid_name"),
    ({"name": "a.txt", "size": 10, "content_type": "text/plain",
      "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}, "expires_in_past"),
    ({"name": "a.txt", "size": 10, "content_type": "text/plain", "tags": ["x" * 51]}, "validation_failed"),
])
def test_create_rejects_bad_input_with_a_code(files_api: Api, db: Any, alice: User,
                                              body: dict[str, Any], code: str) -> None:
    reply = files_api("POST", "/files", body=body)
    assert reply.status == 422 and reply.error_code == code, reply.body
    assert one(db, "SELECT count(*) FROM files WHERE owner_id = %s", alice.user_id) == 0


def test_create_rejects_a_body_that_is_not_json(files_api: Api) -> None:
    reply = files_api("POST", "/files", raw_body="{not json")
    assert reply.status == 400 and reply.error_code == "invalid_json"


def test_create_over_the_size_limit_is_413(files_api: Api) -> None:
    reply = create(files_api, size=6 * 1024**3)
    assert reply.status == 413 and reply.error_code == "file_too_large"


def test_quota_counts_stored_and_pending_bytes(files_api: Api, alice: User, db: Any) -> None:
    assert files_api("GET", "/me").status == 200  # creates alice's row
    db.execute("UPDATE users SET quota_bytes = 100 WHERE user_id = %s", (alice.user_id,))
    assert create(files_api, size=60).status == 201  # pending: reserves 60
    over = create(files_api, size=41)
    assert over.status == 413 and over.error_code == "quota_exceeded"
    assert create(files_api, size=40).status == 201  # exactly fills the quota


def test_disallowed_content_type_is_refused(files_api: Api, override_settings: Any) -> None:
    override_settings(ALLOWED_CONTENT_TYPES="image/*,application/pdf")
    assert create(files_api, name="a.png", content_type="image/png").status == 201
    reply = create(files_api)
    assert reply.status == 422 and reply.error_code == "content_type_not_allowed"


def test_routes_need_an_authenticated_caller(files_api: Api) -> None:
    anonymous = files_api.as_user(None)
    for method, path in (("GET", "/files"), ("GET", "/me"), ("GET", f"/files/{uuid.uuid4()}"),
                         ("DELETE", f"/files/{uuid.uuid4()}")):
        reply = anonymous(method, path)
        assert reply.status == 401 and reply.error_code == "unauthorized", (method, path)


# ---- multipart --------------------------------------------------------------------------------

def test_large_upload_goes_multipart_and_completes(files_api: Api, override_settings: Any, s3: Any,
                                                   db: Any) -> None:
    mib = 1024**2
    override_settings(MULTIPART_THRESHOLD_BYTES=str(5 * mib), MULTIPART_PART_BYTES=str(5 * mib))
    data = bytes(range(256)) * (6 * mib // 256) + b"tail"
    reply = create(files_api, name="big.bin", size=len(data), content_type="application/octet-stream")
    assert reply.status == 201, reply.body
    upload, file_id = reply.body["upload"], reply.body["file_id"]
    assert upload["method"] == "MULTIPART" and upload["part_size"] == 5 * mib
    assert [p["part_number"] for p in upload["parts"]] == [1, 2]

    etags = []
    for part in upload["parts"]:
        start = (part["part_number"] - 1) * upload["part_size"]
        put = requests.put(part["url"], data=data[start:start + upload["part_size"]], timeout=60)
        assert put.status_code == 200, put.text
        etags.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})

    bad = files_api("POST", f"/files/{file_id}/complete", body={"parts": etags[:1]})
    assert bad.status == 422 and bad.error_code == "invalid_parts"

    done = files_api("POST", f"/files/{file_id}/complete", body={"parts": etags})
    assert done.status == 200, done.body
    key = db.execute("SELECT s3_key FROM files WHERE file_id = %s", (file_id,)).fetchone()["s3_key"]
    head = s3.head_object(Bucket=upload_bucket(), Key=key)
    assert head["ContentLength"] == len(data)


def test_complete_on_a_post_upload_is_409(files_api: Api) -> None:
    file_id = create(files_api).body["file_id"]
    reply = files_api("POST", f"/files/{file_id}/complete", body={"parts": [{"part_number": 1, "etag": "x"}]})
    assert reply.status == 409 and reply.error_code == "not_multipart_pending"


def upload_bucket() -> str:
    from fileshare.config import settings

    return settings().upload_bucket


# ---- GET /files (list) ------------------------------------------------------------------------

def test_list_pages_through_my_files_only_newest_first(files_api: Api, bob: User) -> None:
    created = [create(files_api, name=f"f{i}.txt").body["file_id"] for i in range(5)]
    create(files_api.as_user(bob), name="bobs.txt")
    files_api("DELETE", f"/files/{created[0]}")

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = files_api("GET", "/files", query=query)
        assert reply.status == 200, reply.body
        seen += [item["file_id"] for item in reply.body["items"]]
        pages += 1
        cursor = reply.body["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(created[1:]))  # newest first, trashed one gone, no duplicates
    assert pages == 2


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"cursor": "not-a-cursor"},
                                   {"cursor": "WyJ4IiwieSJd"}])  # the last: ["x","y"], well formed JSON
def test_list_rejects_bad_paging(files_api: Api, query: dict[str, str]) -> None:
    reply = files_api("GET", "/files", query=query)
    assert reply.status == 422 and reply.error_code in ("validation_failed", "invalid_cursor")


# ---- GET/PATCH/DELETE /files/{id} ---------------------------------------------------------------

def test_get_is_cached_and_every_write_invalidates(files_api: Api, db: Any, redis_client: Any) -> None:
    file_id = create(files_api, name=PDF_NAME, content_type="application/pdf").body["file_id"]
    first = files_api("GET", f"/files/{file_id}")
    assert first.status == 200 and first.body["name"] == PDF_NAME and first.body["status"] == "pending"
    assert redis_client.exists(file_key(file_id))

    # A change behind the API's back is not seen: the second read is served from Redis
    db.execute("UPDATE files SET name = 'changed behind the back.pdf' WHERE file_id = %s", (file_id,))
    assert files_api("GET", f"/files/{file_id}").body["name"] == PDF_NAME

    # PATCH drops the entry; the next read comes from PostgreSQL
    patched = files_api("PATCH", f"/files/{file_id}", body={"name": "Final/Report v2.pdf", "tags": ["Q3"]})
    assert patched.status == 200, patched.body
    assert patched.body["name"] == "Report v2.pdf" and patched.body["tags"] == ["q3"]
    assert not redis_client.exists(file_key(file_id))
    assert files_api("GET", f"/files/{file_id}").body["name"] == "Report v2.pdf"

    # DELETE drops it as well
    assert redis_client.exists(file_key(file_id))
    assert files_api("DELETE", f"/files/{file_id}").status == 204
    assert not redis_client.exists(file_key(file_id))


def test_patch_writes_file_updated_to_the_outbox_and_clears_expiry(files_api: Api, db: Any) -> None:
    expires = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    file_id = create(files_api, expires_at=expires.isoformat()).body["file_id"]
    stored = datetime.fromisoformat(files_api("GET", f"/files/{file_id}").body["expires_at"])
    assert stored == expires

    reply = files_api("PATCH", f"/files/{file_id}", body={"expires_at": None})
    assert reply.status == 200 and reply.body["expires_at"] is None
    events = db.execute("SELECT type, payload FROM outbox WHERE aggregate_id = %s", (file_id,)).fetchall()
    assert [e["type"] for e in events] == ["file.updated"]
    assert events[0]["payload"]["data"]["changes"] == {"expires_at": None}

    # A PATCH that changes nothing writes no event
    assert files_api("PATCH", f"/files/{file_id}", body={}).status == 200
    assert outbox_count(db, file_id) == 1


def test_patch_rejects_bad_input(files_api: Api) -> None:
    file_id = create(files_api).body["file_id"]
    assert files_api("PATCH", f"/files/{file_id}", body={"name": None}).error_code == "invalid_name"
    assert files_api("PATCH", f"/files/{file_id}", body={"size": 5}).status == 422
    assert files_api("PATCH", f"/files/{file_id}", body={"tags": "x"}).status == 422


def test_delete_moves_to_trash_with_its_event_in_the_same_transaction(files_api: Api, db: Any) -> None:
    file_id = create(files_api).body["file_id"]
    reply = files_api("DELETE", f"/files/{file_id}")
    assert reply.status == 204 and reply.body is None
    row = db.execute("SELECT status, trashed_at, status_before_trash FROM files WHERE file_id = %s",
                     (file_id,)).fetchone()
    assert row["status"] == "trashed" and row["status_before_trash"] == "pending"
    assert row["trashed_at"] is not None
    types = [r["type"] for r in db.execute("SELECT type FROM outbox WHERE aggregate_id = %s", (file_id,))]
    assert types == ["file.trashed"]

    assert files_api("DELETE", f"/files/{file_id}").status == 204  # again: no change, no second event
    assert outbox_count(db, file_id) == 1
    patched = files_api("PATCH", f"/files/{file_id}", body={"name": "x.txt"})
    assert patched.status == 409 and patched.error_code == "file_trashed"
    assert files_api("GET", f"/files/{file_id}").body["status"] == "trashed"


def test_another_users_file_is_404_on_every_route(files_module: Any, alice: User, bob: User, db: Any) -> None:
    mine, theirs = Api(files_module, alice.claims), Api(files_module, bob.claims)
    file_id = uploaded_file(mine, db)
    assert mine("GET", f"/files/{file_id}").status == 200  # now cached: the cache must not leak it

    for method, path, body in (
        ("GET", f"/files/{file_id}", None),
        ("PATCH", f"/files/{file_id}", {"name": "stolen.txt"}),
        ("DELETE", f"/files/{file_id}", None),
        ("GET", f"/files/{file_id}/download", None),
        ("POST", f"/files/{file_id}/complete", {"parts": [{"part_number": 1, "etag": "x"}]}),
    ):
        reply = theirs(method, path, body=body)
        assert reply.status == 404 and reply.error_code == "file_not_found", (method, path, reply.body)
    assert file_id not in [i["file_id"] for i in theirs("GET", "/files").body["items"]]
    row = db.execute("SELECT name, status FROM files WHERE file_id = %s", (file_id,)).fetchone()
    assert row == {"name": "notes.txt", "status": "ready"}

    unknown = mine("GET", f"/files/{uuid.uuid4()}")
    assert unknown.status == 404 and unknown.body == theirs("GET", f"/files/{file_id}").body


# ---- download and /me ---------------------------------------------------------------------------

def test_download_url_fetches_the_bytes_with_the_name(files_api: Api, db: Any) -> None:
    name = "Résumé \"final\".txt"
    file_id = uploaded_file(files_api, db, name=name)
    reply = files_api("GET", f"/files/{file_id}/download")
    assert reply.status == 200, reply.body
    got = requests.get(reply.body["url"], timeout=30)
    assert got.status_code == 200 and got.content == TEXT
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == name


def test_download_of_a_file_not_ready_is_409(files_api: Api) -> None:
    file_id = create(files_api).body["file_id"]
    reply = files_api("GET", f"/files/{file_id}/download")
    assert reply.status == 409 and reply.error_code == "file_not_ready"


def test_me_reports_quota_and_stored_bytes(files_api: Api, alice: User, db: Any) -> None:
    before = files_api("GET", "/me")
    assert before.status == 200
    assert before.body == {"user_id": alice.user_id, "email": alice.email,
                           "quota_bytes": before.body["quota_bytes"], "used_bytes": 0}
    uploaded_file(files_api, db)
    create(files_api, size=1000)  # pending: reserved, not stored
    assert files_api("GET", "/me").body["used_bytes"] == len(TEXT)


def test_reads_and_writes_work_with_redis_down(files_api: Api, override_settings: Any) -> None:
    from fileshare.adapters import cache

    file_id = create(files_api).body["file_id"]
    override_settings(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    cache.redis_client.cache_clear()
    try:
        assert files_api("GET", f"/files/{file_id}").status == 200
        patched = files_api("PATCH", f"/files/{file_id}", body={"name": "still works.txt"})
        assert patched.status == 200 and patched.body["name"] == "still works.txt"
        assert files_api("GET", f"/files/{file_id}").body["name"] == "still works.txt"
    finally:
        cache.redis_client.cache_clear()
