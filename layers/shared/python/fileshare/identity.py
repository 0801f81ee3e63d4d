"""Cognito user pool calls: sign-up with an emailed code, password login and reset, token refresh.

An address counts only once Cognito has verified it (``email_verified``): the users row is created
at confirmation (and kept in step at every login and refresh) from the verified address only.

No answer tells whether an address has an account: registering a taken address answers as a new
one does (the owner is mailed instead), confirming answers one way for an unknown address, a
confirmed account and a wrong code, and resend, forgot and reset answer alike for every address.

The client talks to moto's cognito-idp locally. boto3 does not read ``AWS_ENDPOINT_URL_COGNITO_IDP``
itself (its name for the service is ``COGNITO_IDENTITY_PROVIDER``), and ``AWS_ENDPOINT_URL`` points
at LocalStack, which has no Cognito; so the endpoint is passed explicitly from the settings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import uuid
from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fileshare import timeouts
from fileshare.adapters import aws, cache
from fileshare.config import settings
from fileshare.db import email_limits
from fileshare.db import shares as shares_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.errors import (
    Conflict,
    DependencyUnavailable,
    Forbidden,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from fileshare.models import Tokens

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _idp() -> Any:
    import boto3  # cold start: boto3 (~100 ms) only for Cognito calls
    from botocore.config import Config  # cold start: with boto3

    config = settings()
    return boto3.session.Session().client(
        "cognito-idp", region_name=config.region, endpoint_url=config.cognito_endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": timeouts.AWS_MAX_ATTEMPTS},
                      connect_timeout=timeouts.AWS_CONNECT_TIMEOUT_S,
                      read_timeout=timeouts.AWS_READ_TIMEOUT_S))


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


def _cognito_call(operation: str, **params: Any) -> dict[str, Any]:
    """One user-pool call; translates Cognito's errors into the API's (never leaks whether an
    account exists for an address: unknown users read as a wrong code or are accepted silently)."""
    try:
        result: dict[str, Any] = getattr(_idp(), operation)(**params)
        return result
    except ClientError as exc:
        code = _error_code(exc)
        if code in ("UsernameExistsException", "AliasExistsException"):
            raise Conflict("an account with this email exists", code="email_taken") from exc
        if code == "InvalidPasswordException":
            raise ValidationFailed("the password does not meet the policy: at least 12 characters "
                                   "with upper and lower case letters, a digit and a symbol",
                                   code="weak_password") from exc
        if code == "CodeMismatchException":
            raise ValidationFailed("the code is wrong", code="invalid_code") from exc
        if code == "ExpiredCodeException":
            raise ValidationFailed("the code has expired: ask for a new one", code="code_expired") from exc
        if code in ("LimitExceededException", "TooManyRequestsException", "TooManyFailedAttemptsException"):
            raise RateLimited("too many attempts; try again later", retry_after_s=60,
                              code="too_many_attempts") from exc
        if code == "InvalidParameterException":
            raise ValidationFailed("the email or password is not acceptable",
                                   code="invalid_credentials_format") from exc
        raise
    except BotoCoreError as exc:  # endpoint unreachable, timeouts
        raise _unavailable(exc) from exc


def register(email: str, password: str) -> str:
    """Create the unconfirmed Cognito user (Cognito mails the confirmation code); its ``sub``."""
    result = _cognito_call("sign_up", ClientId=_client_id(), Username=email, Password=password,
                           UserAttributes=[{"Name": "email", "Value": email}])
    return str(result["UserSub"])


def _user_attributes(email: str) -> dict[str, str]:
    result = _cognito_call("admin_get_user", UserPoolId=settings().user_pool_id, Username=email)
    return {a["Name"]: a["Value"] for a in result.get("UserAttributes", [])}


def _wrong_confirmation() -> ValidationFailed:
    """The one answer for a code that does not confirm: unknown address, an account confirmed
    before, or a wrong code for an unconfirmed one."""
    return ValidationFailed("the code is wrong, or there is nothing to confirm: ask for a new code, or "
                            "log in if the account is confirmed", code="invalid_code")


def confirm(email: str, code: str) -> tuple[str, str]:
    """Confirm a sign-up with the emailed code, then create the user's row; (user id, email).

    Cognito verifies the address as it confirms. An unknown address, an account confirmed before
    and a wrong code all get the same 422 (its row is made at every login too)."""
    try:
        _cognito_call("confirm_sign_up", ClientId=_client_id(), Username=email, ConfirmationCode=code)
    except ClientError as exc:
        if _error_code(exc) in ("UserNotFoundException", "NotAuthorizedException"):
            raise _wrong_confirmation() from exc
        raise
    except ValidationFailed as exc:
        if exc.code == "invalid_code":
            raise _wrong_confirmation() from exc
        raise
    attributes = _user_attributes(email)
    if attributes.get("email_verified") != "true":  # confirmed without a verified address
        raise Forbidden("the address is not verified", code="email_not_verified")
    user_id, verified = attributes["sub"], attributes["email"].lower()
    ensure_user(user_id, verified)
    return user_id, verified


def _mail_code(operation: str, email: str) -> None:
    """Ask Cognito to mail a code; silent when there is no account to mail (unknown, already
    confirmed, or unverified address) and when Cognito's per-user limit is reached (only an
    existing account can reach it), so the answer never tells whether an account exists."""
    try:
        _cognito_call(operation, ClientId=_client_id(), Username=email)
    except (ClientError, ValidationFailed, RateLimited) as exc:
        if isinstance(exc, ClientError) and _error_code(exc) not in ("UserNotFoundException",
                                                                       "NotAuthorizedException"):
            raise
        log.info("%s with nothing to mail (or over Cognito's limit) ignored", operation)


def resend_confirmation(email: str) -> None:
    """Mail a new confirmation code (to an unconfirmed account)."""
    _mail_code("resend_confirmation_code", email)


def forgot_password(email: str) -> None:
    """Mail a password reset code (to a verified address)."""
    _mail_code("forgot_password", email)


def reset_password(email: str, code: str, password: str) -> None:
    """Set a new password with the mailed code. A weak password is refused before Cognito is
    asked, so an unknown address and an account answer alike (422 ``weak_password``)."""
    check_password_policy(password)
    try:
        _cognito_call("confirm_forgot_password", ClientId=_client_id(), Username=email,
                      ConfirmationCode=code, Password=password)
    except ClientError as exc:
        if _error_code(exc) == "UserNotFoundException":
            raise ValidationFailed("the code is wrong", code="invalid_code") from exc
        raise


def _tokens(result: dict[str, Any], refresh_token: str | None = None) -> Tokens:
    auth = result.get("AuthenticationResult")
    if not auth:  # a challenge (e.g. NEW_PASSWORD_REQUIRED): not supported by this API
        raise Forbidden("the account needs an action this API does not support", code="auth_challenge")
    return Tokens(id_token=auth["IdToken"], access_token=auth["AccessToken"],
                  refresh_token=auth.get("RefreshToken") or refresh_token or "",
                  expires_in=int(auth.get("ExpiresIn", 3600)))


def _authenticate(flow: str, parameters: dict[str, str], refresh_token: str | None = None) -> Tokens:
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


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The payload of an id token Cognito just issued to us (no signature check: it came straight
    from the user pool over TLS, never from the client)."""
    payload = id_token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def _sync_user(tokens: Tokens) -> Tokens:
    """Make sure the users row exists and carries the verified address the tokens show."""
    claims = id_token_claims(tokens.id_token)
    if str(claims.get("email_verified")).lower() == "true" and claims.get("email"):
        ensure_user(str(claims["sub"]), str(claims["email"]).lower())
    return tokens


