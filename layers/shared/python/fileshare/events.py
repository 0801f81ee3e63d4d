"""Domain events: the transactional outbox and the Kafka publisher (the types and the envelope are
``fileshare.event_types``).

A change and the event announcing it are written in one PostgreSQL transaction (``record``). After
the commit the writer calls ``publish_now`` for a fast path; whatever that could not send (Kafka
down, a timeout, another publisher busy with the same file) stays in the outbox and the scheduled
relay (``publish_pending``) sends it. Publishing never raises into an upload or an API call.

Ordering: consumers need one file's events in order, not a global order. Kafka keeps order per
partition and the key (file_id) picks the partition, so every publisher sends *all* unpublished
rows of a file, oldest first, while holding a per-file advisory lock: two publishers (the inline
path and the relay, or two relays) never interleave one file's events or send a row twice; rows
of other files are skipped, not waited for. Within a file, ``seq`` order is commit order because
every transaction that writes a file's event first updates (and so locks) that file's row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from fileshare.adapters import kafka, telemetry, tracing
from fileshare.adapters.observability import logger, metrics
from fileshare.config import settings
from fileshare.db.connection import transaction
from fileshare.event_types import Event
from fileshare.timeouts import KAFKA_INLINE_FLUSH_S

if TYPE_CHECKING:
    from kafka import KafkaProducer
    from psycopg import Connection

_LOCK_NAMESPACE = 0x4F42  # "OB": first key of the two-key advisory lock, per-file second key
_INLINE_FLUSH_S = KAFKA_INLINE_FLUSH_S  # the inline path holds a pooled connection while it flushes
_RELAY_FLUSH_S = 10.0
SEQ_HEADER = "outbox-seq"  # the Kafka header carrying the event's outbox sequence


def record(conn: Connection[Any], event: Event) -> int:
    """Write ``event`` to the outbox inside the caller's transaction; returns its ``seq``."""
    row = conn.execute(
        "INSERT INTO outbox (event_id, aggregate_id, type, payload, correlation_id, traceparent)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING seq",
        (event.id, event.file_id, event.type.value, event.model_dump_json(), telemetry.correlation_id(),
         tracing.traceparent())
    ).fetchone()
    assert row is not None
    seq = row["seq"] if isinstance(row, dict) else row[0]
    return int(seq)


# --- Publishing ----------------------------------------------------------------------------------


def _lock_file(conn: Connection[Any], aggregate_id: UUID) -> bool:
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s)) AS ok",
                       (_LOCK_NAMESPACE, str(aggregate_id))).fetchone()
    return bool(row and (row["ok"] if isinstance(row, dict) else row[0]))


def _headers(row: dict[str, Any]) -> list[tuple[str, bytes]]:
    headers = [("event-type", row["type"].encode()), ("event-id", str(row["event_id"]).encode()),
               (SEQ_HEADER, str(row["seq"]).encode())]  # the push's resume cursor (fileshare.push)
    if row.get("correlation_id"):
        headers.append((telemetry.CORRELATION_HEADER, str(row["correlation_id"]).encode()))
    traceparent = tracing.traceparent()  # the producer span's, inside :func:`_publish_files`
    if traceparent:
        headers.append((tracing.TRACEPARENT, traceparent.encode()))
    return headers


