"""The index side of search: the OpenSearch client, the files index behind its alias, a file's
document, and the indexer's sync that keeps documents in step with PostgreSQL."""

# The query side (the ACL-filtered search, re-checked in PostgreSQL) is ``fileshare.search.query``.
# opensearch-py is imported at the top of this module: a handler that does not search imports this
# module only inside the function that needs it (``from fileshare.search.index import client``),
# which keeps opensearch-py out of that function's cold start.

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from opensearchpy import OpenSearch, RequestsAWSV4SignerAuth, RequestsHttpConnection, helpers
from opensearchpy.exceptions import ConflictError, NotFoundError, OpenSearchException, RequestError

from fileshare import media
from fileshare.adapters import snapstart, tracing
from fileshare.adapters.observability import logger, metrics
from fileshare.config import Settings, settings
from fileshare.consumers import MalformedEventError, envelope
from fileshare.db import shares as shares_db
from fileshare.db import typed
from fileshare.db.connection import transaction
from fileshare.db.files import COLUMNS, FileRow
from fileshare.errors import DependencyUnavailable
from fileshare.event_types import EventType
from fileshare.lifecycle import FileStatus
from fileshare.timeouts import OPENSEARCH_RETRIES, OPENSEARCH_TIMEOUT_S

log = logging.getLogger(__name__)

# --- The client: plain HTTP locally, SigV4-signed in AWS -----------------------------------------

def client_from_settings(config: Settings | None = None) -> OpenSearch:
    """Build a client for ``OPENSEARCH_URL``; ``OPENSEARCH_AUTH=sigv4`` signs requests for Amazon
    OpenSearch Service (service ``es``) with the function's IAM credentials."""
    config = config or settings()
    if not config.opensearch_url:
        raise RuntimeError("OPENSEARCH_URL is not set")
    url = config.opensearch_url.rstrip("/")
    if config.opensearch_auth == "sigv4":
        import boto3  # only for SigV4 in AWS: it costs ~100 ms of every local cold start

        credentials = boto3.session.Session().get_credentials()
        if credentials is None:
            raise RuntimeError("OPENSEARCH_AUTH=sigv4 but no AWS credentials are available")
        return OpenSearch(
            hosts=[url],
            http_auth=RequestsAWSV4SignerAuth(credentials, config.region, "es"),
            use_ssl=urlsplit(url).scheme == "https",
            verify_certs=True,
            connection_class=RequestsHttpConnection,
            timeout=OPENSEARCH_TIMEOUT_S,  # x (1 + OPENSEARCH_RETRIES) attempts: fileshare.timeouts
            max_retries=OPENSEARCH_RETRIES,
            retry_on_timeout=True,
            transport_class=tracing.opensearch_transport(),
        )
    if config.opensearch_auth != "none":
        raise RuntimeError(f"OPENSEARCH_AUTH must be 'none' or 'sigv4', not {config.opensearch_auth!r}")
    return OpenSearch(hosts=[url], timeout=OPENSEARCH_TIMEOUT_S, max_retries=OPENSEARCH_RETRIES,
                      retry_on_timeout=True, transport_class=tracing.opensearch_transport())


@cache
def client() -> OpenSearch:
    """One client per process (built at first use, reused across warm Lambda invocations)."""
    return client_from_settings()


# --- The index: a versioned concrete index (``files-v1``, ``files-v2``...) behind an alias
# (``files``), so the mapping can change by building a new version and swapping the alias.
#
# Only core OpenSearch features are used (standard/simple analyzers, ``index_prefixes``, the
# built-in ``lowercase`` normalizer), so the same definition works on the minimal local node and in
# Amazon OpenSearch Service. Copying documents uses scroll + bulk from the client (no ``_reindex``).
#
# Searching names: ``name`` is split by the standard analyzer ("Report-2024.pdf" -> report,
# 2024.pdf) and ``name.parts`` by the simple analyzer (letters only: report, pdf). Both index
# prefixes, so ``search.name_query`` (a ``bool_prefix`` multi_match on both) finds a file by a word
# or a word's start.

