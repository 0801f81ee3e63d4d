"""Activity: the consumer that builds each file's feed from ``fileshare.events``, and its two routes.

One function for both (the stack is at CloudFormation's 500-resource limit, and a second function
costs a role, a log group, a security group and alarms):

- MSK records (``eventSource`` ``aws:kafka``, consumer group ``fileshare-activity``): each record on
  its own through Powertools' BatchProcessor (``fileshare.consumers.batch_entry_point``); a failing
  record is reported in ``batchItemFailures`` and retried, then dead-lettered to
  ``activity-failures``. Writing is idempotent per event (``fileshare.activity.feed``).
- API Gateway: ``GET /files/{file_id}/activity`` (the owner's feed of one file, newest first) and
  ``GET /activity/export`` (everything done to the caller's files, oldest first, JSON or CSV, a
  page at a time: the next page's cursor is ``next_cursor`` in JSON, the ``X-Next-Cursor`` header
  in CSV).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare.activity import feed as activity
from fileshare.activity.models import ActivityList
from fileshare.adapters.observability import logger, metrics, tracer
from fileshare.api import caller, create_app, entry_point
from fileshare.consumers import batch_entry_point

files_router = Router()
export_router = Router()


@files_router.get("/<file_id>/activity", summary="What was done to my file, newest first", tags=["activity"],
                  responses={200: {"description": "a page of the file's activity"},
                             404: {"description": "not your file, or no such file (file_not_found); "
                                                  "a viewer of the file too"}})
def file_activity(
    file_id: Annotated[UUID, Path(description="the file's id")],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ActivityList:
    return activity.file_activity(caller(files_router).user_id, file_id, limit=limit, after=cursor)


@export_router.get(
    "/export", summary="Export everything done to my files (JSON or CSV), oldest first", tags=["activity"],
    description="A page at a time: pass the previous page's cursor (JSON: `next_cursor`; CSV: the "
                "`X-Next-Cursor` response header, absent on the last page). CSV cells that a "
                "spreadsheet would read as a formula are prefixed with an apostrophe.",
    responses={200: {"description": "a page of the export",
                     "content": {"application/json": {"model": ActivityList},
                                 "text/csv": {"schema": {"type": "string"}}},
                     "headers": {"X-Next-Cursor": {"description": "CSV: the next page's cursor",
                                                   "schema": {"type": "string"}}}}})
def export(
    format_: Annotated[Literal["json", "csv"],
                       Query(alias="format", description="json (default) or csv")] = "json",
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[str]:
    page = activity.export_page(caller(export_router).user_id, limit=limit, after=cursor)
    headers = {"Cache-Control": "no-store"}
    if format_ == "json":
        return Response(status_code=200, content_type="application/json", body=page.model_dump_json(),
                        headers=headers)
    if page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
    headers["Content-Disposition"] = 'attachment; filename="fileshare-activity.csv"'
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=activity.to_csv(page.items),
                    headers=headers)


app = create_app((files_router, "/files"), (export_router, "/activity"))
api_handler = entry_point(app)


@tracer.capture_method
def record_handler(record: KafkaEventRecord) -> None:
    outcome = activity.handle(record.decoded_value)
    metrics.add_metric(name="ActivityRecords", unit="Count", value=1)
    logger.debug("record handled", extra={"partition": record.partition, "offset": record.offset,
                                          "outcome": outcome.value})


consumer_handler = batch_entry_point(EventType.Kafka, record_handler)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """MSK batches to the consumer, everything else (API Gateway proxy events) to the resolver."""
    if event.get("eventSource") == "aws:kafka":
        return consumer_handler(event, context)
    return api_handler(event, context)
