"""PostgreSQL connections: one small pool per process (a Lambda execution environment).

Locally the URL comes from DATABASE_URL; in AWS from the RDS Proxy endpoint and the Secrets
Manager secret named by DATABASE_SECRET_ARN. The secret rotates (every 30 days): its value is
cached, and a connection refused for its credentials re-reads the secret (``AWSCURRENT``, then
``AWSPENDING``, the version a rotation in progress has already set in the database) and tries
again, so a warm function survives a rotation when its pooled connections recycle.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Self

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from fileshare import timeouts
from fileshare.adapters import aws, snapstart
from fileshare.config import settings

log = logging.getLogger(__name__)

_secrets: dict[str, dict[str, Any]] = {}  # version stage -> the secret's value, per process
_secrets_lock = threading.Lock()


def _secret(stage: str) -> dict[str, Any]:
    with _secrets_lock:
        if stage not in _secrets:
            _secrets[stage] = json.loads(aws.client("secretsmanager").get_secret_value(
                SecretId=settings().database_secret_arn, VersionStage=stage)["SecretString"])
        return _secrets[stage]


def forget_credentials() -> None:
    """Drop the cached secret: the next connection reads it again."""
    with _secrets_lock:
        _secrets.clear()


def database_url(stage: str = "AWSCURRENT") -> str:
    """The connection string: DATABASE_URL as is, plus credentials from Secrets Manager when
    DATABASE_SECRET_ARN is set (in AWS DATABASE_URL names the RDS Proxy, without credentials)."""
    config = settings()
    if config.database_secret_arn:
        secret = _secret(stage)
        base = config.database_url or (
            f"postgresql://{secret['host']}:{secret.get('port', 5432)}/"
            f"{secret.get('dbname', 'fileshare')}?sslmode=require")
        params = conninfo_to_dict(base)
        params.update(user=secret["username"], password=secret["password"])
        return make_conninfo("", **params)
    if config.database_url:
        return config.database_url
    raise RuntimeError("set DATABASE_URL or DATABASE_SECRET_ARN")


def _refused_credentials(exc: psycopg.OperationalError) -> bool:
    """The server refused the user or password (SQLSTATE 28P01/28000), not a network failure."""
    return exc.sqlstate in ("28P01", "28000") or "password authentication failed" in str(exc)


def connect(**kwargs: Any) -> psycopg.Connection[Any]:
    """A new connection with the current credentials, surviving a rotation (see the module doc)."""
    return RotatingConnection.connect("", **kwargs)


class RotatingConnection(psycopg.Connection[Any]):
    """A connection class whose ``connect`` builds its own conninfo from the (cached) secret and, when
    the server refuses those credentials, re-reads the secret once before giving up."""

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
        if not settings().database_secret_arn:
            return super().connect(conninfo or database_url(), **kwargs)
        try:
            return super().connect(database_url(), **kwargs)
        except psycopg.OperationalError as exc:
            if not _refused_credentials(exc):
                raise
            log.warning("database refused the cached credentials; re-reading the secret")
        forget_credentials()
        try:
            return super().connect(database_url("AWSCURRENT"), **kwargs)
        except psycopg.OperationalError as exc:
            if not _refused_credentials(exc):
                raise
        return super().connect(database_url("AWSPENDING"), **kwargs)  # a rotation half-way through


@lru_cache(maxsize=1)
def pool() -> ConnectionPool[psycopg.Connection[dict[str, object]]]:
    """The process's pool: connections that never prepare statements and hold no session state
    between transactions, so RDS Proxy can multiplex them (see ``prepare_threshold``)."""
    config = settings()
    return ConnectionPool(
        "", connection_class=RotatingConnection, min_size=1, max_size=4, open=True,
        timeout=timeouts.DATABASE_POOL_WAIT_S, max_lifetime=config.database_pool_max_lifetime_s,
        kwargs={"row_factory": dict_row, "autocommit": False,
                "connect_timeout": timeouts.DATABASE_CONNECT_TIMEOUT_S,
                # psycopg prepares a query server-side after 5 runs on a connection (PREPARE is
                # session state): RDS Proxy would pin the client connection to one database
                # connection for good. None: never prepare (infra/README.md, RDS Proxy pinning).
                "prepare_threshold": None,
                # No startup options (RDS Proxy refuses them) and no SET (it would pin): the
                # statement_timeout is the database's default, set by the bootstrap
                # (fileshare.db.migrate.set_statement_timeout).
                },
        check=ConnectionPool.check_connection,
    )


@contextmanager
def transaction() -> Iterator[psycopg.Connection[dict[str, object]]]:
    """A pooled connection inside one transaction: committed on success, rolled back on error."""
    with pool().connection() as conn:
        yield conn


@snapstart.on_restore
def _after_restore() -> list[str]:
    """Pooled connections and the cached secret must not outlive the snapshot."""
    reset = []
    if pool.cache_info().currsize:
        snapstart.quietly(lambda: pool().close(timeout=0))
        pool.cache_clear()
        reset.append("database pool")
    forget_credentials()
    return [*reset, "database secret"]
