"""Scale phase: search, list, get and ``/me`` at 10 000, 100 000 (and, with ``--scale 1m``,
1 000 000) files across many users with shares, seeded in bulk.

Everything goes into a database and a search alias of its own (``fileshare_scale``, ``files-scale``)
on the same local services, so a developer's data is never mixed with a million synthetic rows, and
each size starts from an empty schema made by the bootstrap's migration runner. Rows go in with
``COPY``; search documents with the bulk helper, built by the app's own ``search_document``.

The requests are the real handlers (files, search) in the local runtime's worker pool, four
concurrent clients, warm workers, as seeded users (each owns ~100 files; one in ten files is shared
with one to three other users, so searches are shared-aware). Query plans of the hot paths are
checked with ``EXPLAIN``: a sequential scan on ``files`` or ``shares`` is reported as a miss.

Folders (issue 14): each user has a three-level folder chain holding ~40 % of their files, and one
user in five shares their top folder with one or two others. ``folder_search`` is a search by such
a grantee: it resolves the folders they read through shares in PostgreSQL and filters documents on
``folder_id`` (``fileshare.folders``), so its latency is the cost of folder grants at query time.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.bench.common import REPO_ROOT, STOP

SCALE_DB = "fileshare_scale"
SCALE_ALIAS = "files-scale"
FILES_PER_USER = 100
SHARED_FRACTION = 0.1
CLIENTS = 4
GOALS_MS = {"search": 50.0, "folder_search": 50.0, "list": 20.0, "get": 20.0, "me": 20.0}  # p99 at 1 M
IN_FOLDER_FRACTION = 0.4
FOLDER_SHARE_FRACTION = 0.2
GROWTH_GOAL = 2.0  # p99 at the largest size / p99 at 10 000
WORDS = ("report", "invoice", "holiday", "budget", "design", "photo", "contract", "notes", "slides",
         "draft", "scan", "receipt", "plan", "summary", "backup", "video", "music", "thesis")
TYPES = ("application/pdf", "image/png", "image/jpeg", "text/plain", "video/mp4", "application/zip")
TAGS = ("work", "family", "2024", "2025", "tax", "urgent", "archive", "travel")
LOG_DIR = REPO_ROOT / ".local" / "logs" / "lambda-bench-scale"


def _scale_url(base_url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo("", **{**conninfo_to_dict(base_url), "dbname": SCALE_DB})


def fresh_database(base_url: str) -> str:
    """An empty ``fileshare_scale`` with the app's schema, through the migration runner."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from fileshare.db import migrate

    admin = make_conninfo("", **{**conninfo_to_dict(base_url), "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCALE_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCALE_DB}"')
    url = _scale_url(base_url)
    migrate.apply(url)
    return url


def fresh_alias(opensearch_url: str) -> Any:
    from opensearchpy import OpenSearch

    from fileshare.search.index import ensure_index

    client = OpenSearch(hosts=[opensearch_url], timeout=120)
    client.indices.delete(index=f"{SCALE_ALIAS}-v*", ignore_unavailable=True)
    ensure_index(client, SCALE_ALIAS)
    client.indices.put_settings(index=SCALE_ALIAS, body={"index": {"refresh_interval": "-1"}})
    return client


def _copy(conn: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(url: str, search: Any, files: int, rng: random.Random) -> dict[str, Any]:
    """``files`` ready files over ``files / FILES_PER_USER`` users; one in ten shared."""
    import psycopg
    from opensearchpy import helpers

    from fileshare.search.index import search_document

    started = time.monotonic()
    users = [f"scale-{i:07d}" for i in range(max(2, files // FILES_PER_USER))]
    now = datetime.now(UTC)
    file_rows: list[tuple[Any, ...]] = []
    share_rows: list[tuple[Any, ...]] = []
    readers: dict[uuid.UUID, list[str]] = {}
    folder_rows: list[tuple[Any, ...]] = []
    folder_share_rows: list[tuple[Any, ...]] = []
    chains: dict[str, list[uuid.UUID]] = {}
    for owner in users:  # top / sub / subsub per user; some tops shared
        parent = None
        chains[owner] = []
        for level, name in enumerate(("Projects", "2026", "drafts")):
            folder_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            folder_rows.append((folder_id, owner, parent, f"{name}-{level}"))
            chains[owner].append(folder_id)
            parent = folder_id
        if rng.random() < FOLDER_SHARE_FRACTION:
            for grantee in rng.sample(users, min(len(users) - 1, rng.randrange(1, 3))):
                if grantee != owner:
                    folder_share_rows.append((uuid.uuid4(), chains[owner][0], grantee, "viewer", now))
    for n in range(files):
        owner = users[n % len(users)]
        file_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{n}.{rng.choice(('pdf', 'png', 'txt', 'mp4'))}"
        created = now - timedelta(seconds=rng.randrange(0, 365 * 86400))
        tags = rng.sample(TAGS, rng.randrange(0, 3))
        folder = rng.choice(chains[owner]) if rng.random() < IN_FOLDER_FRACTION else None
        file_rows.append((file_id, owner, name, f"u/{owner}/{file_id}/{name}", rng.randrange(1, 50_000_000),
                          rng.choice(TYPES), "ready", tags, created, created, folder))
        readers[file_id] = [owner]
        if rng.random() < SHARED_FRACTION:
            for grantee in rng.sample(users, min(len(users) - 1, rng.randrange(1, 4))):
                if grantee != owner:
                    share_rows.append((uuid.uuid4(), file_id, grantee, "viewer", created))
                    readers[file_id].append(grantee)
    # autocommit: VACUUM runs outside a transaction; no statement_timeout (the database's 5 s default)
    # for a bulk load and its VACUUM
    with psycopg.connect(url, autocommit=True, options="-c statement_timeout=0") as conn:
        _copy(conn, "users", ("user_id", "email", "quota_bytes"),
              ((u, f"{u}@scale.example.com", 10**15) for u in users))
        _copy(conn, "folders", ("folder_id", "owner_id", "parent_id", "name"), iter(folder_rows))
        _copy(conn, "files", ("file_id", "owner_id", "name", "s3_key", "size", "content_type", "status",
                              "tags", "created_at", "updated_at", "folder_id"), iter(file_rows))
        _copy(conn, "folder_shares", ("share_id", "folder_id", "grantee_id", "permission", "created_at"),
              iter(folder_share_rows))
        _copy(conn, "shares", ("share_id", "file_id", "grantee_id", "permission", "created_at"),
              iter(share_rows))
        # VACUUM as well as ANALYZE: a table just filled by COPY has no visibility map yet, and
        # autovacuum's insert threshold vacuums it in the background, possibly while the requests
        # run. Seen at 1 M without it: list p99 36.8 ms; the same 4 clients later on the same data
        # 13.8 ms, and 15.4 ms in a full run with it. A database in service is vacuumed
        # continuously, so this is its steady state.
        conn.execute("VACUUM (ANALYZE)")
    db_s = time.monotonic() - started
    columns = ("file_id", "owner_id", "name", "s3_key", "size", "content_type", "status", "tags",
               "created_at", "updated_at", "folder_id")

    def actions() -> Iterator[dict[str, Any]]:
        for values in file_rows:
            row = dict(zip(columns, values, strict=True))
            yield {"_index": SCALE_ALIAS, "_id": str(row["file_id"]),
                   "_source": search_document(row, readers[row["file_id"]])}

    for ok, info in helpers.parallel_bulk(search, actions(), thread_count=2, chunk_size=2000,
                                          raise_on_error=True, request_timeout=120):
        if not ok:
            raise RuntimeError(f"bulk indexing failed: {info}")
    search.indices.refresh(index=SCALE_ALIAS)
    shared_users = sorted({r[2] for r in share_rows})
    return {"files": files, "users": len(users), "shares": len(share_rows),
            "folders": len(folder_rows), "folder_shares": len(folder_share_rows),
            "folder_grantees": sorted({r[2] for r in folder_share_rows})[:200],
            "seed_db_s": round(db_s, 1), "seed_total_s": round(time.monotonic() - started, 1),
            "sample_users": rng.sample(users, min(200, len(users))),
            "sample_files": [(r[0], r[1]) for r in rng.sample(file_rows, min(500, len(file_rows)))],
            "shared_users": shared_users[:200]}


def check_plans(url: str, user: str, file_id: uuid.UUID) -> dict[str, str]:
    """The hot paths' plans: each must use an index on files/shares, never a sequential scan."""
    import psycopg

    from fileshare.db import files as files_db

    queries = {
        "list": (f"SELECT {files_db.COLUMNS} FROM files WHERE owner_id = %s AND status IN "  # noqa: S608
                 "('pending', 'ready', 'rejected') ORDER BY created_at DESC, file_id DESC LIMIT 50", (user,)),
        "get": (f"SELECT {files_db.COLUMNS} FROM files WHERE file_id = %s", (file_id,)),  # noqa: S608
        "me usage": ("SELECT coalesce(sum(size) FILTER (WHERE status IN ('ready', 'trashed', 'deleting')),"
                     " 0), coalesce(sum(size) FILTER (WHERE status = 'pending'), 0) FROM files"
                     " WHERE owner_id = %s", (user,)),
        "search re-check": ("SELECT f.file_id FROM files f LEFT JOIN shares s ON s.file_id = f.file_id"
                            " AND s.grantee_id = %s WHERE f.file_id = ANY(%s) AND (f.owner_id = %s"
                            " OR s.share_id IS NOT NULL)", (user, [file_id], user)),
    }
    verdicts = {}
    with psycopg.connect(url) as conn:
        for name, (sql, params) in queries.items():
            row = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
            assert row is not None
            plan = json.dumps(row[0])
            scans = [t for t in ("files", "shares") if _seq_on(plan, t)]
            verdicts[name] = "SEQ SCAN on " + ", ".join(scans) if scans else "index"
    return verdicts


def _seq_on(plan_json: str, table: str) -> bool:
    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from walk(child)

    plan = json.loads(plan_json)[0]["Plan"]
    return any(n.get("Node Type") == "Seq Scan" and n.get("Relation Name") == table for n in walk(plan))


@contextmanager
def _runtime(env: Mapping[str, str]) -> Iterator[Any]:
    from infra.declaration import by_name
    from lambdarun.runtime import Runtime

    runtime = Runtime([by_name("files"), by_name("search")], base_env=dict(env), log_dir=LOG_DIR,
                      max_concurrency=CLIENTS)
    try:
        yield runtime
    finally:
        runtime.close()


def _event(method: str, path: str, user: str, query: str = "", resource: str | None = None,
           path_parameters: dict[str, str] | None = None) -> dict[str, Any]:
    from lambdarun.events import rest_event

    claims = {"sub": user, "email": f"{user}@scale.example.com", "email_verified": "true", "token_use": "id"}
    return rest_event(method=method, path=path, query=query,
                      headers=[("Host", "localhost:8080"), ("Accept", "application/json")], body=b"",
                      resource=resource or path, path_parameters=path_parameters or {}, source_ip="127.0.0.1",
                      claims=claims)


def _request(kind: str, seeded: dict[str, Any], rng: random.Random) -> tuple[str, dict[str, Any]]:
    if kind == "search":
        user = rng.choice(seeded["shared_users"] or seeded["sample_users"])
        q = rng.choice(WORDS)
        extra = rng.choice(("", f"&tag={rng.choice(TAGS)}", "&type=document", "&from=2025-01-01T00:00:00Z"))
        return "search", _event("GET", "/search", user, f"q={q}{extra}")
    if kind == "folder_search":  # a user who reads folders through folder shares
        user = rng.choice(seeded["folder_grantees"] or seeded["sample_users"])
        return "search", _event("GET", "/search", user, f"q={rng.choice(WORDS)}")
    if kind == "list":
        return "files", _event("GET", "/files", rng.choice(seeded["sample_users"]), "limit=50")
    if kind == "get":
        file_id, owner = rng.choice(seeded["sample_files"])
        return "files", _event("GET", f"/files/{file_id}", owner, resource="/files/{file_id}",
                               path_parameters={"file_id": str(file_id)})
    return "files", _event("GET", "/me", rng.choice(seeded["sample_users"]))


def _measure_kind(runtime: Any, seeded: dict[str, Any], kind: str, requests: int,
                  rng: random.Random) -> dict[str, Any]:
    for _ in range(CLIENTS * 2):  # warm every worker for this kind first
        runtime.invoke(*_request(kind, seeded, rng))
    durations: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    left = [requests]

    def client(seed: float) -> None:
        local = random.Random(seed)
        while not STOP.is_set():
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            fn, event = _request(kind, seeded, local)
            started = time.perf_counter()
            inv = runtime.invoke(fn, event)
            elapsed = (time.perf_counter() - started) * 1000
            status = int(inv.result.get("statusCode", 0)) if inv.ok else 0
            with lock:
                durations.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(rng.random(),)) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    durations.sort()
    p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))] if durations else None
    return {"count": len(durations), "statuses": statuses,
            "p50_ms": round(statistics.median(durations), 2) if durations else None,
            "p99_ms": round(p99, 2) if p99 is not None else None}


def measure(runtime: Any, seeded: dict[str, Any], requests_per_kind: int,
            rng: random.Random) -> dict[str, Any]:
    """p50/p99 of each kind of request (the invoke's round trip), ``CLIENTS`` concurrent clients."""
    return {kind: _measure_kind(runtime, seeded, kind, requests_per_kind, rng)
            for kind in GOALS_MS}


def run_scale(env: Mapping[str, str], sizes: tuple[int, ...], *, requests_per_kind: int = 400,
              log: Any = print) -> dict[str, Any]:
    """Seed and measure each size in turn; the report's scale table."""
    rng = random.Random(20261201)
    base_url = env["DATABASE_URL"]
    out: dict[str, Any] = {"sizes": {}, "clients": CLIENTS, "goals_p99_ms": GOALS_MS,
                           "growth_goal": GROWTH_GOAL}
    for size in sizes:
        if STOP.is_set():
            break
        log(f"bench: scale {size:,} files: seeding...")
        url = fresh_database(base_url)
        search = fresh_alias(env["OPENSEARCH_URL"])
        seeded = seed(url, search, size, rng)
        log(f"bench: scale {size:,}: seeded in {seeded['seed_total_s']} s; measuring")
        scale_env = {**env, "DATABASE_URL": url, "SEARCH_ALIAS": SCALE_ALIAS,
                     "RATE_LIMIT_PER_MINUTE": "1000000",
                     "READ_RATE_LIMIT_PER_MINUTE": "1000000", "CACHE_TTL_SECONDS": "300"}
        with _runtime(scale_env) as runtime:
            latencies = measure(runtime, seeded, requests_per_kind, rng)
        user = seeded["sample_users"][0]
        plans = check_plans(url, user, seeded["sample_files"][0][0])
        facts = {k: v for k, v in seeded.items()
                 if not k.startswith(("sample", "shared_", "folder_grantees"))}
        out["sizes"][size] = {"seeded": facts, "latency": latencies, "plans": plans}
    smallest, largest = (min(out["sizes"]), max(out["sizes"])) if out["sizes"] else (None, None)
    if smallest is not None and largest is not None and largest != smallest:
        out["growth"] = {kind: _ratio(out["sizes"][largest]["latency"][kind]["p99_ms"],
                                      out["sizes"][smallest]["latency"][kind]["p99_ms"])
                         for kind in GOALS_MS}
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def print_scale(result: dict[str, Any], out: Any = print) -> None:
    if not result or not result.get("sizes"):
        return
    out("")
    out(f"(f) scale: the files and search functions in the worker pool, {result['clients']} clients, warm; "
        "p50 / p99 of the invocation (goal at 1 M: search and folder_search p99 < 50 ms, list/get/me p99 "
        "< 20 ms; folder_search: a grantee of folder shares, folders resolved at query time; "
        f"p99 grows at most {result['growth_goal']}x from 10 k)")
    header = ["files", "users", "shares", "seed s", *(f"{k} p50/p99" for k in GOALS_MS), "plans"]
    rows = [header]
    for size, data in sorted(result["sizes"].items()):
        lat = data["latency"]
        plans = ", ".join(f"{k}: {v}" for k, v in data["plans"].items())
        rows.append([f"{size:,}", f"{data['seeded']['users']:,}", f"{data['seeded']['shares']:,}",
                     str(data["seeded"]["seed_total_s"]),
                     *(f"{lat[k]['p50_ms']} / {lat[k]['p99_ms']} ms" for k in GOALS_MS), plans])
    from tests.bench.common import table

    table(rows, out)
    if "growth" in result:
        largest = max(result["sizes"])
        parts = []
        for kind, growth in result["growth"].items():
            p99 = result["sizes"][largest]["latency"][kind]["p99_ms"]
            growth_verdict = "met" if growth is not None and growth <= GROWTH_GOAL else "MISSED"
            part = f"{kind} x{growth} (growth goal <= {GROWTH_GOAL}x: {growth_verdict}"
            if largest >= 1_000_000:
                verdict = "met" if p99 is not None and p99 < GOALS_MS[kind] else "MISSED"
                part += f"; p99 {p99} ms, goal < {GOALS_MS[kind]:g} ms: {verdict}"
            parts.append(part + ")")
        out(f"  p99 growth {min(result['sizes']):,} -> {largest:,}: " + "; ".join(parts))

