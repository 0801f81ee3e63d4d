"""The OpenSearch request the search use case builds (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fileshare import cursor
from fileshare.errors import ValidationFailed
from fileshare.search.query import SearchQuery, build_query


def filters(body: dict) -> list[dict]:
    return body["query"]["bool"]["filter"]


def test_always_filtered_by_the_readers_acl_and_hides_trashed() -> None:
    body = build_query("user-1", SearchQuery())
    assert {"term": {"readers": "user-1"}} in filters(body)
    assert body["query"]["bool"]["must_not"] == [{"terms": {"status": ["trashed", "deleting"]}}]
    assert body["sort"] == [{"created_at": "desc"}, {"file_id": "asc"}]


def test_type_is_a_category_or_an_exact_content_type() -> None:
    assert {"term": {"category": "image"}} in filters(build_query("u", SearchQuery(type="Image")))
    assert {"term": {"content_type": "image/png"}} in filters(build_query("u", SearchQuery(type="image/png")))


def test_text_tag_dates_and_cursor() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    after = cursor.encode([1.2, 1767225600000, "f"])
    body = build_query("u", SearchQuery(q=" report ", tag="Work", created_from=start, created_to=end,
                                        limit=5, after=after))
    assert body["query"]["bool"]["must"][0]["multi_match"]["query"] == "report"
    assert {"term": {"tags": "work"}} in filters(body)
    assert {"range": {"created_at": {"gte": start.isoformat(), "lte": end.isoformat()}}} in filters(body)
    assert body["sort"][0] == {"_score": "desc"} and body["search_after"] == [1.2, 1767225600000, "f"]
    assert body["size"] == 5


def test_rejects_reversed_dates_and_a_cursor_of_the_wrong_shape() -> None:
    with pytest.raises(ValidationFailed):
        build_query("u", SearchQuery(created_from=datetime(2026, 2, 1, tzinfo=UTC),
                                     created_to=datetime(2026, 1, 1, tzinfo=UTC)))
    with pytest.raises(ValidationFailed):  # a text-search cursor has 3 values, a plain one 2
        build_query("u", SearchQuery(after=cursor.encode([1.0, 2, "x"])))


def test_folder_grants_widen_the_acl_filter_and_nothing_else() -> None:
    body = build_query("u", SearchQuery(q="plan"), folder_ids=["f1", "f2"])
    acl = filters(body)[0]
    assert acl == {"bool": {"minimum_should_match": 1, "should": [
        {"term": {"readers": "u"}}, {"terms": {"folder_id": ["f1", "f2"]}}]}}
    # without folder grants the filter is exactly the readers term (no empty terms clause)
    assert filters(build_query("u", SearchQuery(q="plan")))[0] == {"term": {"readers": "u"}}
