"""Kafka clients connect one way: ``fileshare.adapters.kafka.connection_options`` (used by the producer and by
the bootstrap's admin client) gives plaintext locally and, in AWS, SASL_SSL + OAUTHBEARER with tokens
from aws-msk-iam-sasl-signer-python. The config is built and fed to kafka-python's own OAUTHBEARER
mechanism, and the token is decoded: a SigV4-presigned ``kafka-cluster:Connect`` for the region."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.net.sasl.oauth import AbstractTokenProvider, SaslMechanismOAuth

from fileshare.adapters import kafka as kafka_adapter
from fileshare.config import settings

BOOTSTRAP = "b-1.fileshare.kafka-serverless.eu-west-1.amazonaws.com:9098,b-2.example:9098"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", BOOTSTRAP)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAASSETSTEST000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-for-signing-only")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    settings.cache_clear()


def test_iam_config_is_sasl_ssl_oauthbearer_with_a_signed_connect_token(env: pytest.MonkeyPatch) -> None:
    env.setenv("KAFKA_SECURITY", "iam")
    settings.cache_clear()
    options = kafka_adapter.connection_options("fileshare-test")
    assert options["bootstrap_servers"] == BOOTSTRAP.split(",")
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "OAUTHBEARER"
    provider = options["sasl_oauth_token_provider"]
    assert isinstance(provider, AbstractTokenProvider)

    # kafka-python's own mechanism accepts the provider and frames the token (RFC 7628)
    message = SaslMechanismOAuth(**options).auth_bytes().decode()
    assert message.startswith("n,,\x01auth=Bearer ") and message.endswith("\x01\x01")
    token = message.removeprefix("n,,\x01auth=Bearer ").removesuffix("\x01\x01")

    url = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert url.netloc == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].startswith("AKIAASSETSTEST000000/")
    assert "/eu-west-1/kafka-cluster/aws4_request" in query["X-Amz-Credential"][0]
    assert "secret-for-signing-only" not in token


def test_the_token_is_reused_until_a_minute_before_expiry(env: pytest.MonkeyPatch) -> None:
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    signed: list[str] = []
    now = time.time()

    def sign(region: str) -> tuple[str, float]:
        signed.append(region)
        return f"token-{len(signed)}", (now + 900) * 1000

    env.setattr(MSKAuthTokenProvider, "generate_auth_token", staticmethod(sign))
    env.setenv("KAFKA_SECURITY", "iam")
    settings.cache_clear()
    provider = kafka_adapter.connection_options("fileshare-test")["sasl_oauth_token_provider"]
    assert [provider.token(), provider.token()] == ["token-1", "token-1"]  # signed once, then reused
    env.setattr(time, "time", lambda: now + 900 - 61)
    assert provider.token() == "token-1"  # valid for more than a minute still
    env.setattr(time, "time", lambda: now + 900 - 59)
    assert provider.token() == "token-2"
    assert signed == ["eu-west-1", "eu-west-1"]


def test_plaintext_locally_and_no_sasl(env: pytest.MonkeyPatch) -> None:
    env.setenv("KAFKA_SECURITY", "plaintext")
    settings.cache_clear()
    options = kafka_adapter.connection_options("fileshare-test")
    assert options == {"bootstrap_servers": BOOTSTRAP.split(","), "client_id": "fileshare-test"}


def test_an_unknown_security_mode_fails_loudly(env: pytest.MonkeyPatch) -> None:
    env.setenv("KAFKA_SECURITY", "scram")
    settings.cache_clear()
    with pytest.raises(RuntimeError, match="KAFKA_SECURITY"):
        kafka_adapter.connection_options("fileshare-test")


@pytest.mark.parametrize("security", ["iam", "plaintext"])
def test_every_option_is_one_the_clients_know(env: pytest.MonkeyPatch, security: str) -> None:
    env.setenv("KAFKA_SECURITY", security)
    settings.cache_clear()
    assert set(kafka_adapter._producer_config()) <= set(KafkaProducer.DEFAULT_CONFIG)
    admin_options = kafka_adapter.connection_options("fileshare-bootstrap")
    assert set(admin_options) <= set(KafkaAdminClient.DEFAULT_CONFIG)
