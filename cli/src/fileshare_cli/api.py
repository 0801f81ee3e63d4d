"""Calls through the generated client: one place that turns statuses into errors and keeps the
session fresh (the id token is refreshed before it expires, and once more after a 401)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import httpx

from fileshare_api_client import AuthenticatedClient, Client
from fileshare_api_client.api.auth import (
    login_auth_login_post,
    logout_auth_logout_post,
    refresh_auth_refresh_post,
)
from fileshare_api_client.errors import UnexpectedStatus
from fileshare_api_client.models import Credentials, ErrorEnvelope, RefreshIn, Tokens
from fileshare_api_client.types import Response
from fileshare_cli import config
from fileshare_cli.errors import ApiError, CliError, Exit, NotLoggedInError

T = TypeVar("T")
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class Operation(Protocol):
    """A generated operation module (``fileshare_api_client.api.<tag>.<operation>``)."""

    sync_detailed: Callable[..., Response[Any]]


def _result(response: Response[Any]) -> Any:
    status = int(response.status_code)
    if status < 400:
        return response.parsed
    parsed = response.parsed
    if isinstance(parsed, ErrorEnvelope):
        raise ApiError(status, parsed.error.code, parsed.error.message)
    raise ApiError(status, "http_error", f"HTTP {status}")


def call(client: Client | AuthenticatedClient, operation: Operation, *args: Any, **kwargs: Any) -> Any:
    """Run one generated operation; its parsed body, or an ``ApiError`` (``CliError`` for the network
    and for a status the document does not list, which means the document is wrong)."""
    try:
        return _result(operation.sync_detailed(*args, client=client, **kwargs))
    except UnexpectedStatus as exc:
        raise CliError(f"the API answered {exc.status_code}, which its OpenAPI document does not list: "
                       f"{exc.content[:200]!r}", error="undocumented_status", status=exc.status_code) from exc
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach the API: {exc}", error="network") from exc


def anonymous(api: str) -> Client:
    return Client(base_url=api, raise_on_unexpected_status=True, timeout=TIMEOUT)


def _session_from(email: str, tokens: Tokens, previous: config.Session | None = None) -> config.Session:
    refresh = tokens.refresh_token or (previous.refresh_token if previous else "")
    return config.Session(email=email, id_token=tokens.id_token, refresh_token=refresh,
                          expires_at=time.time() + tokens.expires_in)


def login(api: str, email: str, password: str) -> config.Session:
    tokens = call(anonymous(api), login_auth_login_post, body=Credentials(email=email, password=password))
    session = _session_from(email, tokens)
    config.save_session(api, session)
    return session


def logout(api: str) -> bool:
    """Revoke the refresh token (every session of the account ends) and forget the local one."""
    session = config.load_session(api)
    if session is None:
        return False
    try:
        call(anonymous(api), logout_auth_logout_post, body=RefreshIn(refresh_token=session.refresh_token))
    except ApiError as exc:
        if exc.exit_code is not Exit.AUTH:  # an already revoked token is logged out all the same
            raise
    config.forget_session(api)
    return True


class Api:
    """The logged-in account's view of one API: ``api.call(operation, ...)``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        session = config.load_session(base_url)
        if session is None:
            raise NotLoggedInError(base_url)
        self.session = session
        self._client: AuthenticatedClient | None = None

    @property
    def client(self) -> AuthenticatedClient:
        if self.session.expired():
            self.refresh()
        if self._client is None:
            self._client = AuthenticatedClient(base_url=self.base_url, token=self.session.id_token,
                                               raise_on_unexpected_status=True, timeout=TIMEOUT)
        return self._client

    def refresh(self) -> None:
        try:
            tokens = call(anonymous(self.base_url), refresh_auth_refresh_post,
                          body=RefreshIn(refresh_token=self.session.refresh_token))
        except ApiError as exc:
            if exc.exit_code is Exit.AUTH:
                raise CliError(f"the session has ended ({exc.message}): run `fileshare login`",
                               error="session_expired", status=exc.status, exit_code=Exit.AUTH) from exc
            raise
        self.session = _session_from(self.session.email, tokens, self.session)
        config.save_session(self.base_url, self.session)
        self._client = None

    def call(self, operation: Operation, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(self.client, operation, *args, **kwargs)
        except ApiError as exc:
            if exc.status != 401:
                raise
        self.refresh()  # the token was refused before its expiry (revoked, clock skew): once more
        return call(self.client, operation, *args, **kwargs)