def _publish_files(conn: Connection[Any], aggregate_ids: Sequence[UUID], limit: int,
                   publisher: KafkaProducer, flush_timeout_s: float) -> int:
    """Send the unpublished rows of the given files that this transaction can lock; mark them.

    Must run inside a transaction (the advisory locks are released at its end). Returns the
    number of rows marked published. Raises on Kafka errors before anything is marked. A delivery
    failure opens the breaker, so the process's other inline publishers stop trying for a while.
    """
    mine = [a for a in dict.fromkeys(aggregate_ids) if _lock_file(conn, a)]
    if not mine:
        return 0
    rows = conn.execute(
        "SELECT seq, event_id, aggregate_id, type, payload, correlation_id, traceparent FROM outbox"
        " WHERE published_at IS NULL AND aggregate_id = ANY(%s)"
        " ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED", (mine, limit)).fetchall()
    if not rows:
        return 0
    topic = settings().events_topic
    futures = []
    for row in rows:
        payload = row["payload"]
        value = (json.dumps(payload, separators=(",", ":")) if not isinstance(payload, str)
                 else payload).encode()
        # the producer span continues the trace of the change that recorded the event (the relay's
        # too), and the record carries it on to the consumers
        with tracing.span(f"{topic} publish", kind="producer", parent=row.get("traceparent"),
                          attributes={"messaging.system": "kafka", "messaging.operation.type": "send",
                                      "messaging.destination.name": topic, "event_type": row["type"]}):
            futures.append((row, publisher.send(
                topic, key=str(row["aggregate_id"]).encode(), value=value,
                headers=_headers(row))))
    try:
        publisher.flush(timeout=flush_timeout_s)
    except Exception:  # undelivered futures are sorted out below
        logger.warning("kafka flush timed out")
    sent: list[int] = []
    failed: set[UUID] = set()
    for row, future in futures:
        if row["aggregate_id"] in failed:
            continue  # keep each file's published rows a prefix of its events: resend the rest later
        try:
            future.get(timeout=0)
            sent.append(row["seq"])
            logger.info("event published", extra={
                "file_id": str(row["aggregate_id"]), "event_type": row["type"],
                "event_id": str(row["event_id"]), "event_correlation_id": row["correlation_id"]})
        except Exception:  # any delivery failure: the row waits for the next attempt
            failed.add(row["aggregate_id"])
    if sent:
        conn.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY(%s)", (sent,))
    if failed:
        kafka.trip_breaker()
        logger.warning("some outbox events were not delivered", extra={"files": len(failed)})
    metrics.add_metric(name="EventsPublished", unit="Count", value=len(sent))
    return len(sent)


def publish_now(aggregate_ids: Iterable[UUID]) -> int:
    """The inline fast path after a commit: publish these files' pending events, never raise.

    Skips (leaving the rows to the relay) while a recent failure keeps the breaker open, so a
    down broker costs one short timeout per process every ``_BREAKER_OPEN_S`` seconds. No pooled
    database connection is held while connecting to Kafka: the producer is obtained first (callers
    queued behind a failing bootstrap re-check the breaker and give up), and the transaction that
    sends is opened only with a connected producer, its flush bounded by ``_INLINE_FLUSH_S``.
    """
    ids = list(aggregate_ids)
    if not ids or kafka.breaker_open() or not settings().kafka_bootstrap_servers:
        return 0
    try:
        publisher = kafka.producer(respect_breaker=True)
        with transaction() as conn:
            if kafka.breaker_open():  # another publisher failed while this one waited for a connection
                return 0
            return _publish_files(conn, ids, limit=100, publisher=publisher, flush_timeout_s=_INLINE_FLUSH_S)
    except kafka.KafkaUnavailableError:
        return 0
    except Exception:  # the relay retries; the caller's write already committed
        kafka.trip_breaker()
        logger.warning("inline publish failed; the outbox relay will publish", exc_info=True)
        metrics.add_metric(name="InlinePublishFailed", unit="Count", value=1)
        return 0


def publish_pending(limit: int = 500) -> int:
    """The relay: publish up to ``limit`` unpublished rows, oldest files first; returns rows published.

    Files another publisher holds are skipped this round. Raises when Kafka is unreachable, so a
    scheduled run fails visibly (the rows stay in the outbox either way).
    """
    with transaction() as conn:
        candidates = conn.execute(
            "SELECT aggregate_id FROM outbox WHERE published_at IS NULL"
            " GROUP BY aggregate_id ORDER BY min(seq) LIMIT %s", (limit,)).fetchall()
    if not candidates:
        return 0
    publisher = kafka.producer()  # connected before a database connection is taken again
    with transaction() as conn:  # rows published meanwhile by someone else are skipped under the locks
        return _publish_files(conn, [UUID(str(r["aggregate_id"])) for r in candidates], limit,
                              publisher=publisher, flush_timeout_s=_RELAY_FLUSH_S)


