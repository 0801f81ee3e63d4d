"""The auth API (functions/auth) against the real moto Cognito user pool and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
import requests

from tests.integration.conftest import Api

PASSWORD = "Correct-Horse-9"


@pytest.fixture
def auth_api(auth_module: Any) -> Api:
    return Api(auth_module)  # public routes: no authorizer claims


def fresh_email() -> str:
    return f"auth-{uuid.uuid4().hex[:12]}@example.com"


def verified_claims(id_token: str) -> dict[str, Any]:
    """Verify the id token like the gateway does: RS256 against the pool's JWKS."""
    import os

    endpoint, pool_id = os.environ["AWS_ENDPOINT_URL_COGNITO_IDP"], os.environ["USER_POOL_ID"]
    jwks_url = f"{endpoint}/{pool_id}/.well-known/jwks.json"
    keys = jwt.PyJWKSet.from_dict(requests.get(jwks_url, timeout=10).json())
    key = keys[jwt.get_unverified_header(id_token)["kid"]].key
    return jwt.decode(id_token, key, algorithms=["RS256"], audience=os.environ["USER_POOL_CLIENT_ID"])


def test_register_login_refresh(auth_api: Api, db: Any) -> None:
    email = fresh_email()
    registered = auth_api("POST", "/auth/register", body={"email": email.upper(), "password": PASSWORD})
    assert registered.status == 201, registered.body
    user_id = registered.body["user_id"]
    row = db.execute("SELECT email, quota_bytes FROM users WHERE user_id = %s", (user_id,)).fetchone()
    assert row["email"] == email and row["quota_bytes"] > 0

    login = auth_api("POST", "/auth/login", body={"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    assert set(login.body) == {"id_token", "access_token", "refresh_token", "expires_in"}
    claims = verified_claims(login.body["id_token"])
    assert claims["sub"] == user_id and claims["email"] == email

    refreshed = auth_api("POST", "/auth/refresh", body={"refresh_token": login.body["refresh_token"]})
    assert refreshed.status == 200, refreshed.body
    assert verified_claims(refreshed.body["id_token"])["sub"] == user_id
    assert refreshed.body["refresh_token"] == login.body["refresh_token"]


def test_duplicate_email_is_409(auth_api: Api) -> None:
    email = fresh_email()
    assert auth_api("POST", "/auth/register", body={"email": email, "password": PASSWORD}).status == 201
    again = auth_api("POST", "/auth/register", body={"email": email, "password": PASSWORD})
    assert again.status == 409 and again.error_code == "email_taken"


@pytest.mark.parametrize(("body", "code"), [
    ({"email": "x@example.com", "password": "short"}, "weak_password"),
    ({"email": "x@example.com", "password": "alllowercase1"}, "weak_password"),
    ({"email": "not-an-email", "password": PASSWORD}, "validation_failed"),
    ({"email": "x@example.com"}, "validation_failed"),
])
def test_register_rejects_bad_input(auth_api: Api, body: dict[str, str], code: str, db: Any) -> None:
    if "@example.com" in body["email"]:
        body = {**body, "email": fresh_email()}
    reply = auth_api("POST", "/auth/register", body=body)
    assert reply.status == 422 and reply.error_code == code, reply.body
    assert db.execute("SELECT 1 FROM users WHERE email = %s", (body["email"],)).fetchone() is None


def test_wrong_password_or_unknown_user_is_401(auth_api: Api) -> None:
    email = fresh_email()
    auth_api("POST", "/auth/register", body={"email": email, "password": PASSWORD})
    wrong_password = {"email": email, "password": PASSWORD + "x"}
    for body in (wrong_password, {"email": fresh_email(), "password": PASSWORD}):
        reply = auth_api("POST", "/auth/login", body=body)
        assert reply.status == 401 and reply.error_code == "invalid_credentials"


def test_bad_refresh_token_is_401(auth_api: Api) -> None:
    reply = auth_api("POST", "/auth/refresh", body={"refresh_token": "not-a-token"})
    assert reply.status == 401 and reply.error_code == "invalid_credentials"
