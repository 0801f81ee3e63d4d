"""Event sources: SQS pollers, Kafka (MSK) pollers and schedules, with Lambda's failure rules.

SQS: long-poll, invoke with up to ``batch_size`` records, delete what succeeded (everything except
``batchItemFailures``; nothing when the function fails), leave the rest to reappear after the
visibility timeout; the queue's own RedrivePolicy moves a message to the DLQ after maxReceiveCount.

Kafka: one consumer per trigger (group = ``consumer_group``, no auto-commit). Offsets are committed
only after a successful invoke; on ``batchItemFailures`` the partition is committed up to the first
failed offset and consumption resumes there, after an exponential backoff (so a service that is down
for a few seconds does not use up the retries at once); after ``max_retries`` failed retries the
failed records go to the function's on-failure SQS queue (``Function.failure_queue``, the queue CDK
makes the on-failure destination in AWS) and the partition moves on. Nothing is committed before the
failure queue has accepted them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from infra.declaration import (
    DeployTrigger,
    Function,
    KafkaTrigger,
    ScheduleTrigger,
    SqsTrigger,
    local_queue_name,
    namespace_of,
    queue_url_env,
)
from lambdarun.environment import ACCOUNT_ID, region
from lambdarun.events import KafkaRecord, msk_event, scheduled_event, sqs_event
from lambdarun.pool import Invocation
from lambdarun.runtime import Runtime
from lambdarun.triggers import schedule_interval_s

log = logging.getLogger(__name__)

Invoke = Callable[[str, Any], Invocation]


def sqs_client(env: Mapping[str, str]) -> Any:
    import boto3  # imported here: the gateway alone does not need boto3

    return boto3.client(
        "sqs",
        region_name=region(env),
        endpoint_url=env.get("AWS_ENDPOINT_URL_SQS") or env.get("AWS_ENDPOINT_URL"),
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "test"),
    )


def queue_url(name: str, env: Mapping[str, str], client: Any) -> str:
    """A logical queue's URL: from its env var (``queue_url_env``) or, failing that, GetQueueUrl of
    its local name in the env's namespace (``fileshare-<name>``) or of the name itself."""
    var = queue_url_env(name)
    if env.get(var):
        return env[var]
    try:
        return str(client.get_queue_url(QueueName=local_queue_name(name, namespace_of(env)))["QueueUrl"])
    except client.exceptions.QueueDoesNotExist:
        return str(client.get_queue_url(QueueName=name)["QueueUrl"])


# --- SQS -------------------------------------------------------------------------------------------


class SqsPoller:
    """Lambda's SQS event source mapping for one (queue, function) pair."""

    def __init__(self, invoke: Invoke, function: str, trigger: SqsTrigger, *, url: str, client: Any,
                 aws_region: str, wait_s: int = 2) -> None:
        self.invoke = invoke
        self.function = function
        self.trigger = trigger
        self.url = url
        self.client = client
        self.region = aws_region
        self.wait_s = wait_s
        self._arn: str | None = None

    @property
    def queue_arn(self) -> str:
        if self._arn is None:
            attrs = self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
            self._arn = str(attrs["Attributes"]["QueueArn"])
        return self._arn

    def receive(self) -> list[dict[str, Any]]:
        """Up to ``batch_size`` messages, waiting at most the batching window for more than 10."""
        messages: list[dict[str, Any]] = []
        window_end = time.monotonic() + self.trigger.max_batching_window_s
        while len(messages) < self.trigger.batch_size:
            wait = self.wait_s if not messages else max(0, int(window_end - time.monotonic()))
            reply = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(10, self.trigger.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            got = reply.get("Messages", [])
            messages.extend(got)
            if not got or time.monotonic() >= window_end:
                break
        return messages

    def process(self, messages: Sequence[dict[str, Any]]) -> Invocation:
        """Invoke with ``messages`` and delete those that succeeded."""
        invocation = self.invoke(self.function, sqs_event(messages, self.queue_arn, self.region))
        if not invocation.ok:
            log.warning("%s failed on %d SQS messages (%s); they return after the visibility timeout",
                        self.function, len(messages), (invocation.error or {}).get("errorType"))
            return invocation
        failed = _sqs_failures(invocation.result, {m["MessageId"] for m in messages})
        if failed is None:
            log.warning("%s returned an invalid batchItemFailures; the whole batch is retried",
                        self.function)
            return invocation
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start:start + 10]
            self.client.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        return invocation

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                messages = self.receive()
                if messages:
                    self.process(messages)
            except Exception:
                log.exception("SQS poller for %s on %s", self.function, self.trigger.queue)
                stop.wait(2.0)


def _sqs_failures(result: Any, ids: set[str]) -> set[str] | None:
    """The failed message ids from a response; None when the response is invalid (Lambda's rule)."""
    if not isinstance(result, dict) or result.get("batchItemFailures") is None:
        return set()
    items = result["batchItemFailures"]
    if not isinstance(items, list):
        return None
    failed: set[str] = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return None
        failed.add(identifier)
    return failed


