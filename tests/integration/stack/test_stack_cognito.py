"""The local Cognito (moto server): sign-up, confirm, password login, refresh, and tokens that verify
against the local JWKS exactly as API Gateway's Cognito authorizer and the local gateway check them.

Reads AWS_ENDPOINT_URL_COGNITO_IDP, USER_POOL_ID, USER_POOL_CLIENT_ID, COGNITO_ISSUER and
COGNITO_JWKS_URL from the environment (.local/test.env).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from typing import Any

import boto3
import jwt
import pytest

PASSWORD = "Correct-horse-9"


@pytest.fixture(scope="module")
def pool() -> dict[str, str]:
    names = ("AWS_ENDPOINT_URL_COGNITO_IDP", "USER_POOL_ID", "USER_POOL_CLIENT_ID", "COGNITO_ISSUER",
             "COGNITO_JWKS_URL")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.fail(f"the local stack is not up (missing {missing} in .local/test.env): run `make up`")
    return {name: os.environ[name] for name in names}


@pytest.fixture(scope="module")
def idp(pool: dict[str, str]) -> Any:
    return boto3.client(
        "cognito-idp", endpoint_url=pool["AWS_ENDPOINT_URL_COGNITO_IDP"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )


@pytest.fixture(scope="module")
def jwks(pool: dict[str, str]) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(pool["COGNITO_JWKS_URL"], cache_keys=True)


@pytest.fixture
def user(idp: Any, pool: dict[str, str]) -> str:
    """A confirmed user, the way POST /auth/register makes one locally."""
    email = f"test-{uuid.uuid4().hex[:12]}@example.com"
    idp.sign_up(ClientId=pool["USER_POOL_CLIENT_ID"], Username=email, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": email}])
    idp.admin_confirm_sign_up(UserPoolId=pool["USER_POOL_ID"], Username=email)
    return email


def login(idp: Any, pool: dict[str, str], email: str, password: str) -> dict[str, Any]:
    result: dict[str, Any] = idp.initiate_auth(
        ClientId=pool["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]
    return result


def verify(
    token: str, jwks: jwt.PyJWKClient, pool: dict[str, str], *, audience: bool = True
) -> dict[str, Any]:
    """What the authorizer does: RS256 against the pool's JWKS, issuer and (id tokens) audience."""
    key = jwks.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["RS256"], issuer=pool["COGNITO_ISSUER"],
        audience=pool["USER_POOL_CLIENT_ID"] if audience else None,
        options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": audience},
    )
    return claims


def test_password_login_yields_an_id_token_that_verifies(idp, pool, jwks, user):
    tokens = login(idp, pool, user, PASSWORD)

    claims = verify(tokens["IdToken"], jwks, pool)
    assert claims["token_use"] == "id"
    assert claims["aud"] == pool["USER_POOL_CLIENT_ID"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    assert claims["iss"] == f"https://cognito-idp.{region}.amazonaws.com/{pool['USER_POOL_ID']}"
    assert claims["email"] == user
    assert claims["sub"]

    access = verify(tokens["AccessToken"], jwks, pool, audience=False)
    assert access["token_use"] == "access"
    assert access["client_id"] == pool["USER_POOL_CLIENT_ID"]
    assert access["sub"] == claims["sub"]
    assert tokens["RefreshToken"]


def test_tampered_token_is_rejected(idp, pool, jwks, user):
    id_token = login(idp, pool, user, PASSWORD)["IdToken"]
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "someone-else@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(jwt.InvalidSignatureError):
        verify(f"{header}.{forged}.{signature}", jwks, pool)


def test_token_for_another_client_is_rejected(idp, pool, jwks, user):
    id_token = login(idp, pool, user, PASSWORD)["IdToken"]
    key = jwks.get_signing_key_from_jwt(id_token)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(id_token, key.key, algorithms=["RS256"], audience="some-other-client",
                   issuer=pool["COGNITO_ISSUER"])


def test_wrong_password_is_refused(idp, pool, user):
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        login(idp, pool, user, PASSWORD + "x")


def test_unconfirmed_user_cannot_log_in(idp, pool):
    email = f"test-{uuid.uuid4().hex[:12]}@example.com"
    idp.sign_up(ClientId=pool["USER_POOL_CLIENT_ID"], Username=email, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": email}])
    with pytest.raises(idp.exceptions.UserNotConfirmedException):
        login(idp, pool, email, PASSWORD)


def test_weak_password_is_refused_by_the_pool_policy(idp, pool):
    with pytest.raises(idp.exceptions.InvalidPasswordException):
        idp.sign_up(ClientId=pool["USER_POOL_CLIENT_ID"], Password="short",
                    Username=f"test-{uuid.uuid4().hex[:12]}@example.com")


def test_refresh_yields_a_fresh_verifiable_id_token(idp, pool, jwks, user):
    tokens = login(idp, pool, user, PASSWORD)

    refreshed = idp.initiate_auth(
        ClientId=pool["USER_POOL_CLIENT_ID"], AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]

    claims = verify(refreshed["IdToken"], jwks, pool)
    assert claims["token_use"] == "id"
    assert claims["email"] == user
    assert claims["sub"] == verify(tokens["IdToken"], jwks, pool)["sub"]
    assert verify(refreshed["AccessToken"], jwks, pool, audience=False)["token_use"] == "access"


def test_garbage_refresh_token_is_refused(idp, pool):
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.initiate_auth(ClientId=pool["USER_POOL_CLIENT_ID"], AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": "not-a-refresh-token"})
