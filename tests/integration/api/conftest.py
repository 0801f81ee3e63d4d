"""Fixtures of the API tests (files, multipart, search, notifications, auth, the access matrix, rate
limits, caching): the auth routes' handler without claims, and the accounts they register."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.conftest import Api

PASSWORD = "Correct-Horse-9"  # meets the pool's policy (12+, upper, lower, digit, symbol)


def fresh_email(tag: str = "auth") -> str:
    """An address no account has yet (registrations are global to the test namespace's pool)."""
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def auth_api(auth_module: Any) -> Api:
    return Api(auth_module)  # public routes: no authorizer claims
