"""Trash API: list my trash, restore a file from it, purge a file for good (owner only; others 404)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from fileshare import trash
from fileshare.api import caller, create_app, entry_point
from fileshare.models import FileOut

trash_router = Router()
files_router = Router()
FileId = Annotated[UUID, Path(description="the file's id")]


@trash_router.get("", summary="List my trash, most recently trashed first",
                  description="Files trashed outside any trashed folder; a trashed folder stands for"
                              " everything in it (GET /folders?trashed=true)", tags=["trash"])
def list_trash(limit: Annotated[int, Query(ge=1, le=100)] = 50,
               cursor: Annotated[str | None, Query(max_length=512)] = None) -> trash.TrashList:
    return trash.list_trash(caller(trash_router).user_id, limit, cursor)


@trash_router.delete("/<file_id>", summary="Delete a trashed file for good", tags=["trash"],
                     responses={204: {"description": "deletion started"},
                                409: {"description": "the file is not in the trash"}})
def purge_file(file_id: FileId) -> Response[None]:
    trash.purge_file(caller(trash_router).user_id, file_id)
    return Response(status_code=204)


@files_router.post("/<file_id>/restore", summary="Restore a file from the trash", tags=["trash"],
                   responses={200: {"description": "the restored file"},
                              409: {"description": "the file is not in the trash"},
                              410: {"description": "the retention period is over"}})
def restore_file(file_id: FileId) -> FileOut:
    return trash.restore_file(caller(files_router).user_id, file_id)


app = create_app((trash_router, "/trash"), (files_router, "/files"))
lambda_handler = entry_point(app)
