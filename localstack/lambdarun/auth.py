"""The Cognito user-pool authorizer: verifies ID tokens against the pool's JWKS (RS256)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import jwt

from fileshare.config import cognito_endpoint
from lambdarun.environment import region
from lambdarun.events import stringify_claims

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CognitoSettings:
    jwks_url: str
    issuer: str
    client_id: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CognitoSettings | None:
        """COGNITO_JWKS_URL / COGNITO_ISSUER / USER_POOL_CLIENT_ID, derived from the pool when absent."""
        pool_id = env.get("USER_POOL_ID", "")
        endpoint = cognito_endpoint(env).rstrip("/")
        jwks_url = env.get("COGNITO_JWKS_URL") or (
            f"{endpoint}/{pool_id}/.well-known/jwks.json" if endpoint and pool_id else ""
        )
        issuer = env.get("COGNITO_ISSUER") or (
            f"https://cognito-idp.{region(env)}.amazonaws.com/{pool_id}" if pool_id else ""
        )
        client_id = env.get("USER_POOL_CLIENT_ID", "")
        if not (jwks_url and issuer and client_id):
            return None
        return cls(jwks_url, issuer, client_id)


class UnauthorizedError(Exception):
    """The request carries no valid ID token; API Gateway answers 401 Unauthorized."""


class CognitoAuthorizer:
    """Checks what API Gateway's Cognito authorizer checks: signature, iss, aud, token_use, exp.

    The JWKS is cached and fetched again when a token names an unknown ``kid``.
    """

    def __init__(self, settings: CognitoSettings | None, *, jwks_timeout_s: float = 3.0) -> None:
        self.settings = settings
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=3600, timeout=jwks_timeout_s,
                            cooldown_duration=1.0)
            if settings
            else None
        )

    def claims(self, authorization: str | None) -> dict[str, str]:
        """The token's claims as strings, or raise Unauthorized (reason logged, never the token)."""
        if self.settings is None or self._jwks is None:
            log.warning("Cognito settings missing (COGNITO_JWKS_URL/USER_POOL_CLIENT_ID): denying")
            raise UnauthorizedError("authorizer not configured")
        if not authorization:
            raise UnauthorizedError("no token")
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                options={"require": ["exp", "iss", "aud", "token_use"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            log.error("JWKS unreachable at %s: %s", self.settings.jwks_url, exc)
            raise UnauthorizedError("jwks unreachable") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            log.info("token rejected: %s", type(exc).__name__)
            raise UnauthorizedError(type(exc).__name__) from exc
        if claims.get("token_use") != "id":
            raise UnauthorizedError("not an id token")
        return stringify_claims(claims)
