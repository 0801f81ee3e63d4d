"""Auth API (public routes): register, log in, refresh tokens, through the Cognito user pool."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from fileshare import identity
from fileshare.api import create_app, entry_point
from fileshare.models import Credentials, RefreshIn, Tokens, UserCreated

router = Router()


@router.post("/register", summary="Create an account", tags=["auth"],
             responses={201: {"description": "created"}, 409: {"description": "email taken"}})
def register(body: Annotated[Credentials, Body()]) -> tuple[UserCreated, int]:
    return UserCreated(user_id=identity.create_account(body.email, body.password)), 201


@router.post("/login", summary="Log in with email and password", tags=["auth"],
             responses={200: {"description": "tokens"}, 401: {"description": "wrong email or password"}})
def login(body: Annotated[Credentials, Body()]) -> Tokens:
    return identity.login(body.email, body.password)


@router.post("/refresh", summary="New tokens from a refresh token", tags=["auth"],
             responses={200: {"description": "new tokens"}, 401: {"description": "invalid refresh token"}})
def refresh(body: Annotated[RefreshIn, Body()]) -> Tokens:
    return identity.refresh(body.refresh_token)


app = create_app((router, "/auth"))
lambda_handler = entry_point(app)
