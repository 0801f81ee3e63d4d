"""The inbox's API shapes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fileshare.models import ApiModel


class NotificationOut(ApiModel):
    """An in-app notification (the inbox), addressed to the caller."""

    notification_id: UUID
    type: str  # the event type that caused it, e.g. "file.ready", "share.created"
    file_id: UUID | None = None
    message: str
    created_at: datetime
    read: bool


class NotificationList(ApiModel):
    items: list[NotificationOut]
    next_cursor: str | None = None
