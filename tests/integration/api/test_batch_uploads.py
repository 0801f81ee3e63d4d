"""``POST /files/batch`` and ``GET /files/status`` (``fileshare.batch``), and the limits that count
work rather than requests (``fileshare.upload_budget``, the read budget of ``fileshare.ratelimit``),
against the real local PostgreSQL, Redis and LocalStack S3.

The clock the request limiter reads is pinned (and moved by the throttled client), so a minute
boundary never falls inside a test; nothing here measures time.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from fileshare import ratelimit, upload_budget
from fileshare.models import MAX_BATCH_FILES
from tests.integration.api.test_api_files import post_upload
from tests.integration.conftest import Api, User
from tests.support.apigw import Reply, call, event

TEXT = b"0123456789"  # 10 bytes


class Clock:
    """The limiter's pinned clock; ``advance`` is what a client's wait does to it."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    pinned = Clock()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=pinned.time, monotonic=time.monotonic))
    ratelimit.reset()
    yield pinned
    ratelimit.reset()


def entry(name: str = "a.txt", size: int = len(TEXT), content_type: str = "text/plain", **extra: Any
          ) -> dict[str, Any]:
    return {"name": name, "size": size, "content_type": content_type, **extra}


def start(api: Api, *entries: dict[str, Any]) -> Reply:
    return api("POST", "/files/batch", body={"files": list(entries)})


def statuses(api: Api, *file_ids: str) -> Reply:
    query = cast(dict[str, str], [("file_id", f) for f in file_ids])  # repeated: a list of pairs
    return call(api.module.lambda_handler, event("GET", "/files/status", query=query, claims=api.claims))


def rows_of(db: Any, user: User) -> list[dict[str, Any]]:
    return list(db.execute("SELECT file_id, name, status, folder_id, upload_id FROM files WHERE owner_id = %s"
                           " ORDER BY name", (user.user_id,)).fetchall())


def folder_names(db: Any, user: User) -> list[str]:
    return sorted(r["name"] for r in db.execute("SELECT name FROM folders WHERE owner_id = %s",
                                                (user.user_id,)).fetchall())


def test_a_batch_answers_each_entry_and_a_refused_one_leaves_nothing(
        files_api: Api, alice: User, db: Any, s3: Any, override_settings: Any) -> None:
    # Given a quota of 100 bytes, a 50-byte upload limit, text only, and multipart from 5 MiB
    override_settings(MAX_UPLOAD_BYTES="50", ALLOWED_CONTENT_TYPES="text/*")
    assert files_api("GET", "/me").status == 200
    db.execute("UPDATE users SET quota_bytes = 100 WHERE user_id = %s", (alice.user_id,))
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()

    # When one batch mixes good entries with every kind of refusal
    reply = start(files_api,
                  entry("a.txt", relative_path="Trip/day 1/a.txt"),  # 0 good, makes two folders
                  entry(" ... "),  # 1 nothing usable in the name
                  entry("big.txt", size=45),  # 2 fits the size limit and the quota (10 + 45)
                  entry("photo.png", content_type="image/png"),  # 3 type not allowed
                  entry("b.txt", relative_path="Trip/day 1/b.txt"),  # 4 good, same folders
                  entry("a.txt", relative_path="Trip/day 1/a.txt"),  # 5 entry 0 took the name
                  entry("c.txt", folder_id=str(uuid.uuid4()), relative_path="New/c.txt"),  # 6 no such folder
                  entry("huge.txt", size=51),  # 7 over the upload limit
                  entry("old.txt", expires_at=past),  # 8 expiry in the past
                  entry("last.txt", size=40))  # 9 10+45+10+40 = 105 > 100: over the quota

    # Then each entry has its own answer, in order
    assert reply.status == 200, reply.body
    items = reply.body["items"]
    assert [i["index"] for i in items] == list(range(10))
    codes = [i["error"]["code"] if i["error"] else None for i in items]
    assert codes == [None, "invalid_name", None, "content_type_not_allowed", None, "name_taken",
                     "folder_not_found", "file_too_large", "expires_in_past", "quota_exceeded"]
    assert (reply.body["created"], reply.body["refused"]) == (3, 7)
    assert all(i["upload"] is None and i["file_id"] is None for i in items if i["error"])

    # and only the accepted entries exist: three pending rows, the two folders of the good path
    created = {items[i]["file_id"] for i in (0, 2, 4)}
    rows = rows_of(db, alice)
    assert {str(r["file_id"]) for r in rows} == created
    assert {r["status"] for r in rows} == {"pending"}
    assert folder_names(db, alice) == ["Trip", "day 1"]  # not "New": entry 6 rolled back
    folder_events = db.execute("SELECT count(*) AS n FROM outbox WHERE type = 'folder.created'"
                               " AND payload->>'owner_id' = %s", (alice.user_id,)).fetchone()["n"]
    assert folder_events == 2

    # and each accepted upload is a presigned POST S3 takes
    for i in (0, 4):
        assert post_upload(items[i]["upload"], TEXT).status_code == 204


