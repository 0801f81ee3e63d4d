"""Sweeper (scheduled): expired files and trash past retention go down the purge path; stalled
purges are finished; uploads that never arrived are rejected; unfinished whole-folder operations
continue; then housekeeping (old outbox rows
and read notifications pruned, link download digests mailed); upload bursts that went quiet are
closed and mailed. Bounded batches; stops starting new
ones close to the timeout. Expired ZIP archives are deleted and archive jobs whose worker vanished
are failed (``fileshare.archives.jobs.sweep``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import expiry, folders, housekeeping
from fileshare.adapters.observability import logger, metrics
from fileshare.archives import jobs as archives
from fileshare.notifications import bursts as notice_bursts
from fileshare.notifications import digests as burst_digests

RESERVE_MS = 10_000  # a batch (and a stalled purge) fits well within this


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def has_time() -> bool:
        return context.get_remaining_time_in_millis() > RESERVE_MS

    counts = {**asdict(expiry.sweep(has_time=has_time)), **asdict(housekeeping.run(has_time=has_time)),
              **asdict(archives.sweep(has_time=has_time))}
    # Whole-folder trash/restore/purge a caller left unfinished (their batches are resumable).
    counts["folder_ops"] = folders.resume_pending(has_time=has_time)
    # Upload bursts that went quiet: closed, and their one email sent.
    counts["burst_emails"] = burst_digests.flush(has_time=has_time)
    counts["bursts_pruned"] = notice_bursts.prune()
    if any(counts.values()):
        logger.info("sweep done", extra=counts)
    return counts
