"""The activity feed's API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from fileshare.models import ApiModel

ActivityAction = Literal[
    "uploaded", "upload_rejected", "renamed", "updated", "content_replaced", "trashed", "restored",
    "deleted", "expired", "shared", "share_revoked", "link_created", "link_revoked", "link_downloaded",
    "moved", "folder_created", "folder_renamed", "folder_moved",
    "version_added", "version_made_current", "version_rejected",
]


class ActivityClient(ApiModel):
    """Coarse facts about who opened a public link: never the IP address, the token or the full
    user agent."""

    browser: str = Field(description="browser family, e.g. Firefox, Chrome, Safari, curl, Other")
    os: str = Field(description="operating system family, e.g. Windows, macOS, iOS, Android, Linux")
    network: str | None = Field(default=None, description="the source network, IPv4 /24 or IPv6 /48")
    country: str | None = Field(default=None, description="ISO 3166 country code, where the edge "
                                                          "(CloudFront-Viewer-Country) told it")


class ActivityOut(ApiModel):
    """One thing done to one of the caller's files (or folders: the ``folder_*`` actions), from the
    event that announced it."""

    activity_id: UUID = Field(description="the id of the event it came from")
    file_id: UUID = Field(description="the file's id; the folder's for folder_created, folder_renamed, "
                                      "folder_moved (and a folder's shares)")
    file_name: str
    action: ActivityAction
    event_type: str = Field(description="the domain event, e.g. file.updated, link.downloaded")
    occurred_at: datetime
    details: dict[str, str | int | bool | list[str] | None] = Field(
        default_factory=dict, description="what changed: e.g. name, tags, recipient, link_id, downloads")
    client: ActivityClient | None = Field(default=None, description="link downloads: who, coarsely")


class ActivityList(ApiModel):
    items: list[ActivityOut]
    next_cursor: str | None = None