def test_a_refused_multipart_entry_aborts_its_upload(files_api: Api, alice: User, db: Any, s3: Any,
                                                     override_settings: Any) -> None:
    mib = 1024**2
    override_settings(MULTIPART_THRESHOLD_BYTES=str(5 * mib), MULTIPART_PART_BYTES=str(5 * mib))
    assert files_api("GET", "/me").status == 200
    db.execute("UPDATE users SET quota_bytes = %s WHERE user_id = %s", (8 * mib, alice.user_id))
    big: dict[str, Any] = {"size": 6 * mib, "content_type": "application/octet-stream"}

    reply = start(files_api, entry("one.bin", **big), entry("two.bin", **big))  # the second: over the quota

    assert reply.status == 200, reply.body
    first, second = reply.body["items"]
    assert first["upload"]["method"] == "MULTIPART" and second["error"]["code"] == "quota_exceeded"
    bucket = os.environ["UPLOAD_BUCKET"]
    open_uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=f"u/{alice.user_id}/").get("Uploads", [])
    assert [u["UploadId"] for u in open_uploads] == [first["upload"]["upload_id"]]
    assert [r["name"] for r in rows_of(db, alice)] == ["one.bin"]


def test_the_batch_size_is_bounded_and_a_malformed_entry_refuses_the_whole_request(
        files_api: Api, alice: User, db: Any) -> None:
    full = start(files_api, *[entry(f"n{i:03}.txt") for i in range(MAX_BATCH_FILES)])
    assert full.status == 200 and full.body["created"] == MAX_BATCH_FILES

    over = start(files_api, *[entry(f"m{i:03}.txt") for i in range(MAX_BATCH_FILES + 1)])
    assert over.status == 422 and over.error_code == "validation_failed"
    malformed = start(files_api, entry("fine.txt"),
                      {"name": "x.txt", "size": -1, "content_type": "text/plain"})
    assert malformed.status == 422 and malformed.error_code == "validation_failed"
    empty = start(files_api)
    assert empty.status == 422
    assert len(rows_of(db, alice)) == MAX_BATCH_FILES  # nothing from the refused requests


def test_status_answers_for_my_files_only_in_the_order_asked(files_api: Api, bob: User) -> None:
    mine = start(files_api, entry("a.txt"), entry("b.txt")).body["items"]
    theirs = start(files_api.as_user(bob), entry("c.txt")).body["items"]
    ids = [mine[1]["file_id"], theirs[0]["file_id"], str(uuid.uuid4()), mine[0]["file_id"]]

    reply = statuses(files_api, *ids)

    assert reply.status == 200, reply.body
    assert [(i["file_id"], i["name"], i["status"]) for i in reply.body["items"]] == [
        (mine[1]["file_id"], "b.txt", "pending"), (mine[0]["file_id"], "a.txt", "pending")]
    assert statuses(files_api, *[str(uuid.uuid4()) for _ in range(101)]).status == 422


def test_the_hourly_budget_counts_files_and_bytes_and_a_refused_batch_counts_nothing(
        files_api: Api, alice: User, bob: User, redis_client: Any, db: Any, override_settings: Any) -> None:
    override_settings(UPLOAD_FILES_PER_HOUR="5", UPLOAD_BYTES_PER_HOUR="1000")
    assert start(files_api, *[entry(f"{i}.txt") for i in range(3)]).status == 200

    refused = start(files_api, *[entry(f"x{i}.txt") for i in range(3)])  # 3 + 3 > 5 files

    assert refused.status == 429 and refused.error_code == "upload_budget_exceeded", refused.body
    assert 1 <= int(refused.headers["retry-after"]) <= upload_budget.WINDOW_S
    assert redis_client.get(f"{upload_budget.FILES_KEY_PREFIX}{alice.user_id}") == "3"
    assert redis_client.get(f"{upload_budget.BYTES_KEY_PREFIX}{alice.user_id}") == "30"
    assert len(rows_of(db, alice)) == 3
    assert start(files_api, *[entry(f"y{i}.txt") for i in range(2)]).status == 200  # what is left fits

    too_many_bytes = files_api("POST", "/files", body=entry("z.txt", size=900))  # POST /files counts too
    assert too_many_bytes.status == 429 and too_many_bytes.error_code == "upload_budget_exceeded"
    assert start(files_api.as_user(bob), entry("bob.txt")).status == 200  # per user


def test_status_polls_never_use_up_the_budget_uploads_need(files_api: Api, override_settings: Any) -> None:
    override_settings(RATE_LIMIT_PER_MINUTE="2", READ_RATE_LIMIT_PER_MINUTE="3")
    file_id = start(files_api, entry()).body["items"][0]["file_id"]  # write 1 of 2

    polls = [statuses(files_api, file_id).status for _ in range(5)]

    assert polls == [200, 200, 200, 429, 429]
    assert start(files_api, entry("next.txt")).status == 200  # write 2 of 2: the polls took none
    refused = start(files_api, entry("third.txt"))
    assert refused.status == 429 and refused.error_code == "rate_limited"
    assert refused.headers["retry-after"].isdigit()


def test_a_throttled_client_waits_as_told_and_finishes(files_api: Api, alice: User, db: Any, clock: Clock,
                                                       override_settings: Any) -> None:
    # Given a limit of 3 requests a minute and a client with 12 batches of 25 files to start
    override_settings(RATE_LIMIT_PER_MINUTE="3")
    waits: list[int] = []
    batches = [[entry(f"{b:02}-{i:02}.txt") for i in range(25)] for b in range(12)]

    # When it honours every 429's Retry-After (its wait moves the limiter's clock)
    for files in batches:
        while (reply := start(files_api, *files)).status == 429:
            assert reply.error_code == "rate_limited"
            waits.append(int(reply.headers["retry-after"]))
            clock.advance(waits[-1])
        assert reply.status == 200 and reply.body["created"] == 25

    # Then it was slowed down, never failed, and every file was started once
    assert len(waits) == 3 and all(1 <= w <= ratelimit.WINDOW_S for w in waits)
    assert len(rows_of(db, alice)) == 12 * 25
