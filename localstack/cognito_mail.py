"""What moto's Cognito lacks and the account flows need: codes that are mailed and checked.

In AWS, Cognito mails a confirmation code on sign-up, on ResendConfirmationCode, on ForgotPassword
and on an email change, through SES with the pool's sender, and checks it on ConfirmSignUp,
ConfirmForgotPassword and VerifyUserAttribute. moto accepts any code and mails nothing, and its
id tokens carry the typed login name as ``email`` with no ``email_verified``. This module, loaded
into the local Cognito server only, adds exactly that behaviour on top of moto:

- codes: six digits, valid 24 h (sign-up) or 1 h (password reset, attribute verification), one
  live code per user and purpose; a wrong code is ``CodeMismatchException``, an old one
  ``ExpiredCodeException``; mailed through LocalStack's SES (readable at ``/_aws/ses``);
- ``email_verified`` is false until the address is confirmed; id tokens carry the user's real
  ``email`` and ``email_verified`` attributes (as Cognito's do); refresh tokens follow the user,
  not the name typed at login;
- with ``UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate = [email]`` (CDK's
  ``keep_original``), a changed email stays pending and the original stays active until the new
  one is verified.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

SIGN_UP_CODE_TTL_S = 24 * 3600
RESET_CODE_TTL_S = 3600


@dataclass
class _Code:
    code: str
    expires_at: float
    value: str | None = None  # the pending new email, for an attribute verification


class CodeBook:
    """One live code per (pool, user, purpose); issuing a new one replaces the old."""

    def __init__(self) -> None:
        self._codes: dict[tuple[str, str, str], _Code] = {}
        self._lock = threading.Lock()

    def issue(self, pool_id: str, user_id: str, purpose: str, ttl_s: int, value: str | None = None) -> str:
        code = f"{secrets.randbelow(1_000_000):06d}"
        with self._lock:
            self._codes[(pool_id, user_id, purpose)] = _Code(code, time.time() + ttl_s, value)
        return code

    def export(self) -> dict[tuple[str, str, str], _Code]:
        with self._lock:
            return dict(self._codes)

    def restore(self, codes: dict[tuple[str, str, str], _Code]) -> None:
        with self._lock:
            self._codes.update(codes)

    def pending(self, pool_id: str, user_id: str, purpose: str) -> _Code | None:
        with self._lock:
            return self._codes.get((pool_id, user_id, purpose))

    def redeem(self, pool_id: str, user_id: str, purpose: str, code: str) -> _Code:
        from moto.cognitoidp.exceptions import CodeMismatchException, ExpiredCodeException

        with self._lock:
            entry = self._codes.get((pool_id, user_id, purpose))
            if entry is None or not secrets.compare_digest(entry.code, str(code or "")):
                raise CodeMismatchException("Invalid verification code provided, please try again.")
            if time.time() > entry.expires_at:
                del self._codes[(pool_id, user_id, purpose)]
                raise ExpiredCodeException("Invalid code provided, please request a code again.")
            del self._codes[(pool_id, user_id, purpose)]
            return entry


class Mailer:
    """Sends Cognito's messages through SES (LocalStack's, locally), from the pool's sender."""

    def __init__(self, ses_endpoint: str, sender: str, region: str) -> None:
        self.ses_endpoint, self.sender, self.region = ses_endpoint, sender, region

    def send(self, to: str, subject: str, text: str) -> None:
        import boto3

        client = boto3.client("ses", endpoint_url=self.ses_endpoint, region_name=self.region,
                              aws_access_key_id="test", aws_secret_access_key="test")  # noqa: S106
        client.send_email(Source=self.sender, Destination={"ToAddresses": [to]},
                          Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}})


MESSAGES = {
    "signup": ("Your Fileshare confirmation code",
               "Welcome to Fileshare. Your confirmation code is {code}. It is valid for 24 hours."),
    "forgot": ("Reset your Fileshare password",
               "Your password reset code is {code}. It is valid for one hour. If you did not ask "
               "for it, ignore this message."),
    "email": ("Confirm your new Fileshare email address",
              "Your verification code is {code}. Your address changes once you enter it."),
}


def _delivery(email: str) -> dict[str, str]:
    local, _, domain = email.partition("@")
    return {"Destination": f"{local[:1]}***@{domain[:1]}***", "DeliveryMedium": "EMAIL",
            "AttributeName": "email"}


