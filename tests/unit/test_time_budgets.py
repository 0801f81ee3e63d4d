"""Every outbound client's worst case (per-attempt timeout x attempts) stays below the timeout of
every function that can use it, proved over the declaration and the clients as they are built."""

from __future__ import annotations

import pytest

from fileshare import timeouts
from infra.declaration import FUNCTIONS, Function, Uses

CLIENTS_BY_USE = {
    Uses.DATABASE: ("database",),
    Uses.CACHE: ("redis",),
    Uses.SEARCH: ("opensearch",),
    Uses.EVENTS_PUBLISH: ("kafka",),
    Uses.EVENTS_ADMIN: ("kafka_admin",),
    Uses.BUCKET_READ: ("aws",),
    Uses.BUCKET_WRITE: ("aws",),
    Uses.BUCKET_DELETE: ("aws",),
    Uses.ARCHIVE_OBJECTS: ("aws",),
    Uses.USER_POOL: ("aws",),
    Uses.EMAIL: ("aws",),
    Uses.SOCKETS: ("aws",),  # @connections (fileshare.push.delivery); the JWKS fetch is 3 s, once
}


def test_every_use_maps_to_its_clients() -> None:
    assert set(CLIENTS_BY_USE) == set(Uses)
    assert {c for clients in CLIENTS_BY_USE.values() for c in clients} == set(timeouts.BUDGETS)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_no_client_can_outlast_its_function(function: Function) -> None:
    for use in function.uses:
        for name in CLIENTS_BY_USE[use]:
            budget = timeouts.BUDGETS[name]
            assert budget.worst_s < function.timeout_s, (
                f"{function.name} ({function.timeout_s} s) uses {name}: {budget.per_attempt_s} s x "
                f"{budget.attempts} = {budget.worst_s} s")


def test_the_opensearch_client_is_built_with_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare.config import Settings
    from fileshare.search.index import client_from_settings

    client = client_from_settings(Settings(opensearch_url="http://127.0.0.1:9"))
    transport = client.transport
    assert transport.max_retries == timeouts.OPENSEARCH_RETRIES and transport.retry_on_timeout
    (connection,) = transport.connection_pool.connections
    assert connection.timeout == timeouts.OPENSEARCH_TIMEOUT_S


def test_the_aws_clients_are_built_with_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare.adapters import aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    aws.client.cache_clear()
    try:
        config = aws.client("s3").meta.config
    finally:
        aws.client.cache_clear()
    assert config.connect_timeout == timeouts.AWS_CONNECT_TIMEOUT_S
    assert config.read_timeout == timeouts.AWS_READ_TIMEOUT_S
    retries = config.retries
    assert retries["total_max_attempts"] == timeouts.AWS_MAX_ATTEMPTS  # "max_attempts" would be retries


def test_the_database_pool_is_built_with_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from psycopg_pool import ConnectionPool

    from fileshare.db import connection

    built: dict[str, object] = {}

    class Capture:
        check_connection = ConnectionPool.check_connection

        def __init__(self, _conninfo: str, **kwargs: object) -> None:
            built.update(kwargs)

    monkeypatch.setattr(connection, "ConnectionPool", Capture)
    connection.pool.cache_clear()
    try:
        connection.pool()
    finally:
        connection.pool.cache_clear()
    assert built["timeout"] == timeouts.DATABASE_POOL_WAIT_S
    kwargs = built["kwargs"]
    assert isinstance(kwargs, dict)
    assert kwargs["connect_timeout"] == timeouts.DATABASE_CONNECT_TIMEOUT_S
    # RDS Proxy refuses startup options ("doesn't support command-line options"): the statement
    # timeout is the database's default (tests/integration/stack/test_database_pinning.py)
    assert "options" not in kwargs
    assert timeouts.DATABASE_CONNECT_TIMEOUT_S <= timeouts.DATABASE_POOL_WAIT_S  # the wait covers it


def test_the_redis_and_kafka_clients_use_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare import events
    from fileshare.adapters import cache
    from fileshare.config import settings

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    settings.cache_clear()
    cache.redis_client.cache_clear()
    try:
        client = cache.redis_client()
        assert client is not None
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == timeouts.REDIS_TIMEOUT_S
    finally:
        monkeypatch.undo()  # before anything reads the settings again
        cache.redis_client.cache_clear()
        settings.cache_clear()
    from fileshare.adapters import kafka as kafka_adapter

    producer = kafka_adapter._producer_config()
    assert producer["max_block_ms"] == timeouts.KAFKA_MAX_BLOCK_S * 1000
    assert events._INLINE_FLUSH_S == timeouts.KAFKA_INLINE_FLUSH_S


def test_the_cognito_client_uses_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare import identity

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    identity._idp.cache_clear()
    try:
        config = identity._idp().meta.config
    finally:
        identity._idp.cache_clear()
    assert (config.connect_timeout, config.read_timeout) == (timeouts.AWS_CONNECT_TIMEOUT_S,
                                                             timeouts.AWS_READ_TIMEOUT_S)
    assert config.retries["total_max_attempts"] == timeouts.AWS_MAX_ATTEMPTS


def test_an_aws_timeout_is_a_503_not_a_500() -> None:
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

    from fileshare.api import _is_aws_transport_error

    for exc in (ReadTimeoutError(endpoint_url="http://s3"), ConnectTimeoutError(endpoint_url="http://s3"),
                EndpointConnectionError(endpoint_url="http://s3")):
        assert _is_aws_transport_error(exc), exc
    assert not _is_aws_transport_error(ValueError("a bug"))


def test_completing_a_multipart_upload_fits_the_files_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one client with a longer read (S3 assembles the object while it waits): one attempt."""
    from fileshare.adapters import storage

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    from fileshare.adapters.aws import client

    client.cache_clear()
    try:
        config = storage._s3_for_complete().meta.config
        assert storage._s3_for_complete() is storage._s3_for_complete()  # one per process
        assert storage._s3_for_complete() is not client("s3")  # not the default budget's
    finally:
        client.cache_clear()
    (files_function,) = [f for f in FUNCTIONS if f.name == "files"]
    worst = (config.connect_timeout + config.read_timeout) * config.retries["total_max_attempts"]
    assert worst < files_function.timeout_s, (worst, files_function.timeout_s)
