"""Files API: upload (presigned POST or multipart), list, read, change, trash, download; and /me."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from fileshare import files
from fileshare.api import caller, create_app, entry_point
from fileshare.models import (
    CompleteIn,
    DownloadOut,
    FileCreate,
    FileCreated,
    FileList,
    FileOut,
    FilePatch,
    Me,
    PartsIn,
    PartUrlList,
    StoredPartList,
)

router = Router()
me_router = Router()
FileId = Annotated[UUID, Path(description="the file's id")]


@router.post("", summary="Start an upload", tags=["files"],
             responses={201: {"description": "pending file and how to upload its bytes"},
                        413: {"description": "over the size limit or the quota"}})
def create_file(body: Annotated[FileCreate, Body()]) -> tuple[FileCreated, int]:
    user = caller(router)
    return files.create_upload(user.user_id, user.email, body), 201


@router.post("/<file_id>/complete", summary="Complete a multipart upload", tags=["files"])
def complete_file(file_id: FileId, body: Annotated[CompleteIn, Body()]) -> FileOut:
    return files.complete_upload(caller(router).user_id, file_id, body)


@router.post("/<file_id>/parts", summary="Sign more parts of a multipart upload", tags=["files"],
             responses={409: {"description": "no multipart upload in progress"}})
def sign_parts(file_id: FileId, body: Annotated[PartsIn, Body()]) -> PartUrlList:
    return files.sign_parts(caller(router).user_id, file_id, body)


@router.get("/<file_id>/parts", summary="The parts S3 already holds (resume)", tags=["files"],
            responses={409: {"description": "no multipart upload in progress"}})
def list_parts(file_id: FileId) -> StoredPartList:
    return files.stored_parts(caller(router).user_id, file_id)


@router.delete("/<file_id>/upload", summary="Abort an unfinished multipart upload", tags=["files"],
               responses={204: {"description": "aborted: parts dropped, the file rejected"},
                          409: {"description": "no multipart upload in progress"}})
def abort_upload(file_id: FileId) -> Response[None]:
    files.abort_upload(caller(router).user_id, file_id)
    return Response(status_code=204)


@router.get("", summary="List my files, newest first", tags=["files"])
def list_files(limit: Annotated[int, Query(ge=1, le=100)] = 50,
               cursor: Annotated[str | None, Query(max_length=512)] = None) -> FileList:
    return files.list_files(caller(router).user_id, limit, cursor)


@router.get("/<file_id>", summary="Get a file", tags=["files"])
def get_file(file_id: FileId) -> FileOut:
    return files.get_file(caller(router).user_id, file_id)


@router.patch("/<file_id>", summary="Rename, retag or change the expiry", tags=["files"])
def update_file(file_id: FileId, body: Annotated[FilePatch, Body()]) -> FileOut:
    return files.update_file(caller(router).user_id, file_id, body)


@router.delete("/<file_id>", summary="Move a file to the trash", tags=["files"],
               responses={204: {"description": "trashed"}})
def trash_file(file_id: FileId) -> Response[None]:
    files.trash_file(caller(router).user_id, file_id)
    return Response(status_code=204)


@router.get("/<file_id>/download", summary="A short-lived download URL", tags=["files"],
            responses={409: {"description": "the file is not ready"}})
def download_file(file_id: FileId) -> DownloadOut:
    return DownloadOut(url=files.download_url(caller(router).user_id, file_id))


@me_router.get("", summary="My account and usage", tags=["account"])
def get_me() -> Me:
    user = caller(me_router)
    return files.me(user.user_id, user.email)


app = create_app((router, "/files"), (me_router, "/me"))
lambda_handler = entry_point(app)