def install(mailer: Mailer) -> CodeBook:
    """Patch moto's Cognito backend and responses in this process; returns the code book."""
    from moto.cognitoidp import models, responses
    from moto.cognitoidp.exceptions import (
        AliasExistsException,
        InvalidParameterException,
        NotAuthorizedError,
        UserNotFoundError,
    )
    from moto.core.responses import ActionResult, EmptyResult

    book = CodeBook()
    backend_cls, pool_cls, response_cls = models.CognitoIdpBackend, models.CognitoIdpUserPool, \
        responses.CognitoIdpResponse

    def pool_for_client(client_id: str) -> Any:
        for regions in models.cognitoidp_backends.values():
            for region, backend in regions.items():
                if region == "global":
                    continue
                for pool in backend.user_pools.values():
                    if client_id in pool.clients:
                        return pool
        raise models.ResourceNotFoundError(client_id)

    def pool_for_access_token(access_token: str) -> tuple[Any, Any]:
        for regions in models.cognitoidp_backends.values():
            for region, backend in regions.items():
                if region == "global":
                    continue
                for pool in backend.user_pools.values():
                    if access_token in pool.access_tokens:
                        _, username = pool.access_tokens[access_token]
                        return pool, pool._get_user(username)
        raise NotAuthorizedError("Invalid Access Token")

    def user_of(response: Any, missing: str = "Username/client id combination not found.") -> tuple[Any, Any]:
        """The pool and user a client-id + username request is about."""
        pool = pool_for_client(response._get_param("ClientId"))
        user = pool._get_user(response._get_param("Username"))
        if user is None:
            raise UserNotFoundError(missing)
        return pool, user

    def send_code(pool: Any, user: Any, purpose: str, ttl_s: int, to: str, value: str | None = None) -> None:
        code = book.issue(pool.id, user.id, purpose, ttl_s, value)
        subject, text = MESSAGES[purpose]
        mailer.send(to, subject, text.format(code=code))

    def keeps_original_email(pool: Any) -> bool:
        settings = pool.extended_config.get("UserAttributeUpdateSettings") or {}
        return "email" in settings.get("AttributesRequireVerificationBeforeUpdate", [])

    def email_in_use(pool: Any, email: str, other_than: Any) -> bool:
        return any(u is not other_than and u.attribute_lookup.get("email", "").lower() == email.lower()
                   for u in pool.users.values())

    # --- sign-up and its confirmation -----------------------------------------------------------------
    original_sign_up = backend_cls.sign_up

    def sign_up(self: Any, client_id: str, username: str, password: str,
                attributes: list[dict[str, str]]) -> tuple[Any, Any]:
        user, _ = original_sign_up(self, client_id, username, password, attributes)
        user.update_attributes([{"Name": "email_verified", "Value": "false"}])
        email = user.attribute_lookup.get("email")
        if email:
            send_code(pool_for_client(client_id), user, "signup", SIGN_UP_CODE_TTL_S, email)
            return user, _delivery(email)
        return user, None

    def confirm_sign_up(self: Any) -> Any:
        pool, user = user_of(self, "User does not exist.")
        if user.status == models.UserStatus.CONFIRMED:
            raise NotAuthorizedError("User cannot be confirmed. Current status is CONFIRMED")
        book.redeem(pool.id, user.id, "signup", self._get_param("ConfirmationCode"))
        user.status = models.UserStatus.CONFIRMED
        user.update_attributes([{"Name": "email_verified", "Value": "true"}])
        return EmptyResult()

    def resend_confirmation_code(self: Any) -> Any:
        pool, user = user_of(self)
        if user.status == models.UserStatus.CONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        email = user.attribute_lookup["email"]
        send_code(pool, user, "signup", SIGN_UP_CODE_TTL_S, email)
        return ActionResult({"CodeDeliveryDetails": _delivery(email)})

    # --- forgotten password ----------------------------------------------------------------------------
    def forgot_password(self: Any) -> Any:
        pool, user = user_of(self)
        if user.attribute_lookup.get("email_verified") != "true":
            raise InvalidParameterException("Cannot reset password for the user as there is no "
                                            "registered/verified email or phone_number")
        email = user.attribute_lookup["email"]
        send_code(pool, user, "forgot", RESET_CODE_TTL_S, email)
        return ActionResult({"CodeDeliveryDetails": _delivery(email)})

    def confirm_forgot_password(self: Any) -> Any:
        pool, user = user_of(self)
        password = self._get_param("Password")
        backend = self._get_region_agnostic_backend()
        for regions in models.cognitoidp_backends.values():  # the backend that owns the pool
            for region, candidate in regions.items():
                if region != "global" and pool.id in candidate.user_pools:
                    backend = candidate
        backend._validate_password(pool.id, password)
        book.redeem(pool.id, user.id, "forgot", self._get_param("ConfirmationCode"))
        user.password = password
        user.status = models.UserStatus.CONFIRMED
        return EmptyResult()

    # --- email changes (keep_original) -----------------------------------------------------------------
    def update_user_attributes(self: Any) -> Any:
        pool, user = pool_for_access_token(self._get_param("AccessToken"))
        attributes = list(self._get_param("UserAttributes") or [])
        new_email = next((a["Value"] for a in attributes if a["Name"] == "email"), None)
        rest = [a for a in attributes if a["Name"] not in ("email", "email_verified")]
        if rest:
            user.update_attributes(rest)
        if new_email and new_email.lower() != user.attribute_lookup.get("email", "").lower():
            if email_in_use(pool, new_email, user):
                raise AliasExistsException()
            if not keeps_original_email(pool):  # Cognito's default: the address changes, unverified
                user.update_attributes([{"Name": "email", "Value": new_email},
                                        {"Name": "email_verified", "Value": "false"}])
            send_code(pool, user, "email", RESET_CODE_TTL_S, new_email, value=new_email)
            return ActionResult({"CodeDeliveryDetailsList": [_delivery(new_email)]})
        return ActionResult({"CodeDeliveryDetailsList": []})

    def get_user_attribute_verification_code(self: Any) -> Any:
        pool, user = pool_for_access_token(self._get_param("AccessToken"))
        if self._get_param("AttributeName") != "email":
            raise InvalidParameterException("Only email can be verified here.")
        entry = book.pending(pool.id, user.id, "email")
        email = entry.value if entry and entry.value else user.attribute_lookup["email"]
        send_code(pool, user, "email", RESET_CODE_TTL_S, email, value=email)
        return ActionResult({"CodeDeliveryDetails": _delivery(email)})

    def verify_user_attribute(self: Any) -> Any:
        pool, user = pool_for_access_token(self._get_param("AccessToken"))
        if self._get_param("AttributeName") != "email":
            raise InvalidParameterException("Only email can be verified here.")
        entry = book.redeem(pool.id, user.id, "email", self._get_param("Code"))
        email = entry.value or user.attribute_lookup["email"]
        if email_in_use(pool, email, user):
            raise AliasExistsException()
        user.update_attributes([{"Name": "email", "Value": email},
                                {"Name": "email_verified", "Value": "true"}])
        return EmptyResult()

    # --- tokens as Cognito makes them --------------------------------------------------------------------
    original_extra = pool_cls.get_user_extra_data_by_client_id
    original_refresh = pool_cls.create_refresh_token

    def extra_data(self: Any, client_id: str, username: str) -> dict[str, Any]:
        data = dict(original_extra(self, client_id, username))
        user = self._get_user(username)
        if user is not None and "email" in user.attribute_lookup:
            data["email"] = user.attribute_lookup["email"]
            data["email_verified"] = user.attribute_lookup.get("email_verified") == "true"
        return data

    def create_refresh_token(self: Any, client_id: str, username: str) -> tuple[str, str]:
        user = self._get_user(username)  # by id, so a changed email does not orphan the token
        return original_refresh(self, client_id, user.username if user is not None else username)

    setattr(backend_cls, "sign_up", sign_up)  # noqa: B010 - patching moto's classes is the point
    setattr(pool_cls, "get_user_extra_data_by_client_id", extra_data)  # noqa: B010
    setattr(pool_cls, "create_refresh_token", create_refresh_token)  # noqa: B010
    for method in (confirm_sign_up, resend_confirmation_code, forgot_password, confirm_forgot_password,
                   update_user_attributes, get_user_attribute_verification_code, verify_user_attribute):
        setattr(response_cls, method.__name__, method)
    return book
