"""The Kafka producer (one per process, created on first use) and how every Kafka client of the app
connects: plaintext locally, SASL_SSL with OAUTHBEARER tokens signed for MSK IAM in AWS. The outbox
that feeds it is ``fileshare.events``; a breaker keeps the inline publish path off Kafka for a while
after a failure (the relay sends what it skipped)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from fileshare.adapters import snapstart
from fileshare.config import settings
from fileshare.timeouts import KAFKA_MAX_BLOCK_S

if TYPE_CHECKING:
    from kafka import KafkaProducer

_BREAKER_OPEN_S = 15.0  # after a failed inline publish, leave events to the relay for this long


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
            # cold start: the signer only with MSK IAM auth
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
        # cold start: kafka-python only where a client connects
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


def breaker_open() -> bool:
    return time.monotonic() < _breaker_until


def trip_breaker() -> None:
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
            if respect_breaker and breaker_open():
                raise KafkaUnavailableError("Kafka failed recently; leaving events to the relay")
            from kafka import KafkaProducer  # cold start: kafka-python only where events are published

            try:
                _producer = KafkaProducer(**_producer_config())
            except Exception:
                trip_breaker()
                raise
        return _producer


def reset_producer() -> None:
    """Close and forget the producer (settings changed, or tests pointing at another broker)."""
    global _producer, _breaker_until
    with _producer_lock:
        if _producer is not None:
            _producer.close(timeout=1)
        _producer, _breaker_until = None, 0.0


@snapstart.on_restore
def _after_restore() -> list[str]:
    """The producer's connections and the inline-publish breaker's monotonic deadline."""
    had_producer = _producer is not None
    snapstart.quietly(reset_producer)
    return ["kafka producer"] if had_producer else []