MAPPING_VERSION = 1
NAME_FIELDS = ("name", "name.parts")

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


# --- A file's document ----------------------------------------------------------------------------

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


# --- The indexer's sync: keeps the index in step with PostgreSQL after metadata changes.
#
# For every event that can change what a file's search document should say (renamed, retagged, new
# expiry, trashed, restored, shared, unshared, deleted) the indexer does not apply the event's
# delta: it re-reads the file's *current* row and readers and writes the whole document (or deletes
# it). That makes it idempotent (a redelivery writes the same document) and order-insensitive (an
# old event processed late still writes today's state).
#
# Concurrent writers: sharing rewrites ``readers`` right after a share change, the processor
# creates the document when a file becomes ready. The indexer reads and writes while holding the
# file row's ``FOR NO KEY UPDATE`` lock, the lock sharing holds for the same purpose (and that every
# UPDATE of the row takes), so whichever writer goes last read the latest state. The processor only
# ever *creates* (``op_type=create``), so it never overwrites what the indexer wrote.
#
# Which files have a document: ready ones, and trashed ones that were ready before (kept with
# ``status: trashed``, which search excludes, so a restore only flips the status back). Pending,
# rejected, deleting and vanished files have none: the indexer deletes any it finds. It never
# creates a document for a pending file: that is the processor's job once the file is verified.

SYNCING: frozenset[str] = frozenset({
    EventType.FILE_UPDATED, EventType.FILE_VERSION_ADDED, EventType.FILE_TRASHED, EventType.FILE_RESTORED,
    EventType.FILE_DELETED, EventType.FILE_EXPIRED, EventType.SHARE_CREATED, EventType.SHARE_REVOKED,
})


class Action(StrEnum):
    INDEXED = "indexed"  # the document was written from the current row
    REMOVED = "removed"  # the file should have no document; any there was deleted
    IGNORED = "ignored"  # not an event that changes a document


def wants_document(row: Mapping[str, Any] | None) -> bool:
    """Whether a file in this state has a search document (pure)."""
    if row is None:
        return False
    if row["status"] == FileStatus.READY:
        return True
    return row["status"] == FileStatus.TRASHED and row.get("status_before_trash") == FileStatus.READY


def file_id_of(raw: bytes | str) -> UUID | None:
    """The file a record is about, if its type affects the index; None to acknowledge it unread.

    Only ``type`` and ``file_id`` are read: the current state comes from PostgreSQL, so the data
    (and its version) does not matter here.
    """
    payload = envelope(raw)
    if payload["type"] not in SYNCING:
        return None
    try:
        return UUID(str(payload.get("file_id")))
    except ValueError as exc:
        raise MalformedEventError(f"{payload['type']} without a valid file_id") from exc


def handle(raw: bytes | str) -> Action:
    """The indexer's record handler: re-sync the file the record is about, if any."""
    file_id = file_id_of(raw)
    return Action.IGNORED if file_id is None else sync_file(file_id)


def sync_file(file_id: UUID) -> Action:
    """Make the file's search document match PostgreSQL now. Raises when OpenSearch fails."""
    alias = settings().search_alias
    try:
        with transaction() as conn:
            row = typed.one(conn, FileRow,
                            f"SELECT {COLUMNS} FROM files WHERE file_id = %s FOR NO KEY UPDATE",  # noqa: S608
                            (file_id,))
            if wants_document(row):
                assert row is not None
                readers = shares_db.readers_for(conn, file_id)
                client().index(index=alias, id=str(file_id), body=search_document(row, readers))
                action = Action.INDEXED
            else:
                with suppress(NotFoundError):  # no document: nothing to remove
                    client().delete(index=alias, id=str(file_id))
                action = Action.REMOVED
    except OpenSearchException as exc:  # the record fails and is retried; the row stays as it is
        metrics.add_metric(name="IndexSyncFailed", unit="Count", value=1)
        raise DependencyUnavailable(f"search index update failed: {exc!r}") from exc
    metrics.add_metric(name="IndexSynced", unit="Count", value=1)
    logger.info("search document synced", extra={"file_id": str(file_id), "action": action.value})
    return action


