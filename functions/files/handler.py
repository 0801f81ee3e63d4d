"""Files API: upload (presigned POST or multipart), list, read, change, trash, download, versions;
and /me."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from fileshare import batch, files, folders, versions
from fileshare.api import caller, create_app, entry_point
from fileshare.models import (
    MAX_BATCH_FILES,
    MAX_STATUS_IDS,
    BatchCreate,
    BatchCreated,
    CompleteIn,
    DownloadOut,
    FileCreate,
    FileCreated,
    FileList,
    FileOut,
    FilePatch,
    FileStatusList,
    FolderCreate,
    FolderItems,
    FolderOpOut,
    FolderOut,
    FolderPatch,
    FolderShareList,
    FolderShareOut,
    Me,
    PartsIn,
    PartUrlList,
    ShareIn,
    StoredPartList,
    VersionCreate,
    VersionCreated,
    VersionList,
    VersionOut,
)

router = Router()
me_router = Router()
FileId = Annotated[UUID, Path(description="the file's id")]


@router.post("", summary="Start an upload", tags=["files"],
             responses={201: {"description": "pending file and how to upload its bytes"},
                        404: {"description": "folder_id names no folder of mine (folder_not_found)"},
                        409: {"description": "the folder already has an item of this name (name_taken)"},
                        413: {"description": "over the size limit or the quota"}})
def create_file(body: Annotated[FileCreate, Body()]) -> tuple[FileCreated, int]:
    user = caller(router)
    return files.create_upload(user.user_id, user.email, body), 201


@router.post("/batch", summary=f"Start up to {MAX_BATCH_FILES} uploads at once", tags=["files"],
             responses={200: {"description": "one answer per entry, in order: its upload, or its own "
                                             "error (quota_exceeded, invalid_name, file_too_large, "
                                             "content_type_not_allowed, folder_not_found, name_taken, "
                                             "...); a refused entry leaves nothing behind"},
                        429: {"description": "over the request limit (rate_limited) or the hourly "
                                             "upload budget (upload_budget_exceeded); see Retry-After"}})
def create_batch(body: Annotated[BatchCreate, Body()]) -> BatchCreated:
    user = caller(router)
    return batch.start_batch(user.user_id, user.email, body)


@router.get("/status", summary="The status of many of my files at once (uploads being checked)",
            tags=["files"],
            responses={200: {"description": "my files among those asked for; others are left out"}})
def file_statuses(file_id: Annotated[list[UUID], Query(min_length=1, max_length=MAX_STATUS_IDS,
                                                       description="a file id; repeat for more")]
                  ) -> FileStatusList:
    return batch.statuses(caller(router).user_id, file_id)


@router.post("/<file_id>/complete", summary="Complete a multipart upload", tags=["files"],
             responses={200: {"description": "the file, its parts assembled"},
                        409: {"description": "no multipart upload in progress (not_multipart_pending, "
                                              "upload_not_found)"}})
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


@router.patch("/<file_id>", summary="Rename, retag or change the expiry", tags=["files"],
              responses={200: {"description": "the changed file"},
                         409: {"description": "the file is in the trash (file_trashed)"}})
def update_file(file_id: FileId, body: Annotated[FilePatch, Body()]) -> FileOut:
    return files.update_file(caller(router).user_id, file_id, body)


@router.delete("/<file_id>", summary="Move a file to the trash", tags=["files"],
               responses={204: {"description": "trashed"}})
def trash_file(file_id: FileId) -> Response[None]:
    files.trash_file(caller(router).user_id, file_id)
    return Response(status_code=204)


@router.get("/<file_id>/download", summary="A short-lived download URL", tags=["files"],
            responses={200: {"description": "the URL"}, 409: {"description": "the file is not ready"}})
def download_file(file_id: FileId) -> DownloadOut:
    return DownloadOut(url=files.download_url(caller(router).user_id, file_id))


# ---- versions (fileshare.versions): the owner's alone; a viewer sees the current version only ----

VersionId = Annotated[UUID, Path(description="the version's id (the first upload's is the file's id)")]
_NOT_OWNER = "not my file (a viewer too: versions are the owner's) (file_not_found)"


@router.post("/<file_id>/versions", summary="Start uploading a new version", tags=["versions"],
             responses={201: {"description": "the pending version and its presigned POST; it becomes "
                                             "current once the processor verified it"},
                        404: {"description": _NOT_OWNER},
                        409: {"description": "the file is not ready (file_not_ready), or keeps the most "
                                             "versions it may (too_many_versions)"},
                        413: {"description": "over the size limit or the quota (every kept version counts)"}})
def create_version(file_id: FileId, body: Annotated[VersionCreate, Body()]) -> tuple[VersionCreated, int]:
    return versions.create_version(caller(router).user_id, file_id, body), 201


@router.get("/<file_id>/versions", summary="A file's versions, newest first", tags=["versions"],
            responses={404: {"description": _NOT_OWNER}})
def list_versions(file_id: FileId) -> VersionList:
    return versions.list_versions(caller(router).user_id, file_id)


@router.get("/<file_id>/versions/<version_id>/download", summary="A short-lived download URL of one version",
            tags=["versions"],
            responses={404: {"description": f"{_NOT_OWNER}; no such version (version_not_found)"},
                       409: {"description": "not ready (file_not_ready, version_not_ready)"}})
def download_version(file_id: FileId, version_id: VersionId) -> DownloadOut:
    return DownloadOut(url=versions.download_url(caller(router).user_id, file_id, version_id))


@router.post("/<file_id>/versions/<version_id>/current", summary="Make a version the current one",
             tags=["versions"],
             responses={200: {"description": "the versions, this one current"},
                        404: {"description": f"{_NOT_OWNER}; no such version (version_not_found)"},
                        409: {"description": "the file or the version is not ready "
                                             "(file_not_ready, version_not_ready)"}})
def make_current(file_id: FileId, version_id: VersionId) -> VersionList:
    return versions.make_current(caller(router).user_id, file_id, version_id)


@router.post("/<file_id>/versions/<version_id>/complete", summary="Complete a version's multipart upload",
             tags=["versions"],
             responses={200: {"description": "the version, its parts assembled (the processor verifies it)"},
                        404: {"description": f"{_NOT_OWNER}; no such version (version_not_found)"},
                        409: {"description": "no multipart upload in progress (not_multipart_pending, "
                                             "upload_not_found)"}})
def complete_version(file_id: FileId, version_id: VersionId,
                     body: Annotated[CompleteIn, Body()]) -> VersionOut:
    return versions.complete_upload(caller(router).user_id, file_id, version_id, body)


@router.post("/<file_id>/versions/<version_id>/parts",
             summary="Sign more parts of a version's multipart upload", tags=["versions"],
             responses={404: {"description": f"{_NOT_OWNER}; no such version (version_not_found)"},
                        409: {"description": "no multipart upload in progress"}})
def sign_version_parts(file_id: FileId, version_id: VersionId,
                       body: Annotated[PartsIn, Body()]) -> PartUrlList:
    return versions.sign_parts(caller(router).user_id, file_id, version_id, body)


@router.get("/<file_id>/versions/<version_id>/parts",
            summary="The parts of a version S3 already holds (resume)", tags=["versions"],
            responses={404: {"description": f"{_NOT_OWNER}; no such version (version_not_found)"},
                       409: {"description": "no multipart upload in progress"}})
def list_version_parts(file_id: FileId, version_id: VersionId) -> StoredPartList:
    return versions.stored_parts(caller(router).user_id, file_id, version_id)


@router.delete("/<file_id>/versions/<version_id>", summary="Delete a version (not the current one)",
               tags=["versions"],
               responses={204: {"description": "deleted, bytes and thumbnail included (a pending one's "
                                               "multipart upload is aborted)"},
                          404: {"description": f"{_NOT_OWNER}; no such version (version_not_found)"},
                          409: {"description": "the current version (version_is_current)"}})
def delete_version(file_id: FileId, version_id: VersionId) -> Response[None]:
    versions.delete_version(caller(router).user_id, file_id, version_id)
    return Response(status_code=204)


@me_router.get("", summary="My account and usage", tags=["account"])
def get_me() -> Me:
    user = caller(me_router)
    return files.me(user.user_id, user.email)


# ---- folders (fileshare.folders) -------------------------------------------------------------

folder_router = Router()
FolderId = Annotated[UUID, Path(description="the folder's id")]
_DONE = "finished"
_UNDER_WAY = "under way: call again to continue (the sweeper also finishes it)"


@folder_router.post("", summary="Create a folder", tags=["folders"],
                    responses={201: {"description": "the folder"},
                               404: {"description": "parent_id names no folder of mine (folder_not_found)"},
                               409: {"description": "a sibling has this name (name_taken)"}})
def create_folder(body: Annotated[FolderCreate, Body()]) -> tuple[FolderOut, int]:
    user = caller(folder_router)
    return folders.create_folder(user.user_id, user.email, body), 201


@folder_router.get("", summary="List a folder (with its breadcrumbs): subfolders, then files, by name; "
                            "or, with shared=true, the folders shared with me; with trashed=true, "
                            "my trashed folders",
                   tags=["folders"],
                   responses={404: {"description": "folder_id: no folder I can read (folder_not_found)"}})
def list_folder(folder_id: Annotated[UUID | None, Query(description="the folder (default: my root)")] = None,
                shared: Annotated[bool, Query(description="list the folders shared with me instead")] = False,
                trashed: Annotated[bool, Query(description="list my folders in the trash instead")] = False,
                limit: Annotated[int, Query(ge=1, le=100)] = 50,
                cursor: Annotated[str | None, Query(max_length=512)] = None) -> FolderItems:
    user_id = caller(folder_router).user_id
    if shared:
        return folders.shared_folders(user_id, limit, cursor)
    if trashed:
        return folders.trashed_folders(user_id, limit, cursor)
    return folders.list_items(user_id, folder_id, limit, cursor)


@folder_router.patch("/<folder_id>", summary="Rename, move or restore a folder", tags=["folders"],
                     responses={200: {"description": "the folder"},
                                202: {"description": "restore under way: PATCH again to continue "
                                                     "(the sweeper also finishes it)"},
                                409: {"description": "name_taken, folder_cycle (into its own subtree), "
                                                     "folder_not_trashed, parent_trashed"}})
def update_folder(folder_id: FolderId, body: Annotated[FolderPatch, Body()]) -> tuple[FolderOut, int]:
    folder = folders.update_folder(caller(folder_router).user_id, folder_id, body)
    return folder, 202 if folder.pending_op else 200


@folder_router.delete("/<folder_id>",
                      summary="Trash a folder and everything inside, or purge it from the trash",
                      tags=["folders"],
                      responses={200: {"description": _DONE}, 202: {"description": _UNDER_WAY},
                                 409: {"description": "purge: the folder is not in the trash"}})
def delete_folder(folder_id: FolderId,
                  permanent: Annotated[bool, Query(description="delete a trashed folder for good")] = False,
                  ) -> tuple[FolderOpOut, int]:
    user_id = caller(folder_router).user_id
    result = (folders.purge_folder if permanent else folders.trash_folder)(user_id, folder_id)
    return result, 200 if result.done else 202


@folder_router.post("/<folder_id>/shares", summary="Share a folder (and all inside it) with a user",
                    tags=["folders"], responses={201: {"description": "the share"},
                                                 409: {"description": "already shared"}})
def share_folder(folder_id: FolderId, body: Annotated[ShareIn, Body()]) -> tuple[FolderShareOut, int]:
    return folders.share_folder(caller(folder_router).user_id, folder_id, body), 201


@folder_router.get("/<folder_id>/shares", summary="A folder's shares", tags=["folders"])
def list_folder_shares(folder_id: FolderId) -> FolderShareList:
    return folders.list_folder_shares(caller(folder_router).user_id, folder_id)


@folder_router.delete("/<folder_id>/shares", summary="Revoke a folder share", tags=["folders"],
                      responses={204: {"description": "revoked: everything inside at once"}})
def revoke_folder_share(folder_id: FolderId,
                        share_id: Annotated[UUID, Query(description="the share's id")]) -> Response[None]:
    folders.revoke_folder_share(caller(folder_router).user_id, folder_id, share_id)
    return Response(status_code=204)


app = create_app((router, "/files"), (me_router, "/me"), (folder_router, "/folders"))
lambda_handler = entry_point(app)
