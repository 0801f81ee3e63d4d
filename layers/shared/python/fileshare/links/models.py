"""The public links' API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints

from fileshare.models import ApiModel, InputModel

MAX_LINK_LIFETIME_S = 365 * 24 * 3600


class LinkIn(InputModel):
    """All optional: no expiry, no password and no download limit unless given."""

    expires_in: Annotated[int, Field(ge=60, le=MAX_LINK_LIFETIME_S, description="seconds")] | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    max_downloads: Annotated[int, Field(ge=1, le=1_000_000)] | None = None


class LinkOut(ApiModel):
    """A public link. ``url`` is only known when the link is created: the token is stored hashed."""

    link_id: UUID
    file_id: UUID
    url: str | None = None
    expires_at: datetime | None = None
    max_downloads: int | None = None
    downloads: int
    has_password: bool
    created_at: datetime


class LinkList(ApiModel):
    items: list[LinkOut]