# --- Kafka -----------------------------------------------------------------------------------------


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


# --- schedules -------------------------------------------------------------------------------------


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


# --- all of them -----------------------------------------------------------------------------------


class EventSources:
    """Starts a thread per poller/schedule of the runtime's functions; ``stop()`` ends them."""

    def __init__(self, runtime: Runtime, env: Mapping[str, str], *, sqs_pollers_per_queue: int = 2,
                 kafka_retry_delay_s: float = 2.0) -> None:
        self.runtime = runtime
        self.env = dict(env)
        self.sqs_pollers_per_queue = sqs_pollers_per_queue
        self.kafka_retry_delay_s = kafka_retry_delay_s
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self._sqs: Any = None
        self._lock = threading.Lock()

    def _sqs_client(self) -> Any:
        """An SQS client for the local endpoint; never the real AWS one."""
        with self._lock:
            if self._sqs is not None:
                return self._sqs
            if not (self.env.get("AWS_ENDPOINT_URL_SQS") or self.env.get("AWS_ENDPOINT_URL")):
                raise RuntimeError("AWS_ENDPOINT_URL is not set (is LocalStack in .local/stack.env?)")
            self._sqs = sqs_client(self.env)  # boto3 client creation is not thread-safe: under the lock
            return self._sqs

    def runners(self) -> list[tuple[str, Callable[[threading.Event], None]]]:
        aws_region = region(self.env)
        out: list[tuple[str, Callable[[threading.Event], None]]] = []
        for fn in self.runtime.functions.values():
            for trigger in fn.triggers:
                out.extend(self._runners_for(fn, trigger, aws_region))
        return out

    def _runners_for(self, fn: Function, trigger: Any, aws_region: str
                     ) -> list[tuple[str, Callable[[threading.Event], None]]]:
        invoke = self.runtime.invoke
        if isinstance(trigger, SqsTrigger):
            return [(f"sqs:{trigger.queue}->{fn.name}#{i}", self._sqs_runner(fn, trigger, aws_region))
                    for i in range(self.sqs_pollers_per_queue)]
        if isinstance(trigger, KafkaTrigger):
            # The namespace's topic and groups (``fileshare-test.events``, ``fileshare-test-notifier``
            # for the tests), so one namespace's consumers never read another's events.
            namespace = namespace_of(self.env)
            trigger = replace(trigger, topic=namespace.physical(trigger.topic),
                              consumer_group=namespace.physical(trigger.consumer_group))
            bootstrap = self.env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
            on_failure = self._sqs_sender(fn.failure_queue) if fn.failure_queue else None
            poller = KafkaPoller(invoke, fn.name, trigger, bootstrap=bootstrap, aws_region=aws_region,
                                 on_failure=on_failure, retry_delay_s=self.kafka_retry_delay_s)
            return [(f"kafka:{trigger.topic}->{fn.name}", poller.run)]
        if isinstance(trigger, ScheduleTrigger):
            on_failure = self._sqs_sender(fn.failure_queue) if fn.failure_queue else None
            schedule = Schedule(invoke, fn.name, trigger, aws_region=aws_region, on_failure=on_failure)
            return [(f"schedule:{schedule.interval_s}s->{fn.name}", schedule.run)]
        if isinstance(trigger, DeployTrigger):  # run once per `make up` by the stack manager, not here
            return []
        raise TypeError(f"unknown trigger {trigger!r}")

    def _sqs_runner(self, fn: Function, trigger: SqsTrigger, aws_region: str
                    ) -> Callable[[threading.Event], None]:
        """Resolve the queue inside the thread (retrying), so a missing queue never stops serve.py."""

        def run(stop: threading.Event) -> None:
            while not stop.is_set():
                try:
                    client = self._sqs_client()
                    url = queue_url(trigger.queue, self.env, client)
                    break
                except Exception as exc:
                    log.warning("SQS poller for %s: queue %s not reachable yet (%s); retrying",
                                fn.name, trigger.queue, exc)
                    stop.wait(10.0)
            else:
                return
            SqsPoller(self.runtime.invoke, fn.name, trigger, url=url, client=client,
                      aws_region=aws_region).run(stop)

        return run

    def _sqs_sender(self, queue: str) -> Callable[[dict[str, Any]], None]:
        def send(record: dict[str, Any]) -> None:
            client = self._sqs_client()
            client.send_message(QueueUrl=queue_url(queue, self.env, client), MessageBody=json.dumps(record),
                                MessageAttributes={"source": {"DataType": "String",
                                                              "StringValue": "lambdarun"}})

        return send

    def start(self) -> list[str]:
        names = []
        for name, target in self.runners():
            thread = threading.Thread(target=target, args=(self.stop_event,), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
            names.append(name)
        return names

    def stop(self, timeout_s: float = 5.0) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + timeout_s
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
