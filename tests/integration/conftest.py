"""Fixtures for the API tests: handlers loaded like Lambda loads them, users, settings overrides and
clients of the real local services (PostgreSQL, Redis, LocalStack S3, moto Cognito, OpenSearch)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from fileshare.config import settings
from tests.support.apigw import Reply, call, claims_for, event
from tests.support.pipeline import load_handler

REPO_ROOT = Path(__file__).resolve().parents[2]


_load_handler = load_handler  # the one loader (its lambda_handler acts as the function it is)


def _require(*names: str) -> None:
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.fail(f"the local stack is not up (missing {missing} in .local/test.env): run `make up`")


@dataclass
class Api:
    """Calls one function's handler with REST proxy events, as a given user (or anonymously)."""

    module: ModuleType
    claims: dict[str, str] | None = None

    def __call__(self, method: str, path: str, *, body: Any = None, query: dict[str, str] | None = None,
                 raw_body: str | None = None) -> Reply:
        return call(self.module.lambda_handler,
                    event(method, path, body=body, query=query, claims=self.claims, raw_body=raw_body))

    def as_user(self, user: User | None) -> Api:
        return Api(self.module, user.claims if user else None)


@dataclass(frozen=True)
class User:
    user_id: str
    email: str

    @property
    def claims(self) -> dict[str, str]:
        return claims_for(self.user_id, self.email)


@pytest.fixture(scope="session", autouse=True)
def _close_pool() -> Iterator[None]:
    yield
    from fileshare.db.connection import pool

    if pool.cache_info().currsize:
        pool().close()


@pytest.fixture(scope="session")
def files_module() -> ModuleType:
    _require("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL", "UPLOAD_BUCKET")
    return _load_handler("files")


@pytest.fixture(scope="session")
def auth_module() -> ModuleType:
    _require("DATABASE_URL", "USER_POOL_ID", "USER_POOL_CLIENT_ID", "AWS_ENDPOINT_URL_COGNITO_IDP")
    return _load_handler("auth")


@pytest.fixture(scope="session")
def search_module() -> ModuleType:
    _require("DATABASE_URL", "OPENSEARCH_URL")
    return _load_handler("search")


@pytest.fixture
def new_user() -> Callable[[], User]:
    """A fresh identity each call (the id a Cognito ``sub`` would be); its row is made on first use."""
    def make() -> User:
        user_id = str(uuid.uuid4())
        return User(user_id, f"user-{user_id[:8]}@example.com")
    return make


@pytest.fixture
def alice(new_user: Callable[[], User]) -> User:
    return new_user()


@pytest.fixture
def bob(new_user: Callable[[], User]) -> User:
    return new_user()


@pytest.fixture
def files_api(files_module: ModuleType, alice: User) -> Api:
    return Api(files_module, alice.claims)


@pytest.fixture
def db() -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """A direct autocommit connection to inspect or arrange rows behind the API's back."""
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture(scope="session")
def opensearch() -> Any:
    """A client of the real OpenSearch, the namespace's files index behind its alias ensured."""
    from fileshare.search import index as search_index

    _require("OPENSEARCH_URL")
    search_index.ensure_index(search_index.client(), settings().search_alias)
    return search_index.client()


@pytest.fixture
def redis_client() -> Any:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def s3() -> Any:
    from fileshare.adapters.aws import client

    return client("s3")


@pytest.fixture
def override_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set env vars for this test and re-read the settings (restored afterwards)."""
    def apply(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings.cache_clear()
    yield apply
    monkeypatch.undo()
    settings.cache_clear()
