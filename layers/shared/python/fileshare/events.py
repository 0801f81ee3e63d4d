"""Domain events: the versioned envelope, the transactional outbox and the Kafka publisher.

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
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from fileshare import telemetry
from fileshare.config import settings
from fileshare.observability import logger, metrics
from fileshare.timeouts import KAFKA_INLINE_FLUSH_S, KAFKA_MAX_BLOCK_S

if TYPE_CHECKING:
    from kafka import KafkaProducer
    from psycopg import Connection

    from fileshare.db.versions import VersionRow

ENVELOPE_VERSION = 1
_LOCK_NAMESPACE = 0x4F42  # "OB": first key of the two-key advisory lock, per-file second key
_BREAKER_OPEN_S = 15.0  # after a failed inline publish, leave events to the relay for this long
_INLINE_FLUSH_S = KAFKA_INLINE_FLUSH_S  # the inline path holds a pooled connection while it flushes
_RELAY_FLUSH_S = 10.0
SEQ_HEADER = "outbox-seq"  # the Kafka header carrying the event's outbox sequence


class EventType(StrEnum):
    FILE_READY = "file.ready"
    FILE_REJECTED = "file.rejected"
    FILE_UPDATED = "file.updated"
    FILE_VERSION_ADDED = "file.version_added"  # a new version became current (fileshare.versions)
    FILE_VERSION_REJECTED = "file.version_rejected"  # a new version failed its checks (the file is unchanged)
    FILE_TRASHED = "file.trashed"
    FILE_RESTORED = "file.restored"
    FILE_DELETED = "file.deleted"
    FILE_EXPIRED = "file.expired"
    SHARE_CREATED = "share.created"
    SHARE_REVOKED = "share.revoked"
    LINK_CREATED = "link.created"
    LINK_DOWNLOADED = "link.downloaded"
    LINK_REVOKED = "link.revoked"
    # Archive jobs: the event's ``file_id`` is the archive's id (the Kafka key, one job's order).
    ARCHIVE_REQUESTED = "archive.requested"
    ZIP_READY = "zip.ready"
    ARCHIVE_FAILED = "archive.failed"  # data: name, reason (machine-readable), detail
    # Folders: the event's ``file_id`` is the folder's id (the Kafka key). ``folder.updated`` is a
    # rename and/or a move: ``changes`` holds the new name / parent_id, ``previous`` the old ones.
    FOLDER_CREATED = "folder.created"
    FOLDER_UPDATED = "folder.updated"


class Event(BaseModel):
    """The envelope every event on ``fileshare.events`` carries (JSON; the Kafka key is file_id).

    ``version`` is the version of ``data`` for this ``type``: a consumer handles the versions it
    knows and dead-letters the others. Unknown envelope fields are ignored, so adding one is safe.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: EventType
    version: int = Field(default=ENVELOPE_VERSION, ge=1)
    id: UUID = Field(default_factory=uuid4)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    file_id: UUID
    owner_id: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        return cls.model_validate_json(raw)


def file_rejected(row: Mapping[str, Any]) -> Event:
    """``file.rejected`` for a files row whose ``reject_reason`` is set."""
    return Event(type=EventType.FILE_REJECTED, file_id=row["file_id"], owner_id=row["owner_id"],
                 data={"name": row["name"], "reason": row["reject_reason"]})


def version_rejected(row: VersionRow) -> Event:
    """``file.version_rejected`` for a ``file_versions`` row whose ``reject_reason`` is set."""
    return Event(type=EventType.FILE_VERSION_REJECTED, file_id=row.file_id, owner_id=row.owner_id,
                 data={"version_id": str(row.version_id), "name": row.name, "reason": row.reject_reason})


def record(conn: Connection[Any], event: Event) -> int:
    """Write ``event`` to the outbox inside the caller's transaction; returns its ``seq``."""
    row = conn.execute(
        "INSERT INTO outbox (event_id, aggregate_id, type, payload, correlation_id)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING seq",
        (event.id, event.file_id, event.type.value, event.model_dump_json(), telemetry.correlation_id())
    ).fetchone()
    assert row is not None
    seq = row["seq"] if isinstance(row, dict) else row[0]
    return int(seq)


# --- Kafka producer (one per process, created on first use) -------------------------------------

_producer_lock = threading.Lock()
_producer: KafkaProducer | None = None
_breaker_until = 0.0


class _MskIamTokenProvider:
    """OAUTHBEARER tokens for MSK IAM auth, signed with the function's role; reused until near expiry."""

    def __init__(self, region: str) -> None:
        self._region = region
        self._token = ""
        self._expires_at = 0.0

    def token(self) -> str:
        if time.time() > self._expires_at - 60:
            from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

            token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(self._region)
            self._token, self._expires_at = token, expiry_ms / 1000
        return self._token

    def extensions(self) -> dict[str, str]:
        return {}


