"""EventBridge Scheduler, locally: a timer per ScheduleTrigger, with Lambda's asynchronous retries
and on-failure destination."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.declaration import ScheduleTrigger
from lambdarun.environment import ACCOUNT_ID
from lambdarun.events import scheduled_event
from lambdarun.pool import Invocation, Invoke
from lambdarun.triggers import schedule_interval_s

log = logging.getLogger(__name__)


class Schedule:
    """Invokes a function at the local cadence of its ScheduleTrigger, asynchronously as Lambda does
    for EventBridge Scheduler: a failed run is retried twice, then handed to the on-failure queue."""

    def __init__(self, invoke: Invoke, function: str, trigger: ScheduleTrigger, *, aws_region: str,
                 on_failure: Callable[[dict[str, Any]], None] | None = None, retries: int = 2,
                 retry_delay_s: float = 2.0) -> None:
        self.invoke = invoke
        self.function = function
        self.interval_s = schedule_interval_s(trigger)
        self.region = aws_region
        self.rule_arn = f"arn:aws:events:{aws_region}:{ACCOUNT_ID}:rule/fileshare-{function}-schedule"
        self.on_failure = on_failure
        self.retries = retries
        self.retry_delay_s = retry_delay_s

    def fire(self, stop: threading.Event | None = None) -> Invocation:
        """One scheduled run with Lambda's asynchronous retries (delays grow: 1x, 2x ...)."""
        event = scheduled_event(self.rule_arn, self.region)
        attempts = 0
        while True:
            attempts += 1
            invocation = self.invoke(self.function, event)
            if invocation.ok:
                return invocation
            log.warning("scheduled %s failed (attempt %d): %s", self.function, attempts,
                        (invocation.error or {}).get("errorType"))
            stopped = stop.wait(self.retry_delay_s * attempts) if stop else False
            if attempts > self.retries or stopped:
                break
        if self.on_failure is not None:
            self.on_failure({
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(),
                "requestContext": {"requestId": invocation.request_id,
                                   "functionArn": f"arn:aws:lambda:::function:{self.function}",
                                   "condition": "RetriesExhausted", "approximateInvokeCount": attempts},
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                    "functionError": "Unhandled"},
                "responsePayload": invocation.error,
            })
        return invocation

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                self.fire(stop)
            except Exception:
                log.exception("schedule for %s", self.function)
