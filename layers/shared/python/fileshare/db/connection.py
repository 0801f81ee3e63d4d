"""PostgreSQL connections: one small pool per process (a Lambda execution environment).

Locally the URL comes from DATABASE_URL; in AWS from the RDS Proxy endpoint and the Secrets
Manager secret named by DATABASE_SECRET_ARN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from fileshare.config import settings


def database_url() -> str:
    """The connection string: DATABASE_URL as is, plus credentials from Secrets Manager when
    DATABASE_SECRET_ARN is set (in AWS DATABASE_URL names the RDS Proxy, without credentials)."""
    config = settings()
    if config.database_secret_arn:
        from fileshare.aws import client  # boto3 only where the secret is needed

        secret = json.loads(client("secretsmanager").get_secret_value(
            SecretId=config.database_secret_arn)["SecretString"])
        base = config.database_url or (
            f"postgresql://{secret['host']}:{secret.get('port', 5432)}/"
            f"{secret.get('dbname', 'fileshare')}?sslmode=require")
        params = conninfo_to_dict(base)
        params.update(user=secret["username"], password=secret["password"])
        return make_conninfo("", **params)
    if config.database_url:
        return config.database_url
    raise RuntimeError("set DATABASE_URL or DATABASE_SECRET_ARN")


@lru_cache(maxsize=1)
def pool() -> ConnectionPool[psycopg.Connection[dict[str, object]]]:
    return ConnectionPool(
        database_url(), min_size=1, max_size=4, open=True, timeout=5,
        kwargs={"row_factory": dict_row, "autocommit": False},
        check=ConnectionPool.check_connection,
    )


@contextmanager
def transaction() -> Iterator[psycopg.Connection[dict[str, object]]]:
    """A pooled connection inside one transaction: committed on success, rolled back on error."""
    with pool().connection() as conn:
        yield conn
