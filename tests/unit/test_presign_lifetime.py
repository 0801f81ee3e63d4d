"""A presigned POST lives only as long as its upload needs (the policy can be replayed until then)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from fileshare.adapters import storage
from fileshare.config import settings


@pytest.fixture(autouse=True)
def _ttl_900(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PRESIGN_TTL_SECONDS", "900")
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def _expiration(size: int) -> tuple[datetime, datetime, datetime]:
    """(earliest, policy expiration, latest): the expiration must lie within the call's TTL window."""
    before = datetime.now(UTC).replace(microsecond=0)
    post = storage.presigned_post(f"u/owner/{size}/f.bin", size, "application/octet-stream")
    after = datetime.now(UTC)
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    ttl = timedelta(seconds=storage.post_ttl_s(size))
    return before + ttl, expires, after + ttl + timedelta(seconds=1)


def test_a_small_files_post_expires_in_minutes_not_the_full_ttl() -> None:
    assert storage.post_ttl_s(1_000) == storage.POST_TTL_BASE_S < settings().presign_ttl_s
    earliest, expires, latest = _expiration(1_000)
    assert earliest <= expires <= latest


def test_the_lifetime_grows_with_the_size_up_to_the_configured_ttl() -> None:
    assert storage.post_ttl_s(10 * 1024**2) == storage.POST_TTL_BASE_S + 160
    assert storage.post_ttl_s(60 * 1024**2) == settings().presign_ttl_s
    earliest, expires, latest = _expiration(60 * 1024**2)
    assert earliest <= expires <= latest
