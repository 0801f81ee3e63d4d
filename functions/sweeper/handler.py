"""Sweeper (scheduled): expired files and trash past retention go down the purge path; stalled
purges are finished; uploads that never arrived are rejected. Bounded batches; stops starting new
ones close to the timeout."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import expiry
from fileshare.observability import logger, metrics

RESERVE_MS = 10_000  # a batch (and a stalled purge) fits well within this


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = expiry.sweep(has_time=lambda: context.get_remaining_time_in_millis() > RESERVE_MS)
    counts = asdict(result)
    if any(counts.values()):
        logger.info("sweep done", extra=counts)
    return counts
