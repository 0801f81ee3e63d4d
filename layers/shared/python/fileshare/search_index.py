"""The OpenSearch index of files: a versioned concrete index (``files-v1``, ``files-v2``...) behind an
alias (``files``), so the mapping can change by building a new version and swapping the alias.

Only core OpenSearch features are used (standard/simple analyzers, ``index_prefixes``, the built-in
``lowercase`` normalizer), so the same definition works on the minimal local node and in Amazon
OpenSearch Service. Copying documents uses scroll + bulk from the client (no ``_reindex`` module).

Searching names: ``name`` is split by the standard analyzer ("Report-2024.pdf" -> report, 2024.pdf)
and ``name.parts`` by the simple analyzer (letters only: report, pdf). Both index prefixes, so
``name_query`` (a ``bool_prefix`` multi_match on both) finds a file by a word or a word's start.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import NotFoundError, RequestError

from fileshare import media

MAPPING_VERSION = 1
NAME_FIELDS = ("name", "name.parts")

log = logging.getLogger(__name__)

_PREFIXES = {"min_chars": 1, "max_chars": 10}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",  # an unknown field is an error, not a silently guessed mapping
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": {
        "file_id": {"type": "keyword"},
        "owner_id": {"type": "keyword"},
        # Who may see the file: the owner and every viewer it is shared with. Searches filter on it.
        "readers": {"type": "keyword"},
        "name": {
            "type": "text",
            "analyzer": "standard",
            "index_prefixes": _PREFIXES,
            "fields": {
                "keyword": {"type": "keyword", "ignore_above": 1024},
                "sort": {"type": "keyword", "normalizer": "lowercase", "ignore_above": 1024},
                "parts": {"type": "text", "analyzer": "simple", "index_prefixes": _PREFIXES},
            },
        },
        "content_type": {"type": "keyword"},
        "category": {"type": "keyword"},  # image, document, video, audio, archive, other
        "tags": {"type": "keyword"},
        "size": {"type": "long"},
        "status": {"type": "keyword"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "expires_at": {"type": "date"},
        "checksum_sha256": {"type": "keyword"},
        # The folder the file is directly in: searches match it against the folders the caller
        # reads through a folder share (resolved at query time, see ``fileshare.folders``).
        "folder_id": {"type": "keyword"},
    },
}
# Fields added to the mapping without a rebuild (additive, so older documents stay valid).
ADDED_FIELDS = ("folder_id",)

SETTINGS: dict[str, Any] = {
    "index": {
        "number_of_shards": 1,
        # No replica on a single local node (green), one replica where there are nodes for it.
        "auto_expand_replicas": "0-1",
    }
}


def index_body() -> dict[str, Any]:
    return {"settings": SETTINGS, "mappings": MAPPINGS}


def versioned_name(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def name_query(text: str) -> dict[str, Any]:
    """Match files whose name contains every word of ``text``, the last one possibly unfinished."""
    return {"multi_match": {"query": text, "type": "bool_prefix", "operator": "and",
                            "fields": list(NAME_FIELDS)}}


def visible_to(user_id: str, folder_ids: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The ACL filter: only files the user owns or that are shared with them, or (``folder_ids``:
    the folders they read through a folder share) that are in one of those folders."""
    if not folder_ids:
        return {"term": {"readers": user_id}}
    return {"bool": {"minimum_should_match": 1, "should": [
        {"term": {"readers": user_id}}, {"terms": {"folder_id": list(folder_ids)}}]}}


def _versions(client: OpenSearch, alias: str) -> list[int]:
    """Version numbers of the existing ``<alias>-v<N>`` indices, ascending."""
    pattern = re.compile(rf"^{re.escape(alias)}-v(\d+)$")
    names = client.indices.get(index=f"{alias}-v*", expand_wildcards="all", allow_no_indices=True)
    return sorted(int(m.group(1)) for name in names if (m := pattern.match(name)))


def alias_targets(client: OpenSearch, alias: str) -> list[str]:
    """The concrete indices ``alias`` points to (empty when the alias does not exist)."""
    try:
        return sorted(client.indices.get_alias(name=alias))
    except NotFoundError:
        return []


