"""Outbox relay (scheduled): publish the outbox rows the inline publish after a commit could not.

Idempotent and safe to run concurrently: each file's rows are sent by one publisher at a time, in
order, and marked published only after Kafka acknowledged them. Runs in rounds until the outbox is
empty or the invocation is close to its timeout. Raises when Kafka is unreachable, so the failed
run is visible (Lambda error metric, alarm); the rows wait for the next run. Every run, failed or
not, reports the backlog it leaves (``OutboxBacklog``, ``OutboxOldestUnpublishedAgeS``): the age
is what the "outbox stalled" alarm watches.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import events
from fileshare.adapters import telemetry
from fileshare.adapters.observability import logger, metrics
from fileshare.db import outbox
from fileshare.db.connection import transaction

BATCH = 500
RESERVE_MS = 3_000  # stop starting rounds this close to the timeout


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    published = 0
    try:
        while context.get_remaining_time_in_millis() > RESERVE_MS:
            sent = events.publish_pending(limit=BATCH)
            published += sent
            if sent < BATCH:
                break
    finally:
        metrics.add_metric(name="OutboxRelayed", unit="Count", value=published)
        _report_backlog()
    if published:
        logger.info("outbox relayed", extra={"published": published})
    return {"published": published}


def _report_backlog() -> None:
    try:
        with transaction() as conn:
            count, age = outbox.backlog(conn)
    except Exception:  # the database is down: the relay's own error (and its alarm) tells
        logger.warning("could not read the outbox backlog", exc_info=True)
        return
    telemetry.outbox_backlog(count, age)
    if count:
        logger.info("outbox backlog", extra={"unpublished": count, "oldest_age_s": round(age, 1)})
