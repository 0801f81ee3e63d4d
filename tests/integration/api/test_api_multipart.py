"""Resumable multipart uploads against the real LocalStack S3 and PostgreSQL.

``POST /files`` signs only the first batch of parts; ``POST /files/{id}/parts`` signs more on
demand; ``GET /files/{id}/parts`` lists what S3 already holds (ListParts), so a client resumes by
skipping those; ``DELETE /files/{id}/upload`` aborts: S3 drops the parts, the row is rejected.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fileshare.adapters import storage
from tests.integration.conftest import Api, User

MIB = 1024**2
PART = 5 * MIB


@pytest.fixture
def small_parts(override_settings: Any) -> None:
    override_settings(MULTIPART_THRESHOLD_BYTES=str(PART), MULTIPART_PART_BYTES=str(PART))


def start(api: Api, size: int) -> dict[str, Any]:
    reply = api("POST", "/files", body={"name": "resume.bin", "size": size,
                                         "content_type": "application/octet-stream"})
    assert reply.status == 201, reply.body
    assert reply.body["upload"]["method"] == "MULTIPART"
    return dict(reply.body)


def put_part(url: str, data: bytes) -> str:
    put = requests.put(url, data=data, timeout=60)
    assert put.status_code == 200, put.text
    return str(put.headers["ETag"])


def chunk(data: bytes, number: int) -> bytes:
    return data[(number - 1) * PART: number * PART]


def test_first_batch_only_then_sign_list_resume_and_complete(
        small_parts: None, files_api: Api, s3: Any, db: Any) -> None:
    # Given an upload of ten parts (the last one short)
    data = bytes(range(256)) * (9 * PART // 256) + b"last part"
    created = start(files_api, len(data))
    upload, file_id = created["upload"], created["file_id"]
    # Then POST /files signed only the first batch, and says how many parts there are
    assert upload["part_count"] == 10 and upload["part_size"] == PART
    assert [p["part_number"] for p in upload["parts"]] == list(range(1, storage.FIRST_BATCH_PARTS + 1))

    # When two parts go up and the client asks what S3 holds (as after a reload)
    etag1 = put_part(upload["parts"][0]["url"], chunk(data, 1))
    etag3 = put_part(upload["parts"][2]["url"], chunk(data, 3))
    listed = files_api("GET", f"/files/{file_id}/parts")
    # Then it hears exactly those parts, with their ETags and sizes
    assert listed.status == 200, listed.body
    assert listed.body["parts"] == [{"part_number": 1, "etag": etag1, "size": PART, "checksum_sha256": None},
                                    {"part_number": 3, "etag": etag3, "size": PART, "checksum_sha256": None}]

    # When it signs the missing parts on demand (fresh URLs, each pinned to its exact length)
    missing = [n for n in range(1, 11) if n not in (1, 3)]
    signed = files_api("POST", f"/files/{file_id}/parts", body={"part_numbers": missing})
    assert signed.status == 200, signed.body
    urls = {p["part_number"]: p["url"] for p in signed.body["parts"]}
    assert sorted(urls) == missing
    signed_headers = [parse_qs(urlsplit(u).query)["X-Amz-SignedHeaders"][0] for u in urls.values()]
    assert all("content-length" in h.split(";") for h in signed_headers)
    etags = {1: etag1, 3: etag3} | {n: put_part(urls[n], chunk(data, n)) for n in missing}

    # Then the upload completes and S3 holds the same bytes
    done = files_api("POST", f"/files/{file_id}/complete",
                     body={"parts": [{"part_number": n, "etag": etags[n]} for n in range(1, 11)]})
    assert done.status == 200, done.body
    key = db.execute("SELECT s3_key FROM files WHERE file_id = %s", (file_id,)).fetchone()["s3_key"]
    from fileshare.config import settings

    assert s3.get_object(Bucket=settings().upload_bucket, Key=key)["Body"].read() == data
    # And once complete there is nothing left to sign or list
    # (upload_not_found while the processor has not yet marked the file ready, then not_multipart_pending)
    after = files_api("GET", f"/files/{file_id}/parts")
    assert after.status == 409, after.body
    assert after.error_code in ("upload_not_found", "not_multipart_pending"), after.body


def test_part_numbers_outside_the_upload_are_422(small_parts: None, files_api: Api) -> None:
    file_id = start(files_api, 2 * PART)["file_id"]
    reply = files_api("POST", f"/files/{file_id}/parts", body={"part_numbers": [1, 3]})
    assert reply.status == 422 and reply.error_code == "invalid_parts", reply.body
    empty = files_api("POST", f"/files/{file_id}/parts", body={"part_numbers": []})
    assert empty.status == 422, empty.body
    zero = files_api("POST", f"/files/{file_id}/parts", body={"part_numbers": [0]})
    assert zero.status == 422, zero.body


def test_abort_drops_the_parts_and_rejects_the_file(small_parts: None, files_api: Api, s3: Any, db: Any,
                                                    alice: User) -> None:
    from fileshare.config import settings

    bucket = settings().upload_bucket
    # Given an unfinished upload with one part in S3
    created = start(files_api, 2 * PART)
    file_id, upload = created["file_id"], created["upload"]
    put_part(upload["parts"][0]["url"], b"a" * PART)
    # When the owner aborts it
    reply = files_api("DELETE", f"/files/{file_id}/upload")
    assert reply.status == 204, reply.body
    # Then S3 holds no unfinished upload for it, and the row is rejected (upload_aborted), its upload id gone
    prefix = f"u/{alice.user_id}/{file_id}/"
    assert s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []) == []
    row = db.execute("SELECT status, reject_reason, upload_id FROM files WHERE file_id = %s",
                     (file_id,)).fetchone()
    assert row == {"status": "rejected", "reject_reason": "upload_aborted", "upload_id": None}
    outbox = db.execute("SELECT type FROM outbox WHERE aggregate_id = %s", (file_id,)).fetchall()
    assert {"type": "file.rejected"} in outbox
    # And the reserved bytes are free again: the file no longer counts as pending
    me = files_api("GET", "/me").body
    assert me["used_bytes"] == 0
    # And nothing more can be done with that upload
    for method, path, body in (("DELETE", f"/files/{file_id}/upload", None),
                               ("GET", f"/files/{file_id}/parts", None),
                               ("POST", f"/files/{file_id}/parts", {"part_numbers": [2]})):
        again = files_api(method, path, body=body)
        assert again.status == 409 and again.error_code == "not_multipart_pending", (method, again.body)


def test_only_the_owner_may_sign_list_or_abort(small_parts: None, files_api: Api, bob: User) -> None:
    file_id = start(files_api, 2 * PART)["file_id"]
    other = files_api.as_user(bob)
    for method, path, body in (("POST", f"/files/{file_id}/parts", {"part_numbers": [1]}),
                               ("GET", f"/files/{file_id}/parts", None),
                               ("DELETE", f"/files/{file_id}/upload", None)):
        reply = other(method, path, body=body)
        assert reply.status == 404 and reply.error_code == "file_not_found", (method, reply.body)
    assert files_api("GET", f"/files/{file_id}/parts").status == 200


def test_a_post_upload_has_no_parts(files_api: Api) -> None:
    reply = files_api("POST", "/files", body={"name": "small.txt", "size": 10, "content_type": "text/plain"})
    file_id = reply.body["file_id"]
    for method, path, body in (("POST", f"/files/{file_id}/parts", {"part_numbers": [1]}),
                               ("GET", f"/files/{file_id}/parts", None),
                               ("DELETE", f"/files/{file_id}/upload", None)):
        got = files_api(method, path, body=body)
        assert got.status == 409 and got.error_code == "not_multipart_pending", (method, got.body)


def test_a_retried_complete_of_a_file_already_processed_answers_the_file(
        small_parts: None, files_api: Api, s3: Any, db: Any) -> None:
    from fileshare.config import settings

    # Given a two-part upload that completed (its client saw a timeout and did not hear so)
    data = b"a" * PART + b"tail"
    created = start(files_api, len(data))
    upload, file_id = created["upload"], created["file_id"]
    etags = [put_part(upload["parts"][n - 1]["url"], chunk(data, n)) for n in (1, 2)]
    body = {"parts": [{"part_number": n, "etag": etags[n - 1]} for n in (1, 2)]}
    assert files_api("POST", f"/files/{file_id}/complete", body=body).status == 200
    # ... and the processor verified it (what it records: status ready, the object's ETag)
    key = db.execute("SELECT s3_key FROM files WHERE file_id = %s", (file_id,)).fetchone()["s3_key"]
    etag = s3.head_object(Bucket=settings().upload_bucket, Key=key)["ETag"].strip('"')
    assert etag.endswith("-2")
    db.execute("UPDATE files SET status = 'ready', verified_etag = %s, upload_id = NULL,"
               " checksum_sha256 = 'x' WHERE file_id = %s", (etag, file_id))

    # When the client retries the same complete, it hears the file, as the first try would have said
    again = files_api("POST", f"/files/{file_id}/complete", body=body)
    assert again.status == 200, again.body
    assert again.body["file_id"] == file_id and again.body["status"] == "ready"
    # But other parts are not that object: still a 409
    swapped = {"parts": [{"part_number": 1, "etag": etags[1]}, {"part_number": 2, "etag": etags[0]}]}
    other = files_api("POST", f"/files/{file_id}/complete", body=swapped)
    assert (other.status, other.error_code) == (409, "not_multipart_pending")
