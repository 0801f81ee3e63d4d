"""Auth API (public routes): sign up and confirm with the emailed code, log in, refresh tokens,
log out, reset a forgotten password, through the Cognito user pool (which mails the codes through SES)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from fileshare import identity
from fileshare.api import create_app, entry_point
from fileshare.models import (
    Accepted,
    Confirmed,
    ConfirmIn,
    Credentials,
    EmailIn,
    RefreshIn,
    ResetIn,
    Tokens,
    UserCreated,
)

router = Router()


@router.post("/register", summary="Create an account (a confirmation code is emailed)", tags=["auth"],
             description="An address that already has an account gets the same answer as a new one "
                         "(a fresh id, nothing created); its owner is mailed instead: a confirmed "
                         "account that someone tried to register, an unconfirmed one a new code.",
             responses={201: {"description": "created (or the address already had an account: the "
                                             "same answer); confirm with the emailed code"},
                        422: {"description": "weak password"}})
def register(body: Annotated[Credentials, Body()]) -> tuple[UserCreated, int]:
    user_id = identity.create_account(body.email, body.password)
    return UserCreated(user_id=user_id, confirmation_required=True), 201


@router.post("/confirm", summary="Confirm an account with the emailed code", tags=["auth"],
             responses={200: {"description": "confirmed; log in"},
                        422: {"description": "invalid_code: a wrong code, an unknown address and an "
                                            "account confirmed before get this one answer; "
                                            "code_expired"}})
def confirm(body: Annotated[ConfirmIn, Body()]) -> Confirmed:
    user_id, email = identity.confirm(body.email, body.code)
    return Confirmed(user_id=user_id, email=email)


@router.post("/resend", summary="Email a new confirmation code", tags=["auth"],
             responses={202: {"description": "accepted, for every address (unknown, confirmed, or over "
                                             "Cognito's limit alike)"}})
def resend(body: Annotated[EmailIn, Body()]) -> tuple[Accepted, int]:
    identity.resend_confirmation(body.email)
    return Accepted(), 202


@router.post("/forgot", summary="Email a password reset code", tags=["auth"],
             responses={202: {"description": "accepted, for every address (unknown, unconfirmed, or "
                                             "over Cognito's limit alike)"}})
def forgot(body: Annotated[EmailIn, Body()]) -> tuple[Accepted, int]:
    identity.forgot_password(body.email)
    return Accepted(), 202


@router.post("/reset", summary="Set a new password with the emailed reset code", tags=["auth"],
             responses={200: {"description": "password changed; log in"},
                        422: {"description": "wrong or expired code, or weak password (checked first, "
                                            "alike for every address)"}})
def reset(body: Annotated[ResetIn, Body()]) -> Accepted:
    identity.reset_password(body.email, body.code, body.password)
    return Accepted()


@router.post("/login", summary="Log in with email and password", tags=["auth"],
             responses={200: {"description": "tokens"}, 401: {"description": "wrong email or password"},
                        403: {"description": "account not confirmed"}})
def login(body: Annotated[Credentials, Body()]) -> Tokens:
    return identity.login(body.email, body.password)


@router.post("/refresh", summary="New tokens from a refresh token", tags=["auth"],
             responses={200: {"description": "new tokens"}, 401: {"description": "invalid refresh token"}})
def refresh(body: Annotated[RefreshIn, Body()]) -> Tokens:
    return identity.refresh(body.refresh_token)


@router.post("/logout", summary="Log out: revoke the refresh token (every session of the user)",
             tags=["auth"],
             responses={204: {"description": "signed out (also for a token already revoked or unknown); "
                                             "the refresh token is refused from now on"}})
def logout(body: Annotated[RefreshIn, Body()]) -> Response[None]:
    identity.logout(body.refresh_token)
    return Response(status_code=204)


app = create_app((router, "/auth"))
lambda_handler = entry_point(app)
