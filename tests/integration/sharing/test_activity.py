"""The activity feed (functions/activity, fileshare.activity.feed) against the real PostgreSQL, LocalStack
S3, OpenSearch and Kafka.

Actions are done through the real handlers (files, sharing, trash, public_link; the upload made
ready by the processor from its S3 notification), so every event is the one the domain wrote to
the outbox in the same transaction as the change. The feed is built two ways: end to end (the
handlers' inline publish -> Kafka -> the runtime's MSK poller with a consumer group of its own ->
the activity function in a worker process), and by handing the outbox's events to the handler as
MSK batches, duplicated and out of order.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import time
import uuid
from dataclasses import replace
from types import ModuleType
from typing import Any

import pytest
import requests

from fileshare.config import settings
from lambdarun.events import KafkaRecord, msk_event
from tests.integration.conftest import Api, User, _load_handler
from tests.support.apigw import Reply, call, event
from tests.support.pipeline import failed_ids, invoke, s3_notification, sqs_event
from tests.support.sharing import World

TOPIC = "fileshare.events"
LIMIT_S = 60.0  # how long the end-to-end test keeps polling (a limit, not a timing assertion)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
DATA = b"activity bytes\n" * 8
# What the scenario does, oldest first (the feed shows it newest first).
SCENARIO = ["uploaded", "renamed", "shared", "link_created", "link_downloaded", "share_revoked",
            "trashed", "restored"]


@pytest.fixture(scope="module")
def activity_module() -> ModuleType:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.fail("the local stack is not up (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS): run `make dev`")
    return _load_handler("activity")


@pytest.fixture(scope="module")
def trash_module() -> ModuleType:
    return _load_handler("trash")


@pytest.fixture(autouse=True)
def behind_cloudfront(override_settings: Any) -> None:
    """The scenario's link download comes through CloudFront (its country header is trusted)."""
    override_settings(BEHIND_CLOUDFRONT="true")


def test_the_viewer_country_is_trusted_only_behind_cloudfront(world: World, alice: User, ip: str,
                                                              override_settings: Any) -> None:
    """Without CloudFront in front, anyone can send CloudFront-Viewer-Country: it is not recorded."""
    override_settings(BEHIND_CLOUDFRONT="false")
    file_id = uploaded(world, alice, "where.txt")
    token = str(world.link(alice, file_id)["url"]).rsplit("/", 1)[1]
    assert download_by_link(world, token, ip).status == 302
    (downloaded,) = [r["payload"] for r in world.outbox(file_id) if r["payload"]["type"] == "link.downloaded"]
    assert downloaded["data"]["client"]["browser"] == "Firefox"
    assert "country" not in downloaded["data"]["client"]


def feed_api(module: ModuleType, user: User | None) -> Api:
    return Api(module, user.claims if user else None)


def uploaded(world: World, owner: User, name: str) -> str:
    """A file made ready the real way: presigned POST to S3, then the processor on its notification."""
    reply = world.files(owner)("POST", "/files", body={"name": name, "size": len(DATA),
                                                       "content_type": "text/plain"})
    assert reply.status == 201, reply.body
    upload = reply.body["upload"]
    posted = requests.post(upload["url"], data=upload["fields"],
                           files={"file": ("blob", DATA, "text/plain")}, timeout=30)
    assert posted.status_code == 204, posted.text
    result = invoke("processor", sqs_event(s3_notification(settings().upload_bucket,
                                                           upload["fields"]["key"], len(DATA))))
    assert failed_ids(result) == []
    file_id = str(reply.body["file_id"])
    assert world.files(owner)("GET", f"/files/{file_id}").body["status"] == "ready"
    return file_id


def download_by_link(world: World, token: str, ip: str) -> Reply:
    """``GET /s/{token}`` from a browser on Windows, as the gateway passes it."""
    ev = event("GET", f"/s/{token}", resource="/s/{token}", path_parameters={"token": token},
               headers={"User-Agent": FIREFOX, "CloudFront-Viewer-Country": "NL"})
    ev["requestContext"]["identity"]["sourceIp"] = ip
    return call(world.public_module.lambda_handler, ev)


