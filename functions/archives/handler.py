"""Archives API: ask for one ZIP of many files or of a whole folder (an asynchronous job), list one's
jobs, follow one's progress, download it once ready, delete it. The archiver function builds it
(``fileshare.archives.worker``).

A function of its own rather than more routes on ``files``: it needs BUCKET_DELETE (DELETE removes
the archive's object) and none of the upload grants, and its domain lives in ``fileshare.archives.jobs``.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from fileshare.api import caller, create_app, entry_point
from fileshare.archives import jobs as archives
from fileshare.archives.models import ArchiveCreate, ArchiveList, ArchiveOut
from fileshare.models import DownloadOut

router = Router()
ArchiveId = Annotated[UUID, Path(description="the archive's id")]


@router.post("", summary="Zip several files or a whole folder (asynchronous)", tags=["archives"],
             responses={202: {"description": "the queued job; follow it with GET /archives/{archive_id}"},
                        404: {"description": "a file the caller cannot read (file_not_found), or a folder "
                                              "(folder_not_found)"},
                        409: {"description": "a file that is not ready (file_not_ready), a folder with no "
                                              "ready file (folder_empty), or too many archives in "
                                              "progress (too_many_archives)"},
                        413: {"description": "too many files (archive_too_many_files), folders "
                                              "(archive_too_many_folders) or bytes (archive_too_large)"}})
def create_archive(body: Annotated[ArchiveCreate, Body()]) -> tuple[ArchiveOut, int]:
    user = caller(router)
    return archives.request_archive(user.user_id, user.email, body), 202


@router.get("", summary="My archive jobs, newest first (deleted ones are gone)", tags=["archives"])
def list_archives(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ArchiveList:
    return archives.list_archives(caller(router).user_id, limit=limit, after=cursor)


@router.get("/<archive_id>", summary="An archive job and its progress", tags=["archives"])
def get_archive(archive_id: ArchiveId) -> ArchiveOut:
    return archives.get_archive(caller(router).user_id, archive_id)


@router.get("/<archive_id>/download", summary="A short-lived download URL of a ready archive",
            tags=["archives"],
            responses={200: {"description": "the URL"},
                       409: {"description": "not ready yet (archive_not_ready) or failed (archive_failed)"},
                       410: {"description": "expired or deleted (archive_expired)"}})
def download_archive(archive_id: ArchiveId) -> DownloadOut:
    return DownloadOut(url=archives.download_url(caller(router).user_id, archive_id))


@router.delete("/<archive_id>", summary="Delete an archive (or cancel its job)", tags=["archives"],
               responses={204: {"description": "deleted; its object is gone"}})
def delete_archive(archive_id: ArchiveId) -> Response[None]:
    archives.delete_archive(caller(router).user_id, archive_id)
    return Response(status_code=204)


app = create_app((router, "/archives"))
lambda_handler = entry_point(app)