def ensure_index(client: OpenSearch, alias: str) -> str:
    """Make sure ``alias`` points to a versioned files index; return that index's name. Idempotent,
    and safe when two callers race (the loser finds what the winner created)."""
    targets = alias_targets(client, alias)
    if len(targets) == 1:
        _add_fields(client, targets[0])
        return targets[0]
    if targets:
        raise RuntimeError(f"alias {alias!r} points to several indices: {targets}")
    if client.indices.exists(index=alias):
        raise RuntimeError(f"{alias!r} is a concrete index, not an alias (was it auto-created by a "
                           "write before provisioning?); delete it, then ensure the index again")
    versions = _versions(client, alias)
    if versions:  # an index without its alias: a half-finished setup; adopt the newest
        index = versioned_name(alias, versions[-1])
        client.indices.put_alias(index=index, name=alias)
        return index
    index = versioned_name(alias, 1)
    try:
        client.indices.create(index=index, body={**index_body(), "aliases": {alias: {}}})
    except RequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        return ensure_index(client, alias)
    log.info("created search index %s behind alias %s", index, alias)
    return index


def _add_fields(client: OpenSearch, index: str) -> None:
    """Add the ``ADDED_FIELDS`` an index created before them lacks (a mapping may gain fields)."""
    present = client.indices.get_mapping(index=index)[index]["mappings"].get("properties", {})
    missing = {f: MAPPINGS["properties"][f] for f in ADDED_FIELDS if f not in present}
    if missing:
        client.indices.put_mapping(index=index, body={"properties": missing})


def mapping_version(client: OpenSearch, index: str) -> int:
    """The ``MAPPING_VERSION`` an index was created with (0 when it does not say)."""
    mappings = client.indices.get_mapping(index=index)[index]["mappings"]
    return int(mappings.get("_meta", {}).get("mapping_version", 0))


def needs_rebuild(client: OpenSearch, alias: str) -> bool:
    """True when the alias's index was built from an older mapping than this code's."""
    targets = alias_targets(client, alias)
    return len(targets) == 1 and mapping_version(client, targets[0]) < MAPPING_VERSION


def rebuild_index(client: OpenSearch, alias: str, *, keep_old: bool = False) -> str:
    """Create the next version with the current mapping, copy every document into it and swap the
    alias in one atomic request; return the new index's name.

    The old index is write-blocked during the copy, so a concurrent write fails (and is retried by
    its at-least-once caller after the swap) instead of landing in an index about to be dropped.
    The old index is deleted afterwards unless ``keep_old``.
    """
    old = ensure_index(client, alias)
    new = versioned_name(alias, max(_versions(client, alias), default=0) + 1)
    client.indices.create(index=new, body=index_body())
    client.indices.put_settings(index=old, body={"index.blocks.write": True})
    try:
        helpers.reindex(client, source_index=old, target_index=new, chunk_size=500,
                        bulk_kwargs={"raise_on_error": True})
        client.indices.refresh(index=new)
        copied, expected = (client.count(index=i)["count"] for i in (new, old))
        if copied != expected:
            raise RuntimeError(f"rebuild of {alias}: copied {copied} of {expected} documents")
        client.indices.update_aliases(body={"actions": [
            {"remove": {"index": old, "alias": alias}},
            {"add": {"index": new, "alias": alias}},
        ]})
    except Exception:
        client.indices.put_settings(index=old, body={"index.blocks.write": None})
        client.indices.delete(index=new, ignore_unavailable=True)
        raise
    log.info("rebuilt search index %s -> %s behind alias %s", old, new, alias)
    if not keep_old:
        client.indices.delete(index=old)
    return new


def search_document(row: Mapping[str, Any], readers: list[str]) -> dict[str, Any]:
    """The document for a file (the fields of ``MAPPINGS``, which is strict).

    ``readers`` is the search ACL: the owner and every user the file is shared with.
    """
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "file_id": str(row["file_id"]),
        "owner_id": row["owner_id"],
        "readers": readers,
        "name": row["name"],
        "content_type": row["content_type"],
        "category": media.category(row["content_type"]),
        "tags": list(row.get("tags") or []),
        "size": int(row["size"]),
        "status": row["status"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row.get("updated_at")),
        "expires_at": iso(row.get("expires_at")),
        "checksum_sha256": row.get("checksum_sha256"),
    } | ({"folder_id": str(row["folder_id"])} if row.get("folder_id") else {})
