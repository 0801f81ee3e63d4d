"""The local OpenSearch holds the files index: versioned behind an alias, searchable by name, rebuildable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping

import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import AuthorizationException, TransportError

from fileshare.config import Settings
from fileshare.search import index as search_index
from fileshare.search import query as search
from fileshare.search.index import client_from_settings


@pytest.fixture(scope="module")
def client() -> OpenSearch:
    url = os.environ.get("OPENSEARCH_URL")
    if not url:
        pytest.skip("OPENSEARCH_URL is not set (start the local stack first)")
    return client_from_settings(Settings(opensearch_url=url))


@pytest.fixture
def alias(client: OpenSearch) -> Iterator[str]:
    """A fresh alias per test, so runs never see each other's documents; its indices are dropped after."""
    name = f"test-files-{uuid.uuid4().hex[:12]}"
    yield name
    client.indices.delete(index=f"{name}-v*", expand_wildcards="all", ignore_unavailable=True)


def _doc(name: str, *, owner: str, readers: list[str] | None = None) -> dict[str, object]:
    file_id = str(uuid.uuid4())
    return {
        "file_id": file_id, "owner_id": owner, "readers": readers or [owner], "name": name,
        "content_type": "application/pdf", "category": "document", "tags": ["finance"], "size": 1234,
        "status": "ready", "created_at": "2026-11-24T10:00:00Z", "updated_at": "2026-11-24T10:00:00Z",
        "expires_at": None, "checksum_sha256": "0" * 64,
    }


def _ids(client: OpenSearch, alias: str, query: Mapping[str, object]) -> set[str]:
    result = client.search(index=alias, body={"query": query, "size": 50})
    return {hit["_id"] for hit in result["hits"]["hits"]}


def _index(client: OpenSearch, alias: str, doc: dict[str, object]) -> None:
    client.index(index=alias, id=str(doc["file_id"]), body=doc, refresh=True)


def test_production_alias_points_to_a_versioned_index(client: OpenSearch) -> None:
    # Given the provisioned stack / Then the app's alias exists and names exactly one versioned index
    alias = os.environ.get("SEARCH_ALIAS", "files")  # the test namespace's (.local/test.env)
    targets = search_index.alias_targets(client, alias)
    assert len(targets) == 1
    assert targets[0].startswith(f"{alias}-v")


def test_ensure_index_creates_a_versioned_index_once(client: OpenSearch, alias: str) -> None:
    # When the index is ensured twice
    first = search_index.ensure_index(client, alias)
    second = search_index.ensure_index(client, alias)
    # Then one versioned index exists behind the alias, with the strict mapping
    assert first == second == f"{alias}-v1"
    assert search_index.alias_targets(client, alias) == [first]
    mapping = client.indices.get_mapping(index=first)[first]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["readers"]["type"] == "keyword"


def test_document_is_found_by_name_word_and_prefix(client: OpenSearch, alias: str) -> None:
    # Given a file indexed through the alias, and another file with an unrelated name
    search_index.ensure_index(client, alias)
    report = _doc("Quarterly_Report-2024.pdf", owner="u-alice")
    other = _doc("holiday photo.jpg", owner="u-alice")
    for doc in (report, other):
        _index(client, alias, doc)
    # When searching by a whole word, by a word's start, and by the start of the name
    # Then only the report is found each time
    for text in ("report", "rep", "quarterly_rep", "Quarterly Report 2024", "2024"):
        assert _ids(client, alias, search.name_query(text)) == {report["file_id"]}, text
    assert _ids(client, alias, search.name_query("photo")) == {other["file_id"]}
    assert _ids(client, alias, search.name_query("invoice")) == set()


def test_readers_filter_hides_files_not_shared_with_the_user(client: OpenSearch, alias: str) -> None:
    # Given a file owned by alice shared with bob, and one only alice can see
    search_index.ensure_index(client, alias)
    shared = _doc("plan shared.txt", owner="u-alice", readers=["u-alice", "u-bob"])
    private = _doc("plan private.txt", owner="u-alice")
    for doc in (shared, private):
        _index(client, alias, doc)

    def visible(user: str) -> set[str]:
        return _ids(client, alias, {"bool": {"must": [search.name_query("plan")],
                                             "filter": [search.visible_to(user)]}})

    # Then each user sees exactly what they may see
    assert visible("u-alice") == {shared["file_id"], private["file_id"]}
    assert visible("u-bob") == {shared["file_id"]}
    assert visible("u-mallory") == set()


