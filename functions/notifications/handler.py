"""Notifications API: the caller's in-app inbox and marking a notification read."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from fileshare.api import caller, create_app, entry_point
from fileshare.notifications import notices as notifications
from fileshare.notifications.models import NotificationList, NotificationOut

router = Router()


@router.get("", summary="My notifications, newest first", tags=["notifications"])
def list_notifications(
    unread: Annotated[bool, Query(description="true: only unread ones; false (default): all")] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> NotificationList:
    return notifications.list_notifications(caller(router).user_id, unread_only=unread, limit=limit,
                                            after=cursor)


@router.post("/<notification_id>/read", summary="Mark a notification read", tags=["notifications"],
             responses={200: {"description": "the notification, now read"},
                        404: {"description": "no such notification of yours (notification_not_found)"}})
def mark_read(notification_id: Annotated[UUID, Path(description="the notification's id")]) -> NotificationOut:
    return notifications.mark_read(caller(router).user_id, notification_id)


app = create_app((router, "/notifications"))
lambda_handler = entry_point(app)
