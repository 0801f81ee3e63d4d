"""Lambda's MSK event source mapping, locally: one consumer per trigger (group = ``consumer_group``,
no auto-commit).

Offsets are committed only after a successful invoke; on ``batchItemFailures`` the partition is
committed up to the first failed offset and consumption resumes there, after an exponential
backoff (so a service that is down for a few seconds does not use up the retries at once); after
``max_retries`` failed retries the failed records go to the function's on-failure SQS queue
(``Function.failure_queue``, the queue CDK makes the on-failure destination in AWS) and the
partition moves on. Nothing is committed before the failure queue has accepted them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.declaration import KafkaTrigger
from lambdarun.environment import ACCOUNT_ID
from lambdarun.events import KafkaRecord, msk_event
from lambdarun.pool import Invocation, Invoke

log = logging.getLogger(__name__)


class KafkaPoller:
    """Lambda's MSK event source mapping for one (topic, consumer group, function)."""

    def __init__(self, invoke: Invoke, function: str, trigger: KafkaTrigger, *, bootstrap: str,
                 aws_region: str, on_failure: Callable[[dict[str, Any]], None] | None = None,
                 retry_delay_s: float = 2.0, max_retry_delay_s: float = 60.0) -> None:
        self.invoke = invoke
        self.function = function
        self.trigger = trigger
        self.bootstrap = bootstrap
        self.cluster_arn = (f"arn:aws:kafka:{aws_region}:{ACCOUNT_ID}:cluster/fileshare-local/"
                            "00000000-0000-0000-0000-000000000000-1")
        self.on_failure = on_failure
        self.retry_delay_s = retry_delay_s
        self.max_retry_delay_s = max_retry_delay_s
        self._stop = threading.Event()  # run()'s stop event: ends a backoff wait early
        self._failures: dict[tuple[Any, int], int] = {}  # (TopicPartition, offset) -> failed attempts
        self.consumer: Any = None

    def connect(self) -> None:
        from kafka.consumer import KafkaConsumer

        self.consumer = KafkaConsumer(
            self.trigger.topic,
            bootstrap_servers=self.bootstrap.split(","),
            group_id=self.trigger.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="latest" if self.trigger.starting_position == "LATEST" else "earliest",
            max_poll_records=self.trigger.batch_size,
            client_id=f"lambdarun-{self.function}",
        )

    def join(self, limit_s: float = 30.0) -> None:
        """Join the group, resolve the starting offsets and commit them (a new group only).

        A group with no committed offset starts at ``starting_position`` on every rebalance: a
        LATEST group that rebalances (its first assignment came before the topic's metadata) would
        skip what was published in between. Committing the resolved positions pins the start.
        """
        deadline = time.monotonic() + limit_s
        while not self.consumer.assignment() and time.monotonic() < deadline:
            self.poll_once(timeout_ms=200)
        if not self.consumer.assignment():
            raise TimeoutError(f"{self.function}: no partition of {self.trigger.topic} after {limit_s:.0f} s")
        from kafka.structs import OffsetAndMetadata

        pinned = {tp: OffsetAndMetadata(self.consumer.position(tp), "", -1)
                  for tp in self.consumer.assignment()
                  if self.consumer.committed(tp) is None}
        if pinned:
            self.consumer.commit(pinned)

    def poll_once(self, timeout_ms: int = 500) -> Invocation | None:
        """Poll one batch, invoke, commit or rewind. None when nothing arrived."""
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.trigger.batch_size)
        if not polled:
            return None
        batch = {tp: list(records) for tp, records in polled.items() if records}
        event = msk_event(
            (KafkaRecord(r.topic, r.partition, r.offset, r.timestamp, r.timestamp_type, r.key, r.value,
                         tuple(r.headers or ())) for records in batch.values() for r in records),
            cluster_arn=self.cluster_arn, bootstrap=self.bootstrap,
        )
        invocation = self.invoke(self.function, event)
        self._settle(batch, invocation)
        return invocation

    def backoff_s(self, attempts: int) -> float:
        """The wait before retry number ``attempts`` (1-based): ``retry_delay_s``, doubling, capped."""
        return float(min(self.max_retry_delay_s, self.retry_delay_s * 2 ** max(0, attempts - 1)))

    def _settle(self, batch: dict[Any, list[Any]], invocation: Invocation) -> None:
        from kafka.structs import OffsetAndMetadata

        first_failed = self._first_failed(batch, invocation)
        commits: dict[Any, Any] = {}
        wait_s = 0.0
        for tp, records in batch.items():
            failed_at = first_failed.get(tp)
            if failed_at is None:
                commits[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
                continue
            attempts = self._failures.get((tp, failed_at), 0) + 1
            if attempts > self.trigger.max_retries:
                failed = [r for r in records if r.offset >= failed_at]
                self._give_up(tp, failed, invocation, attempts)
                commits[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
                self._failures.pop((tp, failed_at), None)
                continue
            self._failures[(tp, failed_at)] = attempts
            wait_s = max(wait_s, self.backoff_s(attempts))
            if failed_at > records[0].offset:
                commits[tp] = OffsetAndMetadata(failed_at, "", -1)
            self.consumer.seek(tp, failed_at)
        if commits:
            self.consumer.commit(commits)
            for tp in commits:
                for key in [k for k in self._failures if k[0] == tp and k[1] < commits[tp].offset]:
                    self._failures.pop(key)
        if wait_s:
            where = ", ".join(f"{tp.topic}-{tp.partition}@{offset}" for tp, offset in first_failed.items())
            log.warning("%s failed on %s; retrying in %.1fs", self.function, where, wait_s)
            self._stop.wait(wait_s)

    def _first_failed(self, batch: dict[Any, list[Any]], invocation: Invocation) -> dict[Any, int]:
        everything = {tp: records[0].offset for tp, records in batch.items()}
        if not invocation.ok:
            return everything
        result = invocation.result
        if not isinstance(result, dict) or not result.get("batchItemFailures"):
            return {}
        by_name = {f"{tp.topic}-{tp.partition}": tp for tp in batch}
        first: dict[Any, int] = {}
        for item in result["batchItemFailures"]:
            ident = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not isinstance(ident, dict) or ident.get("partition") not in by_name:
                log.warning("%s: invalid Kafka batchItemFailures; retrying the batch", self.function)
                return everything
            tp = by_name[ident["partition"]]
            offset = int(ident.get("offset", everything[tp]))
            first[tp] = min(first.get(tp, offset), offset)
        return first

    def _give_up(self, tp: Any, records: list[Any], invocation: Invocation, attempts: int) -> None:
        """Hand the records to the on-failure destination; raises (so nothing is committed) if it fails."""
        if self.on_failure is None:
            log.error("%s: %d record(s) of %s-%d failed %d times; no on-failure destination: dropped",
                      self.function, len(records), tp.topic, tp.partition, attempts)
            return
        log.error("%s: %d record(s) of %s-%d failed %d times; sending them to the on-failure destination",
                  self.function, len(records), tp.topic, tp.partition, attempts)
        error = invocation.error or {}
        self.on_failure({
            "requestContext": {"requestId": invocation.request_id,
                               "functionArn": f"arn:aws:lambda:::function:{self.function}",
                               "condition": "RetryAttemptsExhausted",
                               "approximateInvokeCount": attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                "functionError": error.get("errorType", "PartialBatchFailure")},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "KafkaBatchInfo": {"batchSize": len(records), "topic": tp.topic, "partition": tp.partition,
                               "firstOffset": records[0].offset, "lastOffset": records[-1].offset,
                               "bootstrapServers": self.bootstrap, "eventSourceArn": self.cluster_arn},
            "payload": msk_event(
                (KafkaRecord(r.topic, r.partition, r.offset, r.timestamp, r.timestamp_type, r.key,
                             r.value, tuple(r.headers or ())) for r in records),
                cluster_arn=self.cluster_arn, bootstrap=self.bootstrap),
        })

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        while not stop.is_set():
            try:
                if self.consumer is None:
                    self.connect()
                self.poll_once()
            except Exception:
                log.exception("Kafka poller for %s on %s", self.function, self.trigger.topic)
                self.close()
                stop.wait(2.0)
        self.close()

    def close(self) -> None:
        if self.consumer is not None:
            try:
                self.consumer.close(autocommit=False)
            except Exception:
                log.debug("closing the Kafka consumer", exc_info=True)
            self.consumer = None