def login(email: str, password: str) -> Tokens:
    """Tokens for the address and password. A wrong password that is the one someone registered a
    taken address with (a decoy) answers as an unconfirmed sign-up does (403 ``user_not_confirmed``),
    as it would for a new address; so registering then logging in cannot tell an address is taken."""
    try:
        tokens = _authenticate("USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": password})
    except Unauthorized:
        if _is_decoy(email, password):
            raise Forbidden("confirm the account first", code="user_not_confirmed") from None
        raise
    return _sync_user(tokens)


def refresh(refresh_token: str) -> Tokens:
    return _sync_user(_authenticate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, refresh_token))


def logout(refresh_token: str) -> None:
    """Revoke ``refresh_token`` in Cognito, so /auth/refresh refuses it (401) from now on.

    Cognito's per-token RevokeToken is not in moto 5.2.5 (the local pool answers it with a 500), so
    the revocation both places share is a global sign-out: the token is exchanged for an access
    token and GlobalSignOut (authorized by that token, no IAM) revokes every refresh token of the
    user, every session included; the user logs in again on each device. Issued id tokens stay
    valid at the API until they expire (at most an hour), as JWTs checked by signature do.
    A token already revoked or never issued is no error: there is nothing left to sign out."""
    try:
        tokens = _authenticate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, refresh_token)
    except Unauthorized:
        log.info("logout with a refresh token that is no longer valid ignored")
        return
    _cognito_call("global_sign_out", AccessToken=tokens.access_token)


#: The user pool's password policy (infra/identity.py) and Cognito's symbols (space included).
PASSWORD_MIN_LENGTH = 12
_SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")