def test_unknown_field_is_rejected(client: OpenSearch, alias: str) -> None:
    # Given the strict mapping / When a document carries a field it does not declare / Then it fails
    search_index.ensure_index(client, alias)
    with pytest.raises(TransportError) as error:
        _index(client, alias, {**_doc("x.txt", owner="u-alice"), "secret_field": "nope"})
    assert error.value.status_code == 400


def test_rebuild_swaps_the_alias_and_keeps_the_documents(client: OpenSearch, alias: str) -> None:
    # Given a populated index
    old = search_index.ensure_index(client, alias)
    docs = [_doc(f"doc {i} budget.xlsx", owner="u-alice") for i in range(7)]
    for doc in docs:
        _index(client, alias, doc)

    # When it is rebuilt
    new = search_index.rebuild_index(client, alias)

    # Then the alias points to the next version only, the old one is gone, and every document
    # is still found through the alias, by name prefix too
    assert new == f"{alias}-v2"
    assert search_index.alias_targets(client, alias) == [new]
    assert not client.indices.exists(index=old)
    assert _ids(client, alias, search.name_query("budg")) == {d["file_id"] for d in docs}
    assert client.get(index=alias, id=docs[0]["file_id"])["_source"] == docs[0]
    # And ensure_index now returns the new version, and writes through the alias work again
    assert search_index.ensure_index(client, alias) == new
    _index(client, alias, _doc("after rebuild.txt", owner="u-alice"))


def test_old_index_is_write_blocked_when_kept(client: OpenSearch, alias: str) -> None:
    # Given a rebuild that keeps the old version for inspection
    old = search_index.ensure_index(client, alias)
    _index(client, alias, _doc("a.txt", owner="u-alice"))
    search_index.rebuild_index(client, alias, keep_old=True)
    # Then nothing can be written to the stale copy by mistake
    with pytest.raises((AuthorizationException, TransportError)):
        client.index(index=old, id="late", body=_doc("late.txt", owner="u-alice"))


def test_share_change_updates_readers_with_a_script(client: OpenSearch, alias: str) -> None:
    # Given a private file (the node has lang-painless and reindex, as Amazon OpenSearch Service does)
    search_index.ensure_index(client, alias)
    doc = _doc("shared later.txt", owner="u-alice")
    _index(client, alias, doc)
    add_reader = {"source": "if (!ctx._source.readers.contains(params.user)) "
                            "{ ctx._source.readers.add(params.user) }", "params": {"user": "u-bob"}}
    # When a share adds bob as a reader, twice (consumers are at-least-once)
    for _ in range(2):
        client.update(index=alias, id=doc["file_id"], body={"script": add_reader}, refresh=True)
    # Then bob finds it exactly once, and a by-query revoke removes him again
    query = {"bool": {"must": [search.name_query("shared")],
                      "filter": [search.visible_to("u-bob")]}}
    assert _ids(client, alias, query) == {doc["file_id"]}
    assert client.get(index=alias, id=doc["file_id"])["_source"]["readers"] == ["u-alice", "u-bob"]
    client.update_by_query(index=alias, refresh=True, body={
        "query": {"term": {"readers": "u-bob"}},
        "script": {"source": "ctx._source.readers.removeIf(r -> r == params.user)",
                   "params": {"user": "u-bob"}},
    })
    assert _ids(client, alias, query) == set()


def test_index_from_an_older_mapping_is_detected_and_rebuilt(client: OpenSearch, alias: str) -> None:
    # Given an index whose recorded mapping version is older than the code's
    old = search_index.ensure_index(client, alias)
    assert not search_index.needs_rebuild(client, alias)
    client.indices.put_mapping(index=old, body={"_meta": {"mapping_version": 0}})
    assert search_index.needs_rebuild(client, alias)
    # When it is rebuilt / Then the new version carries the current mapping version
    new = search_index.rebuild_index(client, alias)
    assert search_index.mapping_version(client, new) == search_index.MAPPING_VERSION
    assert not search_index.needs_rebuild(client, alias)