def act(world: World, trash_module: ModuleType, owner: User, viewer: User, ip: str,
        name: str = "plan.txt") -> str:
    """Every action of ``SCENARIO`` on one new file of ``owner``; the file's id."""
    file_id = uploaded(world, owner, name)
    assert world.files(owner)("PATCH", f"/files/{file_id}", body={"name": "plan v2.txt"}).status == 200
    share = world.share(owner, file_id, viewer)
    link = world.link(owner, file_id)
    token = str(link["url"]).rsplit("/", 1)[1]
    assert download_by_link(world, token, ip).status == 302
    assert world.sharing(owner)("DELETE", f"/files/{file_id}/shares/{share['share_id']}").status == 204
    assert world.files(owner)("DELETE", f"/files/{file_id}").status == 204
    assert Api(trash_module, owner.claims)("POST", f"/files/{file_id}/restore").status == 200
    return file_id


def outbox_events(world: World, file_id: str) -> list[bytes]:
    return [json.dumps(r["payload"]).encode() for r in world.outbox(file_id)]


def msk(values: list[bytes]) -> dict[str, Any]:
    records = [KafkaRecord(TOPIC, 0, i, int(time.time() * 1000), 0, None, value, (("event-type", b"x"),))
               for i, value in enumerate(values)]
    return msk_event(records, cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/t/1",
                     bootstrap="127.0.0.1:9092")


def consume(module: ModuleType, values: list[bytes]) -> list[dict[str, Any]]:
    """The activity function on one MSK batch; the batchItemFailures it reports."""
    from tests.support.apigw import FakeContext

    result = module.lambda_handler(msk(values), FakeContext(function_name="activity"))
    return list(result.get("batchItemFailures", []))


