"""In AWS the functions get the RDS Proxy endpoint in DATABASE_URL and credentials from a secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from fileshare import config
from fileshare.db import connection


class _Secrets:
    def get_secret_value(self, SecretId: str, VersionStage: str) -> dict[str, Any]:  # noqa: N803 - boto3's
        assert SecretId == "arn:secret" and VersionStage == "AWSCURRENT"
        return {"SecretString": json.dumps({"username": "app", "password": "p@ss:/w", "host": "db",
                                            "port": 5432, "dbname": "fileshare"})}


@pytest.fixture(autouse=True)
def _fresh_settings() -> Any:
    config.settings.cache_clear()
    connection.forget_credentials()
    yield
    config.settings.cache_clear()
    connection.forget_credentials()


def test_plain_database_url_is_used_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@h:1/d")
    monkeypatch.delenv("DATABASE_SECRET_ARN", raising=False)
    assert connection.database_url() == "postgresql://u:p@h:1/d"


def test_secret_credentials_join_the_proxy_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://proxy.example:5432/fileshare?sslmode=require")
    monkeypatch.setenv("DATABASE_SECRET_ARN", "arn:secret")
    monkeypatch.setattr("fileshare.adapters.aws.client", lambda service: _Secrets())

    params = conninfo_to_dict(connection.database_url())

    assert params["host"] == "proxy.example" and params["sslmode"] == "require"
    assert params["user"] == "app" and params["password"] == "p@ss:/w"
