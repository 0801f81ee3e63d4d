"""Link tokens and password hashes (fileshare.links.links): unguessable, stored hashed, compared safely."""

from __future__ import annotations

import hashlib

import pytest

from fileshare.links import links


def test_tokens_are_43_url_safe_characters_and_never_repeat() -> None:
    tokens = {links.new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(links.is_token_shaped(t) for t in tokens)


@pytest.mark.parametrize("token", ["", "abc", "a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "/",
                                   "../" + "a" * 40, "a" * 42 + "\n"])
def test_anything_else_is_not_token_shaped(token: str) -> None:
    assert not links.is_token_shaped(token)


def test_the_token_hash_is_sha256_hex() -> None:
    token = links.new_token()
    assert links.token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert links.token_hash(token) != links.token_hash(links.new_token())


def test_password_hashes_verify_and_carry_their_parameters() -> None:
    stored = links.hash_password("correct horse")
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert "correct horse" not in stored
    assert links.verify_password("correct horse", stored)
    assert not links.verify_password("correct horsE", stored)
    assert not links.verify_password("", stored)


def test_the_same_password_hashes_differently_each_time() -> None:
    first, second = links.hash_password("same"), links.hash_password("same")
    assert first != second and first.split("$")[4] != second.split("$")[4]
    assert links.verify_password("same", first) and links.verify_password("same", second)


def test_a_hash_with_lower_stored_parameters_still_verifies() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"pw", salt=salt, n=2**10, r=8, p=1, dklen=32)
    stored = f"scrypt${2**10}$8$1${links._b64(salt)}${links._b64(digest)}"
    assert links.verify_password("pw", stored) and not links.verify_password("pw2", stored)


@pytest.mark.parametrize("stored", ["", "scrypt", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$AA$AA",
                                    "scrypt$16384$8$1$!!$AA", "scrypt$3$8$1$AAAA$AAAA"])
def test_malformed_stored_hashes_never_verify(stored: str) -> None:
    assert not links.verify_password("anything", stored)


def test_link_urls_use_the_public_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare.config import settings

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://files.example.com/")
    settings.cache_clear()
    try:
        assert links.link_url("tok") == "https://files.example.com/s/tok"
    finally:
        monkeypatch.undo()
        settings.cache_clear()