def check_password_policy(password: str) -> None:
    """The pool's policy, checked here so a taken address refuses a weak password as a new one
    does (Cognito checks it only for a sign-up it makes)."""
    if not (len(password) >= PASSWORD_MIN_LENGTH and re.search(r"[a-z]", password)
            and re.search(r"[A-Z]", password) and re.search(r"[0-9]", password)
            and any(ch in _SYMBOLS for ch in password)):
        raise ValidationFailed("the password does not meet the policy: at least 12 characters "
                               "with upper and lower case letters, a digit and a symbol",
                               code="weak_password")


TAKEN_SUBJECT = "Someone tried to register with your address"

#: How long a decoy answers logins: as long as a real sign-up's code would stay valid.
DECOY_TTL_S = 24 * 3600
_DECOY_PREFIX = "fs:decoy:v1:"
_DECOY_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _decoy_key(email: str) -> str:
    return _DECOY_PREFIX + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _remember_decoy(email: str, password: str) -> None:
    """Keep the password a taken address was registered with (salted scrypt, in Redis, for
    DECOY_TTL_S), so ``login`` answers it as a pending sign-up. Redis down: logged, not kept."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_DECOY_SCRYPT)
    client = cache.redis_client()
    try:
        if client is not None:
            client.set(_decoy_key(email), f"{salt.hex()}${digest.hex()}", ex=DECOY_TTL_S)
            return
    except Exception:  # Redis down: the decoy is lost, the answer is not
        log.warning("the registration decoy could not be kept", exc_info=True)
        return
    log.warning("no Redis: the registration decoy is not kept")


def _is_decoy(email: str, password: str) -> bool:
    client = cache.redis_client()
    try:
        stored = client.get(_decoy_key(email)) if client is not None else None
    except Exception:  # Redis down: no decoy
        log.warning("the registration decoy could not be read", exc_info=True)
        return False
    if not stored:
        return False
    salt, _, digest = str(stored).partition("$")
    actual = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, **_DECOY_SCRYPT)
    return hmac.compare_digest(actual, bytes.fromhex(digest))


def create_account(email: str, password: str) -> str:
    """Register with Cognito; returns the user id. The users row appears at confirmation, for the
    verified address only.

    A taken address answers exactly as a new one (a fresh id no account has; nothing is created):
    a confirmed account's owner is mailed that someone tried to register, an unconfirmed one gets a
    new confirmation code, as a new registration would; the password given is kept as a decoy, so
    logging in with it answers "confirm first" as it would after a new registration."""

    check_password_policy(password)
    with transaction() as conn:
        taken = shares_db.user_by_email(conn, email)
    if taken:
        _remember_decoy(email, password)
        _mail_taken_address(taken.user_id, taken.email)
        return str(uuid.uuid4())
    try:
        return register(email, password)
    except Conflict:  # a Cognito user without a row: unconfirmed (or confirmed, its row not made yet)
        _remember_decoy(email, password)
        try:
            _cognito_call("resend_confirmation_code", ClientId=_client_id(), Username=email)
        except ValidationFailed:  # confirmed after all: tell the owner (no row to count a cap on)
            _mail_taken_address(None, email)
        except (ClientError, RateLimited):  # gone meanwhile, or Cognito's resend limit: mail nothing
            log.info("a taken, unconfirmed address could not get a new code")
        return str(uuid.uuid4())


def _mail_taken_address(user_id: str | None, email: str) -> None:
    """Tell the address's owner someone tried to register it; at most ``EMAIL_DAILY_CAP`` a day
    with their other mail (counted on their row, when there is one). A mail that cannot go out is
    logged, never answered differently."""
    config = settings()
    text = (f"Someone, maybe you, tried to create a Fileshare account with {email}, which already has one. "
            "Nothing was changed.\n\nIf it was you, log in, or choose \u201cForgot password?\u201d to "
            f"set a new password: {config.public_base_url}\n\nIf it was not you, you can ignore this "
            "message; your account is safe.\n")
    try:
        with transaction() as conn:
            if user_id is not None and config.email_daily_cap > 0 \
                    and email_limits.count_email(conn, user_id, config.email_daily_cap) is None:
                log.info("daily email cap reached; no 'address taken' mail")
                return
            aws.client("ses").send_email(
                Source=config.email_sender, Destination={"ToAddresses": [email]},
                Message={"Subject": {"Data": f"Fileshare: {TAKEN_SUBJECT}", "Charset": "UTF-8"},
                         "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
    except Exception:  # the answer must not tell that this address has an account
        log.exception("the 'address taken' mail could not be sent")


def ensure_user(user_id: str, verified_email: str) -> None:
    """The user's row with their verified address: created on first sight, the address updated
    once a changed one is verified. 409 when another account's row holds the address."""
    with transaction() as conn:
        row = users_db.ensure(conn, user_id, verified_email, settings().default_quota_bytes)
        if row is not None and row.email != verified_email:
            row = users_db.change_email(conn, user_id, verified_email)
    if row is None:
        raise Conflict("an account with this email exists", code="email_taken")
