"""Scheduled invocations follow Lambda's asynchronous rules: two retries, then the failure queue."""

from __future__ import annotations

import threading
from typing import Any

from infra.declaration import ScheduleTrigger
from lambdarun.pool import Invocation
from lambdarun.sources.schedule import Schedule


class _Function:
    """Stands in for the worker pool: fails the first ``failures`` invocations, then succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.events: list[dict[str, Any]] = []

    def __call__(self, function: str, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        if len(self.events) <= self.failures:
            return Invocation(function, f"req-{len(self.events)}", ok=False,
                              error={"errorType": "ValueError", "errorMessage": "boom"})
        return Invocation(function, f"req-{len(self.events)}", ok=True, result={"ok": True})


def _schedule(function: _Function, sent: list[dict[str, Any]]) -> Schedule:
    return Schedule(function, "sweeper", ScheduleTrigger(every_seconds=60, local_every_seconds=1),
                    aws_region="us-east-1", on_failure=sent.append, retry_delay_s=0.0)


def test_a_run_that_keeps_failing_is_retried_twice_then_sent_to_the_failure_queue() -> None:
    function, sent = _Function(failures=10), list[dict[str, Any]]()

    invocation = _schedule(function, sent).fire(threading.Event())

    assert not invocation.ok and len(function.events) == 3
    [record] = sent
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == function.events[0]
    assert record["requestPayload"]["detail-type"] == "Scheduled Event"
    assert record["responsePayload"] == {"errorType": "ValueError", "errorMessage": "boom"}


def test_a_run_that_succeeds_on_retry_sends_nothing() -> None:
    function, sent = _Function(failures=2), list[dict[str, Any]]()

    invocation = _schedule(function, sent).fire(threading.Event())

    assert invocation.ok and len(function.events) == 3 and sent == []


def test_stopping_ends_the_retries() -> None:
    function, sent = _Function(failures=10), list[dict[str, Any]]()
    stop = threading.Event()
    stop.set()

    _schedule(function, sent).fire(stop)

    assert len(function.events) == 1 and len(sent) == 1
