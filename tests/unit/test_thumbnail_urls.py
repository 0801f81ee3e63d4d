"""A warm function signs each thumbnail's URL once per half lifetime, not once per list row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fileshare.adapters import storage
from fileshare.config import settings


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PRESIGN_TTL_SECONDS", "900")
    settings.cache_clear()
    storage._thumbnail_urls.clear()
    yield
    storage._thumbnail_urls.clear()
    monkeypatch.undo()
    settings.cache_clear()


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_a_thumbnail_url_is_reused_while_half_its_lifetime_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(storage.time, "monotonic", lambda: clock[0])
    signed: list[str] = []
    real = storage.presigned_get

    def counting(key: str, **kwargs: Any) -> str:
        signed.append(key)
        return real(key, **kwargs)

    monkeypatch.setattr(storage, "presigned_get", counting)

    first = storage.thumbnail_url("t/owner/a.webp")
    assert first is not None and _query(first)["X-Amz-Expires"] == ["900"]
    assert _query(first)["response-content-type"] == ["image/webp"]
    clock[0] += 449
    assert storage.thumbnail_url("t/owner/a.webp") == first
    assert signed == ["t/owner/a.webp"]
    clock[0] += 2  # past half of 900 s: a fresh URL, so none handed out has less than 450 s left
    assert storage.thumbnail_url("t/owner/a.webp") is not None
    assert signed == ["t/owner/a.webp", "t/owner/a.webp"]
    assert storage.thumbnail_url(None) is None and storage.thumbnail_url("") is None


def test_each_key_has_its_own_url_and_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "THUMBNAIL_URLS_KEPT", 3)
    urls = [storage.thumbnail_url(f"t/owner/{n}.webp") for n in range(4)]
    assert len(set(urls)) == 4
    assert all(f"/t/owner/{n}.webp" in str(url) for n, url in enumerate(urls))
    assert list(storage._thumbnail_urls) == ["t/owner/1.webp", "t/owner/2.webp", "t/owner/3.webp"]
