"""Phase (d): issue 4's numbers: public-link redirects, search over 10 000 files, notification delivery.

Links: a ready file gets two public links (no password; password), each opened ``opens`` times in a
closed loop (``GET /s/{token}``, redirects not followed: the 302 is the answer), then revoked.

Search: a dedicated bench user gets ``docs`` realistic files at once: the PostgreSQL rows by COPY
(search re-reads and re-authorizes every hit there) and the search documents, built by
``fileshare.processing.search_document`` exactly as the processor builds them, by bulk index. Then
``queries`` varied searches run through the API (name prefix, tag, type, date range, combined),
and everything seeded is removed again (documents by id, rows by id), also when a step fails.

Notifications: ``tests/bench/notifications.py`` with the running gateway's notifier as consumer.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from tests.bench.api import grow_pools
from tests.bench.common import STOP, Client, CpuMeter, FlowError, User, percentile

LINK_PASSWORD = "bench-" + secrets.token_urlsafe(12)


def count_loop(clients: int, total: int, task: Callable[[int], None]) -> list[str]:
    """Run ``task(i)`` for i in 0..total-1 on ``clients`` threads, each starting its next task when
    its previous one finished (closed loop); returns the errors (at most 20)."""
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def loop() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None or STOP.is_set():
                return
            try:
                task(i)
            except (FlowError, requests.RequestException, KeyError, ValueError) as exc:
                with lock:
                    if len(errors) < 20:
                        errors.append(f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="issue4") as pool:
        for future in [pool.submit(loop) for _ in range(clients)]:
            future.result()
    return errors


# ---------------------------------------------------------------------------------------------
# public links


def link_phase(client: Client, owner: User, file_id: str, *, opens: int, clients: int) -> dict[str, Any]:
    """Open a no-password and a password link ``opens`` times each; phases label the calls."""
    result: dict[str, Any] = {"opens_each": opens, "clients": clients}
    client.phase = "links: setup"
    links = {
        "no password": client.call("POST", "POST /files/{id}/links", f"/files/{file_id}/links",
                                   token=owner.token, body={}, expect=(201,)),
        "password": client.call("POST", "POST /files/{id}/links", f"/files/{file_id}/links",
                                token=owner.token, body={"password": LINK_PASSWORD}, expect=(201,)),
    }
    try:
        for label, link in links.items():
            token = urlsplit(link["url"]).path.rsplit("/", 1)[1]
            headers = {"X-Link-Password": LINK_PASSWORD} if label == "password" else None

            def open_link(_i: int, token: str = token, headers: dict[str, str] | None = headers) -> None:
                response = client.request("GET", "GET /s/{token}", f"/s/{token}", headers=headers)
                if response.status_code != 302 or not response.headers.get("Location"):
                    raise FlowError(f"GET /s/... -> {response.status_code}: {response.text[:200]}")

            client.phase = "links: warm-up"  # the public_link pool grows to the loop's concurrency here
            grow_pools(client, None, [("GET", "GET /s/{token}", f"/s/{token}")], clients, rounds=1,
                       headers=headers)
            client.phase = f"links: {label}"
            cpu = CpuMeter().start()
            errors = count_loop(clients, opens, open_link)
            result[label] = {"errors": errors, "machine_busy_pct": cpu.busy_pct()}
    finally:
        client.phase = "links: setup"
        for link in links.values():
            try:
                client.call("DELETE", "DELETE /links/{id}", f"/links/{link['link_id']}", token=owner.token,
                            expect=(200, 204))
            except (FlowError, requests.RequestException) as exc:
                result.setdefault("cleanup_errors", []).append(str(exc))
    return result


# ---------------------------------------------------------------------------------------------
# search over many files

_DOCS = (  # (name stem, extension, content type)
    ("Quarterly report", "pdf", "application/pdf"),
    ("Invoice", "pdf", "application/pdf"),
    ("Contract", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("Meeting notes", "txt", "text/plain"),
    ("Budget", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("Presentation", "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("Design spec", "md", "text/markdown"),
    ("Holiday photo", "jpg", "image/jpeg"),
    ("Screenshot", "png", "image/png"),
    ("Recording", "mp3", "audio/mpeg"),
    ("Team video", "mp4", "video/mp4"),
    ("Backup", "zip", "application/zip"),
)
_TAGS = ("finance", "legal", "hr", "travel", "family", "project-apollo", "project-zephyr", "archive",
         "draft", "final", "clients", "internal")
_PREFIXES = ("quar", "inv", "contr", "meet", "budg", "pres", "desig", "holi", "scree", "rec", "img", "backu")
_TYPES = ("image", "document", "video", "audio", "application/pdf", "image/png", "text/plain")
SPAN_DAYS = 730


def _rows(owner_id: str, count: int, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    from fileshare.adapters.storage import object_key

    rows = []
    for i in range(count):
        stem, ext, ctype = rng.choice(_DOCS)
        created = now - timedelta(seconds=rng.uniform(0, SPAN_DAYS * 86400))
        if ext in ("jpg", "png") and rng.random() < 0.5:
            name = f"IMG_{created:%Y%m%d_%H%M%S}.{ext}"
        else:
            name = f"{stem} {created:%Y-%m} {i}.{ext}"
        file_id = uuid.uuid4()
        rows.append({
            "file_id": file_id, "owner_id": owner_id, "name": name,
            "s3_key": object_key(owner_id, file_id, name), "size": rng.randint(1_000, 50_000_000),
            "content_type": ctype, "status": "ready", "checksum_sha256": secrets.token_hex(32),
            "tags": sorted(rng.sample(_TAGS, rng.randint(0, 3))),
            "created_at": created, "updated_at": created, "expires_at": None,
        })
    return rows


_COLUMNS = ("file_id", "owner_id", "name", "s3_key", "size", "content_type", "status", "checksum_sha256",
            "tags", "created_at", "updated_at")


@contextmanager
def seeded_files(owner_id: str, count: int, rng: random.Random,
                 database_url: str) -> Iterator[dict[str, Any]]:
    """``count`` ready files of ``owner_id`` in PostgreSQL and the search index; removed on exit."""
    import psycopg
    from opensearchpy import helpers

    from fileshare.config import settings
    from fileshare.search.index import client as search_client
    from fileshare.search.index import ensure_index, search_document

    rows = _rows(owner_id, count, rng, datetime.now(UTC))
    ids = [str(r["file_id"]) for r in rows]
    alias = settings().search_alias
    search = search_client()
    info: dict[str, Any] = {"docs": count}
    try:
        started = time.monotonic()
        with (psycopg.connect(database_url, options="-c statement_timeout=0") as conn, conn.cursor() as cur,
              cur.copy(f"COPY files ({', '.join(_COLUMNS)}) FROM STDIN") as copy):
            for row in rows:
                copy.write_row(tuple(row[c] for c in _COLUMNS))
        info["copy_rows_s"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        ensure_index(search, alias)
        actions = ({"_index": alias, "_id": str(r["file_id"]), "_source": search_document(r, [owner_id])}
                   for r in rows)
        indexed, failures = helpers.bulk(search, actions, chunk_size=1000, raise_on_error=False,
                                         request_timeout=60)
        search.indices.refresh(index=alias)
        info.update(indexed=indexed, index_failures=len(failures) if isinstance(failures, list) else failures,
                    bulk_index_s=round(time.monotonic() - started, 2))
        yield info
    finally:
        started = time.monotonic()
        try:  # each store on its own: one failing does not leave the other's copies behind
            _, failed = helpers.bulk(search, ({"_op_type": "delete", "_index": alias, "_id": i} for i in ids),
                                     chunk_size=2000, raise_on_error=False, request_timeout=60)
            search.indices.refresh(index=alias)
            info["cleanup_doc_failures"] = len(failed) if isinstance(failed, list) else failed
        except Exception as exc:  # reported; the documents' rows are gone, so no search shows them
            info["cleanup_doc_failures"] = f"{type(exc).__name__}: {exc}"
        with psycopg.connect(database_url) as conn:
            info["cleanup_rows_deleted"] = conn.execute(
                "DELETE FROM files WHERE owner_id = %s AND file_id::text = ANY(%s)", (owner_id, ids)).rowcount
        info["cleanup_s"] = round(time.monotonic() - started, 2)


def _query(kind: str, rng: random.Random, now: datetime) -> dict[str, str]:
    def window(days: int = 30) -> dict[str, str]:
        start = now - timedelta(days=rng.uniform(days, SPAN_DAYS))
        return {"from": start.isoformat(), "to": (start + timedelta(days=days)).isoformat()}

    if kind == "name prefix":
        return {"q": rng.choice(_PREFIXES)}
    if kind == "tag":
        return {"tag": rng.choice(_TAGS)}
    if kind == "type":
        return {"type": rng.choice(_TYPES)}
    if kind == "date range":
        return window()
    from fileshare.media import category

    stem, _, ctype = rng.choice(_DOCS)  # combined: a name's start, its kind and half a year
    return {"q": stem[:4].lower(), "type": category(ctype), **window(180)}


QUERY_KINDS = ("name prefix", "tag", "type", "date range", "combined")


def search_phase(client: Client, user: User, *, docs: int, queries: int, clients: int, seed: int,
                 database_url: str) -> dict[str, Any]:
    """Seed, query through the API, clean up. Latencies come from the client's calls (phase labels)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    kinds = [QUERY_KINDS[i % len(QUERY_KINDS)] for i in range(queries)]
    plan = [(kind, _query(kind, rng, now)) for kind in kinds]
    hits: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def one(i: int) -> None:
        kind, params = plan[i]
        body = client.call("GET", f"GET /search ({kind})", "/search?" + urlencode({**params, "limit": 20}),
                           token=user.token)
        with lock:
            hits[kind].append(len(body["items"]))

    with seeded_files(user.user_id, docs, rng, database_url) as seeded:
        client.phase = "search: warm-up"
        count_loop(clients, min(10, queries), one)
        hits.clear()
        client.phase = "search"
        cpu = CpuMeter().start()
        errors = count_loop(clients, queries, one)
        busy = cpu.busy_pct()
    per_kind = {k: {"queries": len(v), "empty": sum(1 for n in v if n == 0),
                    "p50_items": percentile([float(n) for n in v], 50)} for k, v in hits.items()}
    return {"seeded": seeded, "queries": queries, "clients": clients, "errors": errors,
            "machine_busy_pct": busy, "hits_per_query": per_kind}


# ---------------------------------------------------------------------------------------------
# notification delivery


def notification_phase(*, count: int, rate: float) -> dict[str, Any]:
    from tests.bench.notifications import measure_notification_latency

    try:
        return measure_notification_latency(count=count, rate_per_s=rate, consumer="gateway", limit_s=30.0)
    except Exception as exc:  # Kafka or PostgreSQL unreachable: reported, and the flow counts as broken
        return {"error": f"{type(exc).__name__}: {exc}", "count": count, "delivered": 0}
