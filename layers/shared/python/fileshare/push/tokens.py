"""``$connect``'s authentication: the Cognito id token, checked as the REST API's authorizer does it
(RS256 signature against the user pool's JWKS, issuer, audience = the web client, ``token_use: id``,
expiry). The JWKS is fetched once per process and again when a token names an unknown key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from fileshare.config import settings
from fileshare.errors import Unauthorized

if TYPE_CHECKING:
    import jwt


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str


def issuer() -> str:
    current = settings()
    return f"https://cognito-idp.{current.region}.amazonaws.com/{current.user_pool_id}"


def jwks_url() -> str:
    """The pool's public keys: Cognito's own host in AWS, the local Cognito's locally."""
    current = settings()
    base = (current.cognito_endpoint_url or f"https://cognito-idp.{current.region}.amazonaws.com").rstrip("/")
    return f"{base}/{current.user_pool_id}/.well-known/jwks.json"


@lru_cache(maxsize=1)
def _jwks() -> jwt.PyJWKClient:
    import jwt  # lazy: only $connect pays for the import

    return jwt.PyJWKClient(jwks_url(), cache_keys=True, lifespan=3600, timeout=3)


def verify(token: str | None) -> Caller:
    """The caller an id token names, or ``Unauthorized`` (the reason is logged by the caller; the
    token never is)."""
    import jwt

    if not token:
        raise Unauthorized("an id token is required", code="unauthorized")
    current = settings()
    try:
        key = _jwks().get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=current.user_pool_client_id,
                            issuer=issuer(), options={"require": ["exp", "iss", "aud", "token_use", "sub"]})
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized(f"the id token was refused ({type(exc).__name__})", code="unauthorized") from exc
    if claims.get("token_use") != "id":
        raise Unauthorized("the token is not an id token", code="unauthorized")
    return Caller(user_id=str(claims["sub"]), email=str(claims.get("email", "")))
