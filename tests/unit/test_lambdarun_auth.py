"""The Cognito authorizer against a real RSA key and a JWKS served over local HTTP."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest

from lambdarun.auth import CognitoAuthorizer, CognitoSettings, UnauthorizedError
from tests.fixtures.functions.lambdarun_fixtures import LocalIssuer


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer()
    yield local
    local.close()


@pytest.fixture
def authorizer(issuer: LocalIssuer) -> CognitoAuthorizer:
    return CognitoAuthorizer(CognitoSettings(issuer.jwks_url, LocalIssuer.ISSUER, LocalIssuer.CLIENT_ID))


def test_valid_id_token_gives_string_claims(issuer: LocalIssuer, authorizer: CognitoAuthorizer) -> None:
    claims = authorizer.claims(issuer.token(sub="user-1"))
    assert claims["sub"] == "user-1" and claims["email"] == "alice@example.com"
    assert claims["email_verified"] == "true" and claims["token_use"] == "id"
    assert all(isinstance(v, str) for v in claims.values())
    assert authorizer.claims("Bearer " + issuer.token(sub="user-2"))["sub"] == "user-2"


def test_jwks_is_cached(issuer: LocalIssuer, authorizer: CognitoAuthorizer) -> None:
    before = issuer.fetches
    for _ in range(3):
        authorizer.claims(issuer.token())
    assert issuer.fetches - before == 1


def test_unknown_kid_refetches_the_jwks(issuer: LocalIssuer, authorizer: CognitoAuthorizer) -> None:
    authorizer.claims(issuer.token())
    before = issuer.fetches
    issuer.add_key("kid-2")  # the pool rotated its keys
    time.sleep(1.1)  # past the refetch cooldown (not an assertion on time)
    assert authorizer.claims(issuer.token(kid="kid-2", sub="rotated"))["sub"] == "rotated"
    assert issuer.fetches - before == 1


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = base64.urlsafe_b64decode(payload + "==").replace(b"alice", b"mallo")
    return ".".join([header, base64.urlsafe_b64encode(claims).rstrip(b"=").decode(), signature])


@pytest.mark.parametrize(
    "make",
    [
        lambda i: None,
        lambda i: "",
        lambda i: "not-a-jwt",
        lambda i: _tamper(i.token()),
        lambda i: i.token(aud="someone-else"),
        lambda i: i.token(iss="https://cognito-idp.us-east-1.amazonaws.com/other-pool"),
        lambda i: i.token(exp=int(time.time()) - 60),
        lambda i: i.token(token_use="access"),
        lambda i: i.token(token_use=None),
        lambda i: i.token(exp=None),
    ],
    ids=["missing", "empty", "garbage", "tampered", "wrong-aud", "wrong-iss", "expired", "access-token",
         "no-token-use", "no-exp"],
)
def test_rejected_tokens(issuer: LocalIssuer, authorizer: CognitoAuthorizer, make) -> None:
    with pytest.raises(UnauthorizedError):
        authorizer.claims(make(issuer))


def test_token_signed_by_another_key_is_rejected(issuer: LocalIssuer, authorizer: CognitoAuthorizer) -> None:
    other = LocalIssuer()
    try:
        with pytest.raises(UnauthorizedError):
            authorizer.claims(other.token())  # same kid "kid-1", different key
    finally:
        other.close()


def test_unconfigured_authorizer_denies(issuer: LocalIssuer) -> None:
    with pytest.raises(UnauthorizedError):
        CognitoAuthorizer(None).claims(issuer.token())


def test_unreachable_jwks_denies(issuer: LocalIssuer) -> None:
    authorizer = CognitoAuthorizer(CognitoSettings("http://127.0.0.1:9/jwks.json", LocalIssuer.ISSUER,
                                                   LocalIssuer.CLIENT_ID), jwks_timeout_s=0.5)
    with pytest.raises(UnauthorizedError):
        authorizer.claims(issuer.token())


def test_settings_from_env() -> None:
    assert CognitoSettings.from_env({}) is None
    derived = CognitoSettings.from_env({"USER_POOL_ID": "us-east-1_abc", "USER_POOL_CLIENT_ID": "c",
                                        "AWS_ENDPOINT_URL_COGNITO_IDP": "http://127.0.0.1:4599/",
                                        "AWS_REGION": "us-east-1"})
    assert derived == CognitoSettings("http://127.0.0.1:4599/us-east-1_abc/.well-known/jwks.json",
                                      "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc", "c")
    explicit = CognitoSettings.from_env({"COGNITO_JWKS_URL": "http://j", "COGNITO_ISSUER": "https://i",
                                         "USER_POOL_CLIENT_ID": "c"})
    assert explicit == CognitoSettings("http://j", "https://i", "c")
