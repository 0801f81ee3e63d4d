"""Fixtures of the sharing and public-link tests (shares, links, the link page, abuse limits)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import User, _load_handler, _require
from tests.support.sharing import World, random_ip


@pytest.fixture(scope="session")
def sharing_module() -> Any:
    _require("DATABASE_URL", "REDIS_URL", "OPENSEARCH_URL")
    return _load_handler("sharing")


@pytest.fixture(scope="session")
def public_module() -> Any:
    _require("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL", "UPLOAD_BUCKET")
    return _load_handler("public_link")


@pytest.fixture
def world(files_module: Any, sharing_module: Any, search_module: Any, public_module: Any, db: Any,
          opensearch: Any) -> World:
    return World(files_module, sharing_module, search_module, public_module, db, opensearch)


@pytest.fixture
def carol(new_user: Any) -> User:
    return new_user()


@pytest.fixture
def ip() -> str:
    return random_ip()