def connection_options(client_id: str) -> dict[str, Any]:
    """How every Kafka client of the app connects (the producer, the bootstrap's admin client):
    plaintext locally, or SASL_SSL with OAUTHBEARER tokens signed for MSK IAM in AWS. The one place
    MSK IAM authentication is configured."""
    config = settings()
    if not config.kafka_bootstrap_servers:
        raise RuntimeError("KAFKA_BOOTSTRAP_SERVERS is not set")
    options: dict[str, Any] = {
        "bootstrap_servers": config.kafka_bootstrap_servers.split(","),
        "client_id": client_id,
    }
    if config.kafka_security == "iam":
        from kafka.net.sasl.oauth import AbstractTokenProvider

        provider_cls = type("MskIamTokenProvider", (_MskIamTokenProvider, AbstractTokenProvider), {})
        options.update(security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER",
                       sasl_oauth_token_provider=provider_cls(config.region))
    elif config.kafka_security != "plaintext":
        raise RuntimeError(f"KAFKA_SECURITY must be 'plaintext' or 'iam', not {config.kafka_security!r}")
    return options


def _producer_config() -> dict[str, Any]:
    options = connection_options(f"fileshare-{settings().events_topic}-publisher")
    options.update({
        "acks": "all",  # idempotence stays on (kafka-python's default) where the broker supports it
        "linger_ms": 0,
        "bootstrap_timeout_ms": 3_000,  # short: a down broker must not hold an upload for long
        "max_block_ms": int(KAFKA_MAX_BLOCK_S * 1000),
        "request_timeout_ms": 5_000,
        "delivery_timeout_ms": 10_000,
        "reconnect_backoff_max_ms": 1_000,
        "allow_auto_create_topics": False,
        "metrics_enabled": False,
    })
    return options


def _breaker_open() -> bool:
    return time.monotonic() < _breaker_until


def _trip_breaker() -> None:
    global _breaker_until
    _breaker_until = time.monotonic() + _BREAKER_OPEN_S


class KafkaUnavailableError(RuntimeError):
    """The inline path skipped Kafka: a recent failure in this process keeps the breaker open."""


def producer(*, respect_breaker: bool = False) -> KafkaProducer:
    """The process's producer, created lazily; a failed creation is retried on the next call.

    A failed creation opens the breaker before the lock is released, so callers that were waiting
    for the lock with ``respect_breaker`` give up at once instead of each retrying the bootstrap.
    """
    global _producer
    with _producer_lock:
        if _producer is None:
            if respect_breaker and _breaker_open():
                raise KafkaUnavailableError("Kafka failed recently; leaving events to the relay")
            from kafka import KafkaProducer

            try:
                _producer = KafkaProducer(**_producer_config())
            except Exception:
                _trip_breaker()
                raise
        return _producer


def reset_producer() -> None:
    """Close and forget the producer (settings changed, or tests pointing at another broker)."""
    global _producer, _breaker_until
    with _producer_lock:
        if _producer is not None:
            _producer.close(timeout=1)
        _producer, _breaker_until = None, 0.0


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
    return headers


def _publish_files(conn: Connection[Any], aggregate_ids: Sequence[UUID], limit: int,
                   kafka: KafkaProducer, flush_timeout_s: float) -> int:
    """Send the unpublished rows of the given files that this transaction can lock; mark them.

    Must run inside a transaction (the advisory locks are released at its end). Returns the
    number of rows marked published. Raises on Kafka errors before anything is marked. A delivery
    failure opens the breaker, so the process's other inline publishers stop trying for a while.
    """
    mine = [a for a in dict.fromkeys(aggregate_ids) if _lock_file(conn, a)]
    if not mine:
        return 0
    rows = conn.execute(
        "SELECT seq, event_id, aggregate_id, type, payload, correlation_id FROM outbox"
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
        futures.append((row, kafka.send(
            topic, key=str(row["aggregate_id"]).encode(), value=value,
            headers=_headers(row))))
    try:
        kafka.flush(timeout=flush_timeout_s)
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
        _trip_breaker()
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
    if not ids or _breaker_open() or not settings().kafka_bootstrap_servers:
        return 0
    from fileshare.db.connection import transaction

    try:
        kafka = producer(respect_breaker=True)
        with transaction() as conn:
            if _breaker_open():  # another publisher failed while this one waited for a connection
                return 0
            return _publish_files(conn, ids, limit=100, kafka=kafka, flush_timeout_s=_INLINE_FLUSH_S)
    except KafkaUnavailableError:
        return 0
    except Exception:  # the relay retries; the caller's write already committed
        _trip_breaker()
        logger.warning("inline publish failed; the outbox relay will publish", exc_info=True)
        metrics.add_metric(name="InlinePublishFailed", unit="Count", value=1)
        return 0


def publish_pending(limit: int = 500) -> int:
    """The relay: publish up to ``limit`` unpublished rows, oldest files first; returns rows published.

    Files another publisher holds are skipped this round. Raises when Kafka is unreachable, so a
    scheduled run fails visibly (the rows stay in the outbox either way).
    """
    from fileshare.db.connection import transaction

    with transaction() as conn:
        candidates = conn.execute(
            "SELECT aggregate_id FROM outbox WHERE published_at IS NULL"
            " GROUP BY aggregate_id ORDER BY min(seq) LIMIT %s", (limit,)).fetchall()
    if not candidates:
        return 0
    kafka = producer()  # connected before a database connection is taken again
    with transaction() as conn:  # rows published meanwhile by someone else are skipped under the locks
        return _publish_files(conn, [UUID(str(r["aggregate_id"])) for r in candidates], limit,
                              kafka=kafka, flush_timeout_s=_RELAY_FLUSH_S)
