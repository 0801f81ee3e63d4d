"""Cognito user pool calls: sign-up, password login, token refresh.

The client talks to moto's cognito-idp locally. boto3 does not read ``AWS_ENDPOINT_URL_COGNITO_IDP``
itself (its name for the service is ``COGNITO_IDENTITY_PROVIDER``), and ``AWS_ENDPOINT_URL`` points
at LocalStack, which has no Cognito; so the endpoint is passed explicitly from the settings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fileshare.config import settings
from fileshare.errors import Conflict, DependencyUnavailable, Forbidden, Unauthorized, ValidationFailed
from fileshare.models import Tokens


@lru_cache(maxsize=1)
def _idp() -> Any:
    import boto3
    from botocore.config import Config

    config = settings()
    return boto3.session.Session().client(
        "cognito-idp", region_name=config.region, endpoint_url=config.cognito_endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10))


def _client_id() -> str:
    client_id = settings().user_pool_client_id
    if not client_id:
        raise DependencyUnavailable("the user pool is not configured", code="auth_unavailable")
    return client_id


def _unavailable(exc: Exception) -> DependencyUnavailable:
    return DependencyUnavailable(f"the user pool is unavailable ({type(exc).__name__}); try again",
                                 code="auth_unavailable")


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def register(email: str, password: str) -> str:
    """Create the Cognito user and return its ``sub``; in local mode confirm it at once."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result = _idp().sign_up(ClientId=_client_id(), Username=email, Password=password,
                                UserAttributes=[{"Name": "email", "Value": email}])
        if settings().local_mode and not result.get("UserConfirmed"):
            _idp().admin_confirm_sign_up(UserPoolId=settings().user_pool_id, Username=email)
    except ClientError as exc:
        code = _error_code(exc)
        if code in ("UsernameExistsException", "AliasExistsException"):
            raise Conflict("an account with this email exists", code="email_taken") from exc
        if code == "InvalidPasswordException":
            raise ValidationFailed("the password does not meet the policy: at least 8 characters with "
                                   "upper and lower case letters and a digit", code="weak_password") from exc
        if code == "InvalidParameterException":
            raise ValidationFailed("the email or password is not acceptable",
                                   code="invalid_credentials_format") from exc
        raise
    except BotoCoreError as exc:  # endpoint unreachable, timeouts
        raise _unavailable(exc) from exc
    return str(result["UserSub"])


def _tokens(result: dict[str, Any], refresh_token: str | None = None) -> Tokens:
    auth = result.get("AuthenticationResult")
    if not auth:  # a challenge (e.g. NEW_PASSWORD_REQUIRED): not supported by this API
        raise Forbidden("the account needs an action this API does not support", code="auth_challenge")
    return Tokens(id_token=auth["IdToken"], access_token=auth["AccessToken"],
                  refresh_token=auth.get("RefreshToken") or refresh_token or "",
                  expires_in=int(auth.get("ExpiresIn", 3600)))


def _authenticate(flow: str, parameters: dict[str, str], refresh_token: str | None = None) -> Tokens:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result = _idp().initiate_auth(ClientId=_client_id(), AuthFlow=flow, AuthParameters=parameters)
    except ClientError as exc:
        code = _error_code(exc)
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise Unauthorized("wrong email, password or token", code="invalid_credentials") from exc
        if code == "UserNotConfirmedException":
            raise Forbidden("confirm the account first", code="user_not_confirmed") from exc
        if code == "PasswordResetRequiredException":
            raise Forbidden("the password must be reset", code="password_reset_required") from exc
        raise
    except BotoCoreError as exc:
        raise _unavailable(exc) from exc
    return _tokens(result, refresh_token)


def login(email: str, password: str) -> Tokens:
    return _authenticate("USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": password})


def refresh(refresh_token: str) -> Tokens:
    return _authenticate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, refresh_token)


def create_account(email: str, password: str) -> str:
    """Register with Cognito and create the user's row with the default quota; returns the user id.

    An email already on a row under another id (a Cognito user deleted outside the API) is a 409
    before Cognito is called, so no half-made account is left behind.
    """
    from fileshare.db import shares as shares_db
    from fileshare.db import users as users_db
    from fileshare.db.connection import transaction

    with transaction() as conn:
        taken = shares_db.user_by_email(conn, email)
    if taken:
        raise Conflict("an account with this email exists", code="email_taken")
    user_id = register(email, password)
    with transaction() as conn:
        if users_db.ensure(conn, user_id, email, settings().default_quota_bytes) is None:
            raise Conflict("an account with this email exists", code="email_taken")
    return user_id
