"""Folders (fileshare.folders, routes on functions/files) against the real PostgreSQL, Redis,
OpenSearch and LocalStack S3: tree operations, folder shares in list/get/download/search before
and after revoke, moves out of a shared folder, and whole-folder trash/restore/purge in batches."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from fileshare import folders
from fileshare.config import settings
from tests.integration.conftest import Api, User, _load_handler
from tests.support.sharing import TEXT, World


def index_events(world: World, file_id: str) -> list[Any]:
    """The indexer on every outbox event of ``file_id``, as its MSK mapping delivers them; the
    batchItemFailures it reports. (A gateway's indexer may do the same at any time: it is idempotent.)"""
    import json
    import time

    from lambdarun.events import KafkaRecord, msk_event
    from tests.support.apigw import FakeContext

    values = [json.dumps(r["payload"]).encode() for r in world.outbox(file_id)]
    records = [KafkaRecord(settings().events_topic, 0, i, int(time.time() * 1000), 0, None, value, ())
               for i, value in enumerate(values)]
    event = msk_event(records, cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/t/1",
                      bootstrap="127.0.0.1:9092")
    result = _load_handler("indexer").lambda_handler(event, FakeContext(function_name="indexer"))
    return list(result.get("batchItemFailures", []))


def make_folder(world: World, user: User, name: str, parent: str | None = None) -> str:
    body: dict[str, Any] = {"name": name} | ({"parent_id": parent} if parent else {})
    reply = world.files(user)("POST", "/folders", body=body)
    assert reply.status == 201, reply.body
    return str(reply.body["folder_id"])


def ready_in(world: World, owner: User, folder_id: str | None, name: str, *, upload: bool = False,
             index: bool = True) -> str:
    """A ready file in ``folder_id`` (bytes in S3 when ``upload``), indexed as the processor does."""
    body: dict[str, Any] = {"name": name, "size": len(TEXT), "content_type": "text/plain"}
    if folder_id:
        body["folder_id"] = folder_id
    reply = world.files(owner)("POST", "/files", body=body)
    assert reply.status == 201, reply.body
    if upload:
        up = reply.body["upload"]
        posted = requests.post(up["url"], data=up["fields"], files={"file": ("b", TEXT, "text/plain")},
                               timeout=30)
        assert posted.status_code == 204, posted.text
    file_id = str(reply.body["file_id"])
    world.db.execute("UPDATE files SET status = 'ready', checksum_sha256 = 'x' WHERE file_id = %s",
                     (file_id,))
    if index:
        world.index(file_id)
    return file_id


def items(world: World, user: User, folder_id: str | None, **query: str) -> tuple[list[tuple[str, str]], Any]:
    q = {**({"folder_id": folder_id} if folder_id else {}), **query}
    reply = world.files(user)("GET", "/folders", query=q)
    assert reply.status == 200, reply.body
    out = [(i["kind"], (i["folder"] or i["file"])["name"]) for i in reply.body["items"]]
    return out, reply.body["next_cursor"]


def search_ids(world: World, user: User, q: str) -> list[str]:
    reply = world.search(user)("GET", "/search", query={"q": q})
    assert reply.status == 200, reply.body
    return [i["file_id"] for i in reply.body["items"]]


def test_create_list_breadcrumbs_and_cursor(world: World, alice: User) -> None:
    top = make_folder(world, alice, "Projects")
    sub = make_folder(world, alice, "2026", top)
    make_folder(world, alice, "archive", top)
    for name in ("b.txt", "A.txt", "c.txt"):
        ready_in(world, alice, top, name, index=False)
    # Folders first, then files, each by name case-insensitively; pages of 2 walk it all once
    seen: list[tuple[str, str]] = []
    cursor: str | None = None
    while True:
        page, cursor = items(world, alice, top, limit="2", **({"cursor": cursor} if cursor else {}))
        seen += page
        if cursor is None:
            break
    assert seen == [("folder", "2026"), ("folder", "archive"), ("file", "A.txt"), ("file", "b.txt"),
                    ("file", "c.txt")]
    assert ("folder", "Projects") in items(world, alice, None)[0]
    detail = world.files(alice)("GET", "/folders", query={"folder_id": sub})
    assert detail.status == 200 and [c["name"] for c in detail.body["folder"]["path"]] == ["Projects", "2026"]
    assert world.files(alice)("GET", "/folders").body["folder"] is None  # the root
    bad = world.files(alice)("GET", "/folders", query={"folder_id": top, "cursor": "bm9wZQ"})
    assert bad.status == 422 and bad.body["error"]["code"] == "invalid_cursor"


def test_name_clashes_are_409_case_insensitively(world: World, alice: User) -> None:
    top = make_folder(world, alice, "Docs")
    clash = world.files(alice)("POST", "/folders", body={"name": "docs"})
    assert clash.status == 409 and clash.body["error"]["code"] == "name_taken"
    other = make_folder(world, alice, "Other")
    rename = world.files(alice)("PATCH", f"/folders/{other}", body={"name": "DOCS"})
    assert rename.status == 409 and rename.body["error"]["code"] == "name_taken"
    ready_in(world, alice, top, "Report.txt", index=False)
    dup = world.files(alice)("POST", "/files", body={"name": "report.TXT", "size": 3,
                                                     "content_type": "text/plain", "folder_id": top})
    assert dup.status == 409 and dup.body["error"]["code"] == "name_taken"
    elsewhere = ready_in(world, alice, other, "report.txt", index=False)
    move = world.files(alice)("PATCH", f"/files/{elsewhere}", body={"folder_id": top})
    assert move.status == 409 and move.body["error"]["code"] == "name_taken"
    assert world.db.execute("SELECT folder_id FROM files WHERE file_id = %s", (elsewhere,)).fetchone()[
        "folder_id"] == uuid.UUID(other)


def test_moves_reject_cycles_and_keep_the_tree(world: World, alice: User, bob: User) -> None:
    a = make_folder(world, alice, "a")
    b = make_folder(world, alice, "b", a)
    c = make_folder(world, alice, "c", b)
    for target in (a, b, c):
        reply = world.files(alice)("PATCH", f"/folders/{a}", body={"parent_id": target})
        assert reply.status == 409 and reply.body["error"]["code"] == "folder_cycle", reply.body
    moved = world.files(alice)("PATCH", f"/folders/{c}", body={"parent_id": None, "name": "c2"})
    assert moved.status == 200 and moved.body["parent_id"] is None and moved.body["name"] == "c2"
    back = world.files(alice)("PATCH", f"/folders/{c}", body={"parent_id": a})
    assert back.status == 200 and back.body["parent_id"] == a
    # Someone else's folder is a 404 as parent, as target and as subject
    world.register(bob)
    theirs = make_folder(world, bob, "bob's")
    assert world.files(alice)("PATCH", f"/folders/{a}", body={"parent_id": theirs}).status == 404
    assert world.files(bob)("PATCH", f"/folders/{a}", body={"name": "x"}).status == 404
    assert world.files(bob)("GET", "/folders", query={"folder_id": a}).status == 404
    assert world.files(alice)("POST", "/folders", body={"name": "x", "parent_id": theirs}).status == 404
    upload = world.files(alice)("POST", "/files", body={"name": "in.txt", "size": 3,
                                                        "content_type": "text/plain", "folder_id": theirs})
    assert upload.status == 404 and upload.body["error"]["code"] == "folder_not_found"
    mine = ready_in(world, alice, a, "mine.txt", index=False)
    assert world.files(alice)("PATCH", f"/files/{mine}", body={"folder_id": theirs}).status == 404
    assert world.files(bob)("GET", f"/files/{mine}").status == 404


def test_folder_upload_keeps_relative_paths(world: World, alice: User) -> None:
    top = make_folder(world, alice, "Uploads")
    for path in ("Trip/day 1/a.jpg", "Trip/day 1/b.jpg", "trip/c.jpg"):
        reply = world.files(alice)("POST", "/files", body={"name": path.rsplit("/", 1)[-1], "size": 5,
                                                           "content_type": "image/jpeg", "folder_id": top,
                                                           "relative_path": path})
        assert reply.status == 201, reply.body
    assert items(world, alice, top)[0] == [("folder", "Trip")]
    trip = world.db.execute("SELECT folder_id FROM folders WHERE parent_id = %s",
                            (top,)).fetchone()["folder_id"]
    listed, _ = items(world, alice, str(trip))
    assert listed == [("folder", "day 1"), ("file", "c.jpg")]
    # A refused upload (quota) leaves no folder behind
    huge = world.files(alice)("POST", "/files", body={"name": "z.bin", "size": 5 * 1024**4 - 1,
                                                      "content_type": "application/octet-stream",
                                                      "relative_path": "Never/z.bin"})
    assert huge.status == 413
    assert world.db.execute("SELECT 1 FROM folders WHERE owner_id = %s AND name = 'Never'",
                            (alice.user_id,)).fetchone() is None


def test_a_folder_share_reaches_everything_inside_until_revoked(world: World, alice: User, bob: User,
                                                                 carol: User) -> None:
    world.register(bob)
    world.register(carol)
    shared = make_folder(world, alice, "Shared plans")
    inner = make_folder(world, alice, "inner", shared)
    before = ready_in(world, alice, inner, "Zanzibar before.txt", upload=True)
    outside = ready_in(world, alice, None, "Zanzibar outside.txt")
    viewer = world.files(bob)
    assert viewer("GET", f"/files/{before}").status == 404 and search_ids(world, bob, "zanzibar") == []

    reply = viewer.as_user(alice)("POST", f"/folders/{shared}/shares", body={"email": bob.email})
    assert reply.status == 201, reply.body
    share_id = reply.body["share_id"]
    announced = [e["payload"] for e in world.outbox(shared) if e["type"] == "share.created"]
    assert [(e["data"]["recipient_id"], e["data"]["folder"]) for e in announced] == [(bob.user_id, True)]
    dup = world.files(alice)("POST", f"/folders/{shared}/shares", body={"email": bob.email})
    assert dup.status == 409 and dup.body["error"]["code"] == "already_shared"
    after = ready_in(world, alice, inner, "Zanzibar after.txt")  # added after the share
    later = make_folder(world, alice, "later", inner)
    deep = ready_in(world, alice, later, "Zanzibar deep.txt")

    # bob reads, lists, downloads and finds all of it (and nothing outside)
    assert viewer("GET", f"/files/{before}").status == 200
    download = viewer("GET", f"/files/{before}/download")
    assert download.status == 200 and requests.get(download.body["url"], timeout=10).content == TEXT
    assert items(world, bob, inner)[0] == [("folder", "later"), ("file", "Zanzibar after.txt"),
                                           ("file", "Zanzibar before.txt")]
    assert sorted(search_ids(world, bob, "zanzibar")) == sorted([before, after, deep])
    assert outside not in search_ids(world, bob, "zanzibar")
    crumbs = viewer("GET", "/folders", query={"folder_id": later}).body["folder"]["path"]
    assert [c["name"] for c in crumbs] == ["Shared plans", "inner", "later"]
    listed = viewer("GET", "/folders", query={"shared": "true"}).body["items"]
    assert [f["folder"]["folder_id"] for f in listed] == [shared]
    # ... but may not manage it; carol sees nothing
    assert viewer("PATCH", f"/folders/{inner}", body={"name": "mine"}).body["error"]["code"] == "owner_only"
    assert viewer("PATCH", f"/files/{before}", body={"name": "mine.txt"}).status == 403
    assert world.files(carol)("GET", f"/files/{before}").status == 404
    assert world.files(carol)("GET", "/folders", query={"folder_id": inner}).status == 404
    assert search_ids(world, carol, "zanzibar") == []

    # A file moved out of the shared folder stops being visible to bob at once
    moved = world.files(alice)("PATCH", f"/files/{deep}", body={"folder_id": None})
    assert moved.status == 200 and moved.body["folder_id"] is None
    assert viewer("GET", f"/files/{deep}").status == 404
    assert deep not in search_ids(world, bob, "zanzibar")
    # and the indexer, on the move's event, rewrites its document (the files function writes no index)
    assert index_events(world, deep) == []
    assert world.opensearch.get(index=settings().search_alias, id=deep)["_source"].get("folder_id") is None

    # Revoking cuts all of it at once
    revoked = world.files(alice)("DELETE", f"/folders/{shared}/shares", query={"share_id": share_id})
    assert revoked.status == 204
    assert [e["type"] for e in world.outbox(shared)] == ["folder.created", "share.created", "share.revoked"]
    for file_id in (before, after):
        assert viewer("GET", f"/files/{file_id}").status == 404
        assert viewer("GET", f"/files/{file_id}/download").status == 404
    assert viewer("GET", "/folders", query={"folder_id": inner}).status == 404
    assert search_ids(world, bob, "zanzibar") == []
    assert viewer("GET", "/folders", query={"shared": "true"}).body["items"] == []


def test_search_recheck_hides_a_stale_folder_document(world: World, alice: User, bob: User) -> None:
    """A document whose folder_id is stale (the file moved out while OpenSearch lagged) still
    matches bob's folder filter; PostgreSQL's re-check drops it."""
    world.register(bob)
    shared = make_folder(world, alice, "Staleshare")
    file_id = ready_in(world, alice, shared, "Quetzal stale.txt")
    assert world.files(alice)("POST", f"/folders/{shared}/shares", body={"email": bob.email}).status == 201
    assert search_ids(world, bob, "quetzal") == [file_id]
    world.db.execute("UPDATE files SET folder_id = NULL WHERE file_id = %s", (file_id,))  # doc not updated
    assert search_ids(world, bob, "quetzal") == []


def count_events(world: World, file_ids: list[str], type_: str) -> int:
    row = world.db.execute("SELECT count(*) AS n FROM outbox WHERE aggregate_id = ANY(%s::uuid[])"
                           " AND type = %s",
                           (file_ids, type_)).fetchone()
    return int(row["n"])


def test_folder_trash_restore_purge_in_resumable_batches(world: World, alice: User, bob: User) -> None:
    world.register(bob)
    top = make_folder(world, alice, "Big")
    sub = make_folder(world, alice, "sub", top)
    ids = [ready_in(world, alice, top if i % 2 else sub, f"f{i:02}.txt", index=False) for i in range(13)]
    alone = ids[0]
    assert world.files(alice)("DELETE", f"/files/{alone}").status == 204  # trashed on its own first
    assert world.files(alice)("POST", f"/folders/{top}/shares", body={"email": bob.email}).status == 201
    assert world.files(bob)("DELETE", f"/folders/{top}").body["error"]["code"] == "owner_only"

    # Trash in batches of 5: one call does one batch, and says more is left
    first = folders.trash_folder(alice.user_id, uuid.UUID(top), batch_size=5, max_batches=1)
    assert (first.done, first.remaining) == (False, 7)
    # The folder is hidden at once, from the owner's root and from bob, before the files are all moved
    assert ("folder", "Big") not in items(world, alice, None)[0]
    assert world.files(bob)("GET", "/folders", query={"folder_id": sub}).status == 404
    assert world.files(bob)("GET", f"/files/{ids[-1]}").status == 404
    # A crash midway: a batch's transaction that never commits changes nothing and records nothing
    with pytest.raises(RuntimeError), world.db.transaction():
        from fileshare.db import folders as folders_db
        folders_db.trash_batch(world.db, uuid.UUID(top), 5)
        raise RuntimeError("crash")
    # The API call (a retry) resumes where the last commit stopped
    reply = world.files(alice)("DELETE", f"/folders/{top}")
    assert reply.status == 200 and reply.body["done"] is True, reply.body
    statuses = world.db.execute("SELECT status, trashed_with FROM files WHERE file_id = ANY(%s::uuid[])",
                                (ids,)).fetchall()
    assert all(r["status"] == "trashed" for r in statuses)
    assert sum(r["trashed_with"] == uuid.UUID(top) for r in statuses) == 12
    assert count_events(world, ids, "file.trashed") == 13  # one per file: 12 by the folder, 1 alone
    assert world.files(alice)("DELETE", f"/folders/{top}").status == 200  # again: nothing changes
    assert count_events(world, ids, "file.trashed") == 13

    # Restore: batches again; the file trashed on its own stays in the trash
    part = folders.restore_folder(alice.user_id, uuid.UUID(top), batch_size=5, max_batches=2)
    assert (part.done, part.remaining) == (False, 2)
    done = world.files(alice)("PATCH", f"/folders/{top}", body={"trashed": False})
    assert done.status == 200 and done.body["status"] == "active" and done.body["pending_op"] is None
    assert count_events(world, ids, "file.restored") == 12
    left = {r["file_id"]: r["status"] for r in world.db.execute(
        "SELECT file_id, status FROM files WHERE file_id = ANY(%s::uuid[])", (ids,)).fetchall()}
    assert left.pop(uuid.UUID(alone)) == "trashed" and set(left.values()) == {"ready"}
    assert world.files(bob)("GET", f"/files/{ids[-1]}").status == 200  # the share still holds

    # Purge: only from the trash; then every file goes down the deletion path once, folders vanish
    not_trashed = world.files(alice)("DELETE", f"/folders/{top}", query={"permanent": "true"})
    assert not_trashed.status == 409 and not_trashed.body["error"]["code"] == "folder_not_trashed"
    assert world.files(alice)("DELETE", f"/folders/{top}").body["done"] is True
    part = folders.purge_folder(alice.user_id, uuid.UUID(top), batch_size=5, max_batches=1)
    assert part.done is False
    assert world.files(alice)("DELETE", f"/folders/{top}", query={"permanent": "true"}).status == 200
    assert count_events(world, ids, "file.deleted") == 13
    assert world.db.execute("SELECT count(*) AS n FROM files WHERE file_id = ANY(%s::uuid[])"
                            " AND status <> 'deleting'",
                            (ids,)).fetchone()["n"] == 0
    assert world.db.execute("SELECT 1 FROM folders WHERE folder_id = ANY(%s::uuid[])",
                            ([top, sub],)).fetchone() is None
    assert world.files(alice)("GET", "/folders", query={"folder_id": top}).status == 404


def test_sweeper_step_finishes_an_operation_a_caller_left(world: World, alice: User) -> None:
    top = make_folder(world, alice, "Left")
    ids = [ready_in(world, alice, top, f"g{i}.txt", index=False) for i in range(4)]
    first = folders.trash_folder(alice.user_id, uuid.UUID(top), batch_size=3, max_batches=1)
    assert first.done is False
    assert folders.resume_pending(limit=1000) >= 1
    assert world.db.execute("SELECT pending_op FROM folders WHERE folder_id = %s", (top,)).fetchone()[
        "pending_op"] is None
    assert count_events(world, ids, "file.trashed") == 4


def test_trashed_folders_are_listed_and_a_file_restored_alone_cannot_clash(world: World, alice: User) -> None:
    top = make_folder(world, alice, "Keep")
    inner = make_folder(world, alice, "inner", top)
    old = ready_in(world, alice, top, "Same.txt", index=False)
    assert world.files(alice)("DELETE", f"/files/{old}").status == 204
    ready_in(world, alice, top, "same.TXT", index=False)  # the name is free again, and taken
    deep = ready_in(world, alice, inner, "deep.txt", index=False)
    loose = ready_in(world, alice, None, "loose.txt", index=False)
    assert world.files(alice)("DELETE", f"/files/{loose}").status == 204
    trash_api = Api(_load_handler("trash"), alice.claims)

    def trash_ids() -> list[str]:
        return [str(i["file_id"]) for i in trash_api("GET", "/trash").body["items"]]

    assert set(trash_ids()) >= {old, loose}
    clash = trash_api("POST", f"/files/{old}/restore")
    assert clash.status == 409 and clash.body["error"]["code"] == "name_taken", clash.body

    assert world.files(alice)("DELETE", f"/folders/{top}").body["done"] is True
    listed = world.files(alice)("GET", "/folders", query={"trashed": "true"}).body["items"]
    ids = [i["folder"]["folder_id"] for i in listed]
    assert top in ids and inner not in ids  # the subfolder goes with its parent
    # and GET /trash shows the folder's files through its row alone: none of top's, none of the
    # subfolder's (at any depth), not even the one trashed on its own before; a loose file stays
    listed_files = trash_ids()
    assert loose in listed_files and old not in listed_files and deep not in listed_files, listed_files
    inside = trash_api("POST", f"/files/{old}/restore")
    assert inside.status == 409 and inside.body["error"]["code"] == "parent_trashed"
    # once the folder is restored, the file trashed on its own is listed again (the others are back)
    restored = world.files(alice)("PATCH", f"/folders/{top}", body={"trashed": False})
    assert restored.status == 200 and not restored.body.get("pending_op"), restored.body
    after = trash_ids()
    assert old in after and deep not in after, after


def _all_pages(world: World, user: User, which: str) -> tuple[list[str], int]:
    """Every folder of ``GET /folders?<which>=true`` in pages of 2: (ids in order, pages)."""
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {which: "true", "limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = world.files(user)("GET", "/folders", query=query)
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= 2
        seen += [i["folder"]["folder_id"] for i in reply.body["items"]]
        pages += 1
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return seen, pages


def test_shared_and_trashed_folder_lists_page_by_cursor_newest_first(
        world: World, alice: User, bob: User) -> None:
    world.register(alice)
    world.register(bob)
    made = [make_folder(world, alice, f"p{i}-{uuid.uuid4().hex[:6]}") for i in range(5)]
    for folder_id in made:
        shared = world.files(alice)("POST", f"/folders/{folder_id}/shares", body={"email": bob.email})
        assert shared.status == 201
    assert _all_pages(world, bob, "shared") == (list(reversed(made)), 3)  # most recently shared first
    for folder_id in made:
        assert world.files(alice)("DELETE", f"/folders/{folder_id}").status == 200
    assert _all_pages(world, alice, "trashed") == (list(reversed(made)), 3)  # most recently trashed first
    assert _all_pages(world, bob, "shared") == ([], 1)  # a trashed folder is nobody's to see
    bad = world.files(alice)("GET", "/folders", query={"trashed": "true", "cursor": "not-a-cursor"})
    assert (bad.status, bad.body["error"]["code"]) == (422, "invalid_cursor")
