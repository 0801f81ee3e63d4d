"""Sharing API: share a file with users (viewers), the files shared with me, and public links."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from fileshare import sharing
from fileshare.api import caller, create_app, entry_point
from fileshare.links import links
from fileshare.links.models import LinkIn, LinkList, LinkOut
from fileshare.models import FileList, ShareIn, ShareList, ShareOut

files_router = Router()
shared_router = Router()
links_router = Router()
FileId = Annotated[UUID, Path(description="the file's id")]
OWNER_ONLY: dict[int, OpenAPIResponse] = {
    403: {"description": "a viewer tried an owner-only action (owner_only)"},
    404: {"description": "no such file (or not yours and not shared with you)"},
}


@files_router.post("/<file_id>/shares", summary="Share a file with a user (viewer)", tags=["sharing"],
                   responses={201: {"description": "the share"}, **OWNER_ONLY,
                              409: {"description": "already shared with this user (already_shared), the "
                                                   "file is trashed (file_trashed), or it has "
                                                   "MAX_SHARES_PER_FILE shares (too_many_shares)"},
                              422: {"description": "unknown_recipient or cannot_share_with_self"}})
def share_file(file_id: FileId, body: Annotated[ShareIn, Body()]) -> tuple[ShareOut, int]:
    return sharing.share_file(caller(files_router).user_id, file_id, body), 201


@files_router.get("/<file_id>/shares", summary="Who a file is shared with", tags=["sharing"],
                  responses={200: {"description": "the shares"}, **OWNER_ONLY})
def list_shares(file_id: FileId) -> ShareList:
    return sharing.list_shares(caller(files_router).user_id, file_id)


@files_router.delete("/<file_id>/shares/<share_id>", summary="Stop sharing a file with a user",
                     tags=["sharing"], responses={204: {"description": "revoked"}, **OWNER_ONLY})
def revoke_share(file_id: FileId, share_id: Annotated[UUID, Path()]) -> Response[None]:
    sharing.revoke_share(caller(files_router).user_id, file_id, share_id)
    return Response(status_code=204)


@shared_router.get("", summary="Files shared with me, most recently shared first", tags=["sharing"])
def shared_with_me(limit: Annotated[int, Query(ge=1, le=100)] = 50,
                   cursor: Annotated[str | None, Query(max_length=512)] = None) -> FileList:
    return sharing.shared_with_me(caller(shared_router).user_id, limit, cursor)


@files_router.post("/<file_id>/links", summary="Create a public link", tags=["links"],
                   responses={201: {"description": "the link; its url is shown only now"}, **OWNER_ONLY,
                              409: {"description": "the file is not pending or ready (file_<status>) "
                                                   "or has MAX_LINKS_PER_FILE links (too_many_links)"}})
def create_link(file_id: FileId, body: Annotated[LinkIn, Body()]) -> tuple[LinkOut, int]:
    return links.create_link(caller(files_router).user_id, file_id, body), 201


@files_router.get("/<file_id>/links", summary="A file's public links (not revoked)", tags=["links"],
                  responses={200: {"description": "the links"}, **OWNER_ONLY})
def list_links(file_id: FileId) -> LinkList:
    return links.list_links(caller(files_router).user_id, file_id)


@links_router.delete("/<link_id>", summary="Revoke a public link at once", tags=["links"],
                     responses={204: {"description": "revoked"}, 404: {"description": "no such link"}})
def revoke_link(link_id: Annotated[UUID, Path()]) -> Response[None]:
    links.revoke_link(caller(links_router).user_id, link_id)
    return Response(status_code=204)


app = create_app((files_router, "/files"), (shared_router, "/shared-with-me"), (links_router, "/links"))
lambda_handler = entry_point(app)