# --- The use cases' writes: every document write outside the indexer's sync, with one guard (no
# ``OPENSEARCH_URL``, no search), the alias and the failure metric. The callers that do not search
# import this module inside the call (opensearch-py stays out of their cold start).

def enabled() -> bool:
    """Whether search is configured; without it every write below is skipped."""
    return bool(settings().opensearch_url)


def create_document(row: FileRow) -> None:
    """The processor's first document of a ready file, created once: an existing document means a
    previous attempt made it. Raises ``DependencyUnavailable`` (counted) when OpenSearch fails."""
    if not enabled():
        return
    # Under the file's row lock, like every share change: a share committed while we index either
    # is in ``readers`` here or finds the document when its own ACL sync runs after us.
    with transaction() as conn:
        if shares_db.lock_file(conn, row.file_id) is None:
            return  # purged meanwhile: nothing to make searchable
        readers = shares_db.readers_for(conn, row.file_id)
        try:
            client().index(index=settings().search_alias, id=str(row.file_id),
                           body=search_document(row, readers), op_type="create")
        except ConflictError:
            return
        except Exception as exc:
            metrics.add_metric(name="IndexingFailed", unit="Count", value=1)
            raise DependencyUnavailable(f"indexing failed: {exc!r}") from exc
    logger.info("search document created")


def sync(file_id: UUID) -> None:
    """``sync_file`` when search is configured (raises: the caller's record is retried)."""
    if enabled():
        sync_file(file_id)


def sync_quietly(file_ids: Iterable[UUID]) -> None:
    """Bring the files' documents in line with PostgreSQL now, after a committed restore or move:
    the indexer does the same from the events, so a failure is logged and counted, never raised."""
    if not enabled():
        return
    for file_id in file_ids:
        try:
            sync_file(file_id)
        except Exception as exc:
            logger.warning("inline search update failed; the indexer will catch up from the event",
                           extra={"file_id": str(file_id), "error": repr(exc)})
            metrics.add_metric(name="SearchStatusSyncFailed", unit="Count", value=1)


def sync_readers(file_id: UUID) -> bool:
    """Rewrite the document's ``readers`` from PostgreSQL; True if a document was updated.

    Runs after the share change committed, holding the file's row lock while it reads the readers
    and writes OpenSearch, so two concurrent share changes cannot leave an older ACL behind. A file
    not indexed yet (pending) has no document: the processor reads the readers when it indexes it.
    A failure is logged and counted, never raised: the change is committed, and search re-checks
    every hit against PostgreSQL, so a stale ``readers`` can hide a shared file but never leak one.
    """
    if not enabled():
        return False
    try:
        with transaction() as conn:
            if shares_db.lock_file(conn, file_id) is None:
                return False
            readers = shares_db.readers_for(conn, file_id)
            client().update(index=settings().search_alias, id=str(file_id),
                            body={"doc": {"readers": readers}}, refresh=True)
        return True
    except NotFoundError:
        return False
    except Exception as exc:
        logger.warning("search ACL update failed; search re-checks access in PostgreSQL",
                       extra={"file_id": str(file_id), "error": repr(exc)})
        metrics.add_metric(name="SearchAclSyncFailed", unit="Count", value=1)
        return False


def delete_document(file_id: UUID) -> None:
    """Remove a purged file's document; none there (never indexed, or an earlier attempt) is fine.
    Other failures raise: the deleter's record is retried."""
    if not enabled():
        return
    with suppress(NotFoundError):
        client().delete(index=settings().search_alias, id=str(file_id))


@snapstart.on_restore
def _after_restore() -> list[str]:
    """The OpenSearch client's connections must not outlive the snapshot."""
    if not client.cache_info().currsize:
        return []
    snapstart.quietly(lambda: client().close())
    client.cache_clear()
    return ["opensearch"]