def whole_feed(module: ModuleType, owner: User, file_id: str, limit: int = 3) -> list[dict[str, Any]]:
    """Every page of the file's feed, following ``next_cursor``."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        reply = feed_api(module, owner)("GET", f"/files/{file_id}/activity", query=query)
        assert reply.status == 200, reply.body
        items += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return items


def assert_scenario_feed(items: list[dict[str, Any]], file_id: str, viewer: User, ip: str) -> None:
    assert [i["action"] for i in items] == list(reversed(SCENARIO))  # each once, newest first
    assert len({i["activity_id"] for i in items}) == len(items)
    assert all(i["file_id"] == file_id for i in items)
    times = [i["occurred_at"] for i in items]
    assert times == sorted(times, reverse=True)
    by_action = {i["action"]: i for i in items}
    assert by_action["renamed"]["details"] == {"name": "plan v2.txt"}
    assert by_action["shared"]["details"] == {"permission": "viewer", "recipient": viewer.email}
    assert by_action["share_revoked"]["details"] == {"recipient": viewer.email}
    download = by_action["link_downloaded"]
    network = ".".join(ip.split(".")[:3]) + ".0/24"
    assert download["client"] == {"browser": "Firefox", "os": "Windows", "network": network, "country": "NL"}
    assert download["details"]["downloads"] == 1
    text = json.dumps(items)
    assert ip not in text and "token" not in text and "/s/" not in text  # no address, no link secret


# ---- end to end through Kafka ---------------------------------------------------------------------

def test_each_action_reaches_the_feed_once_and_in_order_via_kafka(
        world: World, trash_module: ModuleType, activity_module: ModuleType, alice: User, bob: User,
        ip: str, tmp_path: Any) -> None:
    """handlers -> outbox -> Kafka (inline publish) -> the runtime's MSK poller -> the activity function
    in a worker process -> PostgreSQL, with a consumer group of its own joined before the actions."""
    from infra.declaration import KafkaTrigger, by_name, namespace_of
    from lambdarun.runtime import Runtime
    from lambdarun.sources.kafka import KafkaPoller
    from tests.support.runtime import load_test_env

    world.register(alice)
    world.register(bob)
    function = by_name("activity")
    [declared] = function.triggers
    assert isinstance(declared, KafkaTrigger) and declared.topic == TOPIC
    # A group of its own, from now on: the topic's history is other tests' business.
    trigger = replace(declared, topic=namespace_of(os.environ).physical(declared.topic),
                      consumer_group=f"test-activity-{uuid.uuid4().hex[:8]}", starting_position="LATEST")
    runtime = Runtime([function], base_env=load_test_env(), log_dir=tmp_path / "logs")
    poller = KafkaPoller(runtime.invoke, function.name, trigger,
                         bootstrap=os.environ["KAFKA_BOOTSTRAP_SERVERS"], aws_region="us-east-1")
    try:
        poller.connect()
        poller.join(limit_s=LIMIT_S)
        file_id = act(world, trash_module, alice, bob, ip)
        deadline = time.monotonic() + LIMIT_S
        count = 0
        while count < len(SCENARIO) and time.monotonic() < deadline:
            poller.poll_once(timeout_ms=500)
            count = world.db.execute("SELECT count(*) AS n FROM activity WHERE file_id = %s",
                                     (file_id,)).fetchone()["n"]
    finally:
        poller.close()
        runtime.close()
    assert_scenario_feed(whole_feed(activity_module, alice, file_id), file_id, bob, ip)


# ---- duplicates and reordering -----------------------------------------------------------------------

def test_duplicated_and_reordered_deliveries_are_absorbed(
        world: World, trash_module: ModuleType, activity_module: ModuleType, alice: User, bob: User,
        ip: str) -> None:
    world.register(alice)
    world.register(bob)
    file_id = act(world, trash_module, alice, bob, ip)
    values = outbox_events(world, file_id)
    assert len(values) == len(SCENARIO)  # one event per action, in the change's own transaction

    # When Kafka delivers them twice, out of order, and once more in a later batch
    shuffled = values * 2
    random.Random(14).shuffle(shuffled)
    assert consume(activity_module, shuffled) == []
    assert consume(activity_module, list(reversed(values))) == []

    # Then each action is in the feed once, in the order it happened
    assert_scenario_feed(whole_feed(activity_module, alice, file_id), file_id, bob, ip)


def test_events_that_are_no_action_are_acknowledged_and_garbage_fails_alone(
        world: World, activity_module: ModuleType, alice: User) -> None:
    world.register(alice)
    file_id = uploaded(world, alice, "one.txt")
    [ready] = outbox_events(world, file_id)
    future = b'{"type": "zip.ready", "version": 1, "archive_id": "a1"}'
    failures = consume(activity_module, [future, b"\x00 not an event", ready])
    assert failures == [{"itemIdentifier": {"partition": f"{TOPIC}-0", "offset": 1}}]
    assert [i["action"] for i in whole_feed(activity_module, alice, file_id)] == ["uploaded"]


# ---- who may read it ------------------------------------------------------------------------------------

def test_the_feed_is_the_owners_alone(
        world: World, activity_module: ModuleType, alice: User, bob: User, carol: User) -> None:
    world.register(alice)
    world.register(bob)
    world.register(carol)
    file_id = uploaded(world, alice, "private.txt")
    world.share(alice, file_id, bob)
    assert consume(activity_module, outbox_events(world, file_id)) == []
    path = f"/files/{file_id}/activity"

    assert feed_api(activity_module, alice)("GET", path).status == 200
    for stranger in (bob, carol):  # the viewer too: who opened what is the owner's business
        reply = feed_api(activity_module, stranger)("GET", path)
        assert (reply.status, reply.body["error"]["code"]) == (404, "file_not_found")
    missing = feed_api(activity_module, alice)("GET", f"/files/{uuid.uuid4()}/activity")
    assert (missing.status, missing.body["error"]["code"]) == (404, "file_not_found")
    assert feed_api(activity_module, None)("GET", path).status == 401
    bad = feed_api(activity_module, alice)("GET", path, query={"cursor": "not-a-cursor"})
    assert (bad.status, bad.body["error"]["code"]) == (422, "invalid_cursor")


# ---- the export -------------------------------------------------------------------------------------

def _export_json(module: ModuleType, user: User, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"format": "json", "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        reply = feed_api(module, user)("GET", "/activity/export", query=query)
        assert reply.status == 200, reply.body
        items += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return items


def _export_csv(module: ModuleType, user: User, limit: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    cursor: str | None = None
    while True:
        query = {"format": "csv", "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        reply = call(module.lambda_handler, event("GET", "/activity/export", query=query, claims=user.claims))
        assert reply.status == 200, reply.body
        headers = {k.lower(): v for k, v in reply.headers.items()}
        assert headers["content-type"].startswith("text/csv")
        assert "attachment" in headers["content-disposition"]
        rows += list(csv.DictReader(io.StringIO(reply.body)))
        cursor = headers.get("x-next-cursor")
        if not cursor:
            return rows


def test_the_export_holds_exactly_the_owners_events_in_json_and_csv(
        world: World, trash_module: ModuleType, activity_module: ModuleType, alice: User, bob: User,
        ip: str) -> None:
    world.register(alice)
    world.register(bob)
    # Given alice's two files (one named like a spreadsheet formula) and bob's own file
    first = act(world, trash_module, alice, bob, ip)
    formula = uploaded(world, alice, "=HYPERLINK(1+2).txt")
    theirs = uploaded(world, bob, "bobs.txt")
    world.share(bob, theirs, alice)  # bob's action on bob's file: not alice's to export
    for file_id in (first, formula, theirs):
        assert consume(activity_module, outbox_events(world, file_id)) == []
    alice_events = {json.loads(v)["id"] for f in (first, formula) for v in outbox_events(world, f)}

    # When alice exports, in pages of 4, as JSON and as CSV
    items = _export_json(activity_module, alice, limit=4)
    rows = _export_csv(activity_module, alice, limit=4)

    # Then both hold every event of her files, once, oldest first, and nothing of bob's
    assert [i["activity_id"] for i in items] == [r["activity_id"] for r in rows]
    assert set(r["activity_id"] for r in rows) == alice_events and len(rows) == len(alice_events)
    assert {i["file_id"] for i in items} == {first, formula}
    times = [i["occurred_at"] for i in items]
    assert times == sorted(times)
    # a formula-looking name is text in the CSV, and the download's client is coarse
    assert {r["file_name"] for r in rows if r["file_id"] == formula} == {"'=HYPERLINK(1+2).txt"}
    [download] = [r for r in rows if r["action"] == "link_downloaded"]
    assert (download["client_browser"], download["client_os"], download["client_country"]) == (
        "Firefox", "Windows", "NL")
    assert ip not in json.dumps(rows)
    # bob's export has only his file
    assert {i["file_id"] for i in _export_json(activity_module, bob, limit=100)} == {theirs}


def test_a_bad_export_format_is_a_422(activity_module: ModuleType, world: World, alice: User) -> None:
    world.register(alice)
    reply = feed_api(activity_module, alice)("GET", "/activity/export", query={"format": "xlsx"})
    assert (reply.status, reply.body["error"]["code"]) == (422, "validation_failed")
    assert feed_api(activity_module, None)("GET", "/activity/export").status == 401


# ---- retention -------------------------------------------------------------------------------------------

def test_housekeeping_prunes_activity_past_retention_in_bounded_batches(
        world: World, alice: User, override_settings: Any) -> None:
    from fileshare import housekeeping

    world.register(alice)
    file_id = uuid.uuid4()

    def row(days_ago: int) -> uuid.UUID:
        event_id = uuid.uuid4()
        world.db.execute(
            "INSERT INTO activity (event_id, owner_id, file_id, action, event_type, occurred_at, file_name)"
            " VALUES (%s, %s, %s, 'trashed', 'file.trashed', now() - make_interval(days => %s), 'old.txt')",
            (event_id, alice.user_id, file_id, days_ago))
        return event_id

    old = [row(4000 + i) for i in range(5)]
    recent = row(1)
    override_settings(ACTIVITY_RETENTION_DAYS="30")

    # Out of time: nothing is pruned
    assert housekeeping.run(has_time=lambda: False).activity_pruned == 0
    # With time, batches of 2 work the backlog off, and the recent row stays
    result = housekeeping.run(batch=2)
    assert result.activity_pruned >= 5
    left = world.db.execute("SELECT event_id FROM activity WHERE file_id = %s", (file_id,)).fetchall()
    assert {r["event_id"] for r in left} == {recent}
    assert old  # the five rows were there to prune


# ---- folders: their own changes in the export, a file's moves in its feed ---------------------------

def test_folder_changes_reach_the_export_and_a_files_moves_its_feed(
        world: World, activity_module: ModuleType, alice: User) -> None:
    world.register(alice)
    files = world.files(alice)

    def folder(name: str, parent: str | None = None) -> str:
        reply = files("POST", "/folders", body={"name": name, **({"parent_id": parent} if parent else {})})
        assert reply.status == 201, reply.body
        return str(reply.body["folder_id"])

    # Given folders A and B, and C inside A, renamed, then moved into B
    a_name, b_name = f"A-{uuid.uuid4().hex[:6]}", f"B-{uuid.uuid4().hex[:6]}"
    a, b = folder(a_name), folder(b_name)
    c = folder("C", a)
    assert files("PATCH", f"/folders/{c}", body={"name": "C2"}).status == 200
    assert files("PATCH", f"/folders/{c}", body={"parent_id": b}).status == 200
    # and a file uploaded at the root, moved into A, then into B
    file_id = uploaded(world, alice, "moving.txt")
    for target in (a, b):
        assert files("PATCH", f"/files/{file_id}", body={"folder_id": target}).status == 200
    assert files("PATCH", f"/folders/{c}", body={"name": "C2"}).status == 200  # no change: no event

    # Each change wrote exactly one event, in its own transaction
    folder_events = {f: outbox_events(world, f) for f in (a, b, c)}
    assert [json.loads(v)["type"] for v in folder_events[c]] == [
        "folder.created", "folder.updated", "folder.updated"]
    assert consume(activity_module, [v for vs in folder_events.values() for v in vs]
                   + outbox_events(world, file_id)) == []

    # Then the file's feed shows both moves, where from and where to
    feed = whole_feed(activity_module, alice, file_id)
    assert [i["action"] for i in feed] == ["moved", "moved", "uploaded"]
    assert feed[0]["details"] == {"from_folder_id": a, "from_folder": a_name, "to_folder_id": b,
                                  "to_folder": b_name}
    assert feed[1]["details"] == {"from_folder_id": None, "from_folder": None, "to_folder_id": a,
                                  "to_folder": a_name}
    # and the export holds the folders' own rows (keyed by the folder's id), oldest first
    mine = [i for i in _export_json(activity_module, alice, limit=50) if i["file_id"] in (a, b, c)]
    assert [(i["file_id"], i["action"]) for i in mine] == [
        (a, "folder_created"), (b, "folder_created"), (c, "folder_created"), (c, "folder_renamed"),
        (c, "folder_moved")]
    renamed, moved = mine[3], mine[4]
    assert renamed["details"] == {"folder": True, "name": "C2", "previous_name": "C"}
    assert renamed["file_name"] == "C2"
    assert moved["details"] == {"folder": True, "from_folder_id": a, "from_folder": a_name,
                                "to_folder_id": b, "to_folder": b_name}
    # a folder is no file: its id has no file feed
    reply = feed_api(activity_module, alice)("GET", f"/files/{c}/activity")
    assert (reply.status, reply.body["error"]["code"]) == (404, "file_not_found")
