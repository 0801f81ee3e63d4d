"""The account flows' answers that must not tell whether an address has an account, on the rules
that need no service (the flows themselves: tests/integration/api/test_api_auth.py)."""

from __future__ import annotations

from typing import Any

import pytest

from fileshare import identity
from fileshare.errors import RateLimited, ValidationFailed


@pytest.mark.parametrize("password", [
    "Correct-Horse-7x", "Abcdef ghijk1", "Abcdefghij1!", "Zz9" + "~" * 9,
])
def test_the_pool_policy_accepts(password: str) -> None:
    identity.check_password_policy(password)


@pytest.mark.parametrize("password", [
    "Short-1a", "alllowercase1!", "ALLUPPERCASE1!", "NoDigitsHere!!", "NoSymbols12345", "",
])
def test_the_pool_policy_refuses_as_cognito_does(password: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        identity.check_password_policy(password)
    assert refused.value.code == "weak_password"


@pytest.mark.parametrize("refusal", [
    RateLimited("too many attempts", retry_after_s=60, code="too_many_attempts"),
    ValidationFailed("User is already confirmed.", code="invalid_credentials_format"),
])
def test_mailing_a_code_is_silent_when_only_an_account_could_be_refused(
        monkeypatch: pytest.MonkeyPatch, refusal: Exception) -> None:
    """Cognito's per-user limit (LimitExceededException) is reached by existing accounts only."""
    def refuse(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise refusal

    monkeypatch.setattr(identity, "_cognito_call", refuse)
    monkeypatch.setattr(identity, "_client_id", lambda: "client")
    identity.resend_confirmation("someone@example.com")
    identity.forgot_password("someone@example.com")


class _FakeRedis:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def set(self, key: str, value: str, ex: int) -> None:
        assert ex == identity.DECOY_TTL_S
        self.values[key] = value

    def get(self, key: str) -> str | None:
        return self.values.get(key)


def test_a_decoy_matches_its_password_only_and_keeps_no_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare.adapters import cache

    fake = _FakeRedis()
    monkeypatch.setattr(cache, "redis_client", lambda: fake)
    identity._remember_decoy("Someone@Example.com", "Probing-Horse-42")
    assert identity._is_decoy("someone@example.com", "Probing-Horse-42")
    assert not identity._is_decoy("someone@example.com", "Probing-Horse-43")
    assert not identity._is_decoy("other@example.com", "Probing-Horse-42")
    stored = " ".join(fake.values) + " ".join(fake.values.values())
    assert "someone" not in stored.lower() and "Probing" not in stored


def test_without_redis_there_is_no_decoy_and_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare.adapters import cache

    monkeypatch.setattr(cache, "redis_client", lambda: None)
    identity._remember_decoy("someone@example.com", "Probing-Horse-42")
    assert not identity._is_decoy("someone@example.com", "Probing-Horse-42")
