"""The query side of search: building the ACL-filtered OpenSearch query, running it, and re-checking
every hit in PostgreSQL (OpenSearch finds, PostgreSQL decides).

The query is always filtered by the ``readers`` ACL field (a term on the caller's user id) or the
folders the caller reads through a folder share. The hits' rows are then read from PostgreSQL and
authorized again there: the response shows current names and tags, and a file trashed, renamed or
unshared since it was indexed is never shown stale or to the wrong user. The index side (the
client, the mapping, documents and the indexer's sync) is ``fileshare.search.index``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy.exceptions import NotFoundError, OpenSearchException, RequestError

from fileshare import cursor
from fileshare.access import VIEWER_VISIBLE_STATUSES
from fileshare.adapters.observability import logger
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import folders as folders_db
from fileshare.db import shares as shares_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.errors import DependencyUnavailable, ValidationFailed
from fileshare.lifecycle import FileStatus
from fileshare.models import FileList
from fileshare.records import file_out, to_record
from fileshare.search import index as search_index

HIDDEN_STATUSES = (FileStatus.TRASHED.value, FileStatus.DELETING.value)  # = lifecycle.HIDDEN_FROM_SEARCH
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class SearchQuery:
    """What the caller asked for (already shape-validated by the API layer)."""

    q: str | None = None
    type: str | None = None  # a category ("image") or an exact content type ("image/png")
    tag: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 20
    after: str | None = None


def visible_to(user_id: str, folder_ids: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The ACL filter: only files the user owns or that are shared with them, or (``folder_ids``:
    the folders they read through a folder share) that are in one of those folders."""
    if not folder_ids:
        return {"term": {"readers": user_id}}
    return {"bool": {"minimum_should_match": 1, "should": [
        {"term": {"readers": user_id}}, {"terms": {"folder_id": list(folder_ids)}}]}}


def name_query(text: str) -> dict[str, Any]:
    """Match files whose name contains every word of ``text``, the last one possibly unfinished."""
    return {"multi_match": {"query": text, "type": "bool_prefix", "operator": "and",
                            "fields": list(search_index.NAME_FIELDS)}}


def build_query(user_id: str, query: SearchQuery,
                folder_ids: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The OpenSearch request body (pure; unit tested). ``folder_ids``: the folders the caller
    reads through folder shares (``search_folder_ids``)."""
    filters: list[dict[str, Any]] = [visible_to(user_id, folder_ids)]
    if query.type:
        kind = query.type.strip().lower()
        filters.append({"term": {"content_type": kind}} if "/" in kind else {"term": {"category": kind}})
    if query.tag:
        filters.append({"term": {"tags": query.tag.strip().lower()}})
    if query.created_from or query.created_to:
        if query.created_from and query.created_to and query.created_from > query.created_to:
            raise ValidationFailed("'from' is after 'to'", code="invalid_date_range")
        limits = (("gte", query.created_from), ("lte", query.created_to))
        bounds = {op: _utc_iso(when) for op, when in limits if when is not None}
        filters.append({"range": {"created_at": bounds}})
    text = (query.q or "").strip()
    body: dict[str, Any] = {
        "size": query.limit,
        "track_total_hits": False,
        "_source": ["file_id"],
        "query": {"bool": {"filter": filters,
                           "must_not": [{"terms": {"status": list(HIDDEN_STATUSES)}}]}},
    }
    if text:
        if len(text) > MAX_QUERY_CHARS:
            raise ValidationFailed(f"q has at most {MAX_QUERY_CHARS} characters", code="query_too_long")
        body["query"]["bool"]["must"] = [name_query(text)]
        body["sort"] = [{"_score": "desc"}, {"created_at": "desc"}, {"file_id": "asc"}]
    else:
        body["sort"] = [{"created_at": "desc"}, {"file_id": "asc"}]
    if query.after:
        # A position is (score,) created_at in epoch ms, file_id: anything else is a forged cursor,
        # which OpenSearch would refuse with a 400 (a 503 to the caller) if it were sent on.
        kinds: tuple[type, ...] = (float, int, str) if text else (int, str)
        body["search_after"] = cursor.decode(query.after, kinds=kinds)
    return body


def _utc_iso(when: datetime) -> str:
    """``when`` in UTC (OpenSearch's dates take offsets of at most 18 h; ISO 8601 allows 23:59),
    clamped to the years 1..9999 that both sides can represent."""
    try:
        return when.astimezone(UTC).isoformat()
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is in year 0
        return (datetime.min if when.year == 1 else datetime.max).replace(tzinfo=UTC).isoformat()


def search_files(user_id: str, query: SearchQuery) -> FileList:
    """One page of the files ``user_id`` may read that match ``query``, newest (or best) first."""
    with transaction() as conn:
        folder_ids = search_folder_ids(conn, user_id)
    body = build_query(user_id, query, folder_ids)
    try:
        result = search_index.client().search(index=settings().search_alias, body=body)
    except NotFoundError:  # nothing indexed yet: the index does not exist
        return FileList(items=[], next_cursor=None)
    except RequestError as exc:  # 400: the query itself (from the caller's input) was refused
        logger.warning("search refused the query", extra={"error": repr(exc)})
        raise ValidationFailed("the search cannot run with these parameters", code="invalid_search") from exc
    except OpenSearchException as exc:
        logger.warning("search failed", extra={"error": repr(exc)})
        raise DependencyUnavailable("search is unavailable; try again", code="search_unavailable") from exc
    hits = result["hits"]["hits"]
    ids = [uuid.UUID(str(h["_source"]["file_id"])) for h in hits]
    rows: dict[uuid.UUID, FileRow] = {}
    shared: set[uuid.UUID] = set()
    if ids:
        with transaction() as conn:
            rows = {r.file_id: r for r in files_db.get_many(conn, ids)}
            others = [i for i, r in rows.items() if r.owner_id != user_id]
            shared = shares_db.shared_among(conn, user_id, others)
            shared |= folders_db.readable_files(conn, user_id, [i for i in others if i not in shared],
                                                MAX_SEARCH_FOLDERS)
    items = [file_out(to_record(rows[i])) for i in ids
             if i in rows and _readable(rows[i], user_id, shared)]
    next_cursor = cursor.encode(hits[-1]["sort"]) if len(hits) == query.limit else None
    return FileList(items=items, next_cursor=next_cursor)


def _readable(row: FileRow, user_id: str, shared: set[uuid.UUID]) -> bool:
    """PostgreSQL's word on access: the owner, or a viewer (``shared``: the hits shared with the
    caller right now) while the file is visible to viewers."""
    if row.owner_id == user_id:
        return row.status not in HIDDEN_STATUSES
    return row.file_id in shared and row.status in VIEWER_VISIBLE_STATUSES


MAX_SEARCH_FOLDERS = 10_000  # folders one search filters on (terms filters take up to 65 536)


def search_folder_ids(conn: Any, user_id: str) -> list[str]:
    """The folders whose files a search by ``user_id`` may match through folder shares."""
    return [str(f) for f in folders_db.readable_folder_ids(conn, user_id, MAX_SEARCH_FOLDERS)]
