"""Search API: the caller's files (and, with sharing, files shared with them) by name, type, tag, date."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from fileshare.adapters import telemetry
from fileshare.api import caller, create_app, entry_point
from fileshare.models import FileList, IsoDateTime
from fileshare.search import query as search

router = Router()


@router.get("", summary="Search my files", tags=["search"])
def search_files(
    q: Annotated[str | None, Query(max_length=200, description="words or the start of a name")] = None,
    type: Annotated[str | None, Query(max_length=255, description="category or exact content type")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    created_from: Annotated[IsoDateTime | None, Query(alias="from", description="created from")] = None,
    created_to: Annotated[IsoDateTime | None, Query(alias="to", description="created until")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> FileList:
    query = search.SearchQuery(q=q, type=type, tag=tag, created_from=created_from, created_to=created_to,
                               limit=limit, after=cursor)
    user_id = caller(router).user_id
    with telemetry.timed(telemetry.SEARCH_LATENCY):
        return search.search_files(user_id, query)


app = create_app((router, "/search"))
lambda_handler = entry_point(app)
