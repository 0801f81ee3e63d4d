"""The search API (functions/search) against the real local OpenSearch and PostgreSQL.

Files are created through the files API, marked ready and indexed with the processor's own
document builder (``search_index.search_document``), as the processing pipeline would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fileshare.config import settings
from tests.integration.conftest import Api, User


@pytest.fixture
def indexed(files_module: Any, db: Any, opensearch: Any) -> Any:
    """Create a ready, indexed file for ``user``; returns its id."""
    from fileshare.search.index import search_document

    def make(user: User, name: str, content_type: str = "text/plain", tags: list[str] | None = None) -> str:
        reply = Api(files_module, user.claims)("POST", "/files", body={
            "name": name, "size": 10, "content_type": content_type, "tags": tags or []})
        assert reply.status == 201, reply.body
        file_id = reply.body["file_id"]
        row = db.execute("UPDATE files SET status = 'ready' WHERE file_id = %s RETURNING *",
                         (file_id,)).fetchone()
        opensearch.index(index=settings().search_alias, id=file_id, body=search_document(row, [user.user_id]),
                         refresh=True)
        return file_id
    return make


def ids(reply: Any) -> list[str]:
    assert reply.status == 200, reply.body
    return [item["file_id"] for item in reply.body["items"]]


def test_search_by_name_word_and_prefix_only_my_files(search_module: Any, indexed: Any, alice: User,
                                                      bob: User) -> None:
    api = Api(search_module, alice.claims)
    report = indexed(alice, "Quarterly-Report 2026.pdf", "application/pdf", ["finance"])
    photo = indexed(alice, "holiday photo.jpg", "image/jpeg", ["family"])
    bobs = indexed(bob, "Quarterly-Report 2026.pdf", "application/pdf", ["finance"])

    assert ids(api("GET", "/search", query={"q": "quarterly"})) == [report]
    assert ids(api("GET", "/search", query={"q": "quart"})) == [report]  # a word's start
    assert ids(api("GET", "/search", query={"q": "holiday pho"})) == [photo]
    assert ids(api("GET", "/search", query={"q": "nothing-like-this"})) == []
    assert set(ids(api("GET", "/search"))) == {report, photo}  # no q: everything of mine, newest first
    assert ids(Api(search_module, bob.claims)("GET", "/search", query={"q": "quarterly"})) == [bobs]


def test_filters_type_tag_and_dates(search_module: Any, indexed: Any, alice: User) -> None:
    api = Api(search_module, alice.claims)
    pdf = indexed(alice, "a.pdf", "application/pdf", ["finance", "2026"])
    png = indexed(alice, "b.png", "image/png", ["family"])
    jpg = indexed(alice, "c.jpg", "image/jpeg", ["family"])

    assert set(ids(api("GET", "/search", query={"type": "image"}))) == {png, jpg}
    assert ids(api("GET", "/search", query={"type": "image/png"})) == [png]
    assert ids(api("GET", "/search", query={"tag": "Finance"})) == [pdf]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert ids(api("GET", "/search", query={"from": future})) == []
    assert set(ids(api("GET", "/search", query={"from": past, "to": future}))) == {pdf, png, jpg}


def test_trashed_files_are_not_found(search_module: Any, files_module: Any, indexed: Any,
                                     alice: User) -> None:
    file_id = indexed(alice, "to be trashed.txt")
    api = Api(search_module, alice.claims)
    assert ids(api("GET", "/search", query={"q": "trashed"})) == [file_id]
    assert Api(files_module, alice.claims)("DELETE", f"/files/{file_id}").status == 204
    # The index still says ready until something reindexes it; PostgreSQL has the last word.
    assert ids(api("GET", "/search", query={"q": "trashed"})) == []


def test_pages_with_a_cursor(search_module: Any, indexed: Any, alice: User) -> None:
    api = Api(search_module, alice.claims)
    made = [indexed(alice, f"page test {i}.txt") for i in range(5)]
    for query in ({}, {"q": "page"}):
        seen: list[str] = []
        cursor = None
        while True:
            page = {**query, "limit": "2", **({"cursor": cursor} if cursor else {})}
            reply = api("GET", "/search", query=page)
            seen += ids(reply)
            cursor = reply.body["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(made) and len(seen) == 5, query


@pytest.mark.parametrize(("query", "code"), [
    ({"cursor": "bm90IGpzb24"}, "invalid_cursor"),
    ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "invalid_date_range"),
    ({"from": "yesterday"}, "validation_failed"),
    ({"limit": "500"}, "validation_failed"),
])
def test_bad_queries_are_422(search_module: Any, alice: User, query: dict[str, str], code: str) -> None:
    reply = Api(search_module, alice.claims)("GET", "/search", query=query)
    assert reply.status == 422 and reply.error_code == code, reply.body


def test_search_needs_a_caller(search_module: Any) -> None:
    reply = Api(search_module)("GET", "/search", query={"q": "x"})
    assert reply.status == 401 and reply.error_code == "unauthorized"
