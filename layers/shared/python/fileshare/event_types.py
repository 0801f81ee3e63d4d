"""The domain's event types and the versioned envelope every event on ``fileshare.events`` carries.

Pure (pydantic only): the lifecycle table, the consumers and the tests read them without the outbox
and the Kafka producer (``fileshare.events``)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

ENVELOPE_VERSION = 1


class EventType(StrEnum):
    FILE_READY = "file.ready"
    FILE_REJECTED = "file.rejected"
    FILE_UPDATED = "file.updated"
    FILE_VERSION_ADDED = "file.version_added"  # a new version became current (fileshare.versions)
    FILE_VERSION_REJECTED = "file.version_rejected"  # a new version failed its checks (the file is unchanged)
    FILE_TRASHED = "file.trashed"
    FILE_RESTORED = "file.restored"
    FILE_DELETED = "file.deleted"
    FILE_EXPIRED = "file.expired"
    SHARE_CREATED = "share.created"
    SHARE_REVOKED = "share.revoked"
    LINK_CREATED = "link.created"
    LINK_DOWNLOADED = "link.downloaded"
    LINK_REVOKED = "link.revoked"
    # Archive jobs: the event's ``file_id`` is the archive's id (the Kafka key, one job's order).
    ARCHIVE_REQUESTED = "archive.requested"
    ZIP_READY = "zip.ready"
    ARCHIVE_FAILED = "archive.failed"  # data: name, reason (machine-readable), detail
    # Folders: the event's ``file_id`` is the folder's id (the Kafka key). ``folder.updated`` is a
    # rename and/or a move: ``changes`` holds the new name / parent_id, ``previous`` the old ones.
    FOLDER_CREATED = "folder.created"
    FOLDER_UPDATED = "folder.updated"


class Event(BaseModel):
    """The envelope every event on ``fileshare.events`` carries (JSON; the Kafka key is file_id).

    ``version`` is the version of ``data`` for this ``type``: a consumer handles the versions it
    knows and dead-letters the others. Unknown envelope fields are ignored, so adding one is safe.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: EventType
    version: int = Field(default=ENVELOPE_VERSION, ge=1)
    id: UUID = Field(default_factory=uuid4)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    file_id: UUID
    owner_id: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        return cls.model_validate_json(raw)
