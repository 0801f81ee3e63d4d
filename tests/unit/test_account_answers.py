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
