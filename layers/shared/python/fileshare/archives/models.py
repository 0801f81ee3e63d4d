"""The archive jobs' API shapes: one ZIP of many files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, model_validator

from fileshare.models import ApiModel, InputModel, RawName

ArchiveStatus = Literal["queued", "running", "ready", "failed", "expired", "deleted"]


MAX_ARCHIVE_FILES = 1000  # the schema's bound; the deployment's ARCHIVE_MAX_FILES may be lower (422)


class ArchiveCreate(InputModel):
    """A selection (``file_ids``) or a whole folder (``folder_id``): exactly one of the two."""

    file_ids: Annotated[list[UUID] | None, Field(min_length=1, max_length=MAX_ARCHIVE_FILES,
                                                 description="files the caller owns or that are shared with "
                                                             "them; duplicates count once")] = None
    folder_id: UUID | None = Field(default=None, description="a folder the caller owns or reads through a "
                                   "share: every ready file below it, recursively, under its path")
    name: RawName | None = Field(default=None, description="the ZIP's file name (.zip is added; a folder's "
                                 "archive is named after the folder by default)")

    @model_validator(mode="after")
    def _one_source(self) -> ArchiveCreate:
        if (self.file_ids is None) == (self.folder_id is None):
            raise ValueError("give file_ids or folder_id (one of the two)")
        return self


class ArchiveOut(ApiModel):
    """An archive job and its progress; ``download`` once ``status`` is ready."""

    archive_id: UUID
    name: str
    status: ArchiveStatus
    files_total: int
    files_done: int
    bytes_total: int = Field(description="bytes of the files going in")
    bytes_done: int
    size: int | None = Field(default=None, description="the ZIP's size once ready")
    failure_reason: str | None = Field(default=None, description="machine-readable, once failed: "
                                       "source_missing, source_changed, source_unavailable, too_large, "
                                       "storage_error, worker_lost")
    failure_detail: str | None = None
    created_at: datetime
    ready_at: datetime | None = None
    expires_at: datetime | None = None
    folder_id: UUID | None = Field(default=None, description="the folder zipped (absent: a selection)")


class ArchiveList(ApiModel):
    items: list[ArchiveOut]
    next_cursor: str | None = None
