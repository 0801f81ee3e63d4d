"""Event sources with Lambda's failure rules, one module per kind: SQS pollers (``sqs``), Kafka
(MSK) pollers (``kafka``) and schedules (``schedule``). :class:`EventSources` starts one thread per
poller or schedule of a runtime's functions, in the namespace the environment names
(``infra.declaration.LocalNamespace``: its topic, consumer groups and queues).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from infra.declaration import (
    DeployTrigger,
    Function,
    KafkaTrigger,
    ScheduleTrigger,
    SqsTrigger,
    namespace_of,
    queue_url_env,
)
from lambdarun.environment import iam_env, region
from lambdarun.iam.calls import queue_name
from lambdarun.iam.hooks import event_source_checks, gate_from_env
from lambdarun.runtime import Runtime
from lambdarun.sources.kafka import KafkaPoller
from lambdarun.sources.schedule import Schedule
from lambdarun.sources.sqs import SqsPoller, queue_url, sqs_client

log = logging.getLogger(__name__)


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
        # Lambda polls with the function's role: each mapping is checked against it (lambdarun.iam).
        self._gate = gate_from_env({**self.env, **iam_env(self.env)})

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

    def _refused(self, fn: Function, **mapping: str | None) -> Callable[[threading.Event], None] | None:
        """A mapping the function's role may not run: AWS leaves it in a PROBLEM state and polls
        nothing; here its runner logs the refusal and ends (``lambdarun.iam``)."""
        if self._gate is None:
            return None
        refusal = self._gate.decide(event_source_checks(self._gate, fn.name, **mapping), function=fn.name)
        if refusal is None:
            return None
        message = self._gate.message(refusal, fn.name)

        def refuse(_stop: threading.Event) -> None:
            log.error("event source mapping of %s not started (PROBLEM: %s)", fn.name, message)
        return refuse

    def _runners_for(self, fn: Function, trigger: Any, aws_region: str
                     ) -> list[tuple[str, Callable[[threading.Event], None]]]:
        invoke = self.runtime.invoke
        namespace = namespace_of(self.env)
        failure_queue = namespace.queue(fn.failure_queue) if fn.failure_queue else None
        if isinstance(trigger, SqsTrigger):
            polled = queue_name(self.env.get(queue_url_env(trigger.queue), ""))
            refused = self._refused(fn, sqs_queue=polled or namespace.queue(trigger.queue))
            if refused is not None:
                return [(f"sqs:{trigger.queue}->{fn.name}", refused)]
            return [(f"sqs:{trigger.queue}->{fn.name}#{i}", self._sqs_runner(fn, trigger, aws_region))
                    for i in range(self.sqs_pollers_per_queue)]
        if isinstance(trigger, KafkaTrigger):
            # The namespace's topic and groups (``fileshare-test.events``, ``fileshare-test-notifier``
            # for the tests), so one namespace's consumers never read another's events.
            trigger = replace(trigger, topic=namespace.physical(trigger.topic),
                              consumer_group=namespace.physical(trigger.consumer_group))
            refused = self._refused(fn, kafka_topic=trigger.topic, kafka_group=trigger.consumer_group,
                                    failure_queue=failure_queue)
            if refused is not None:
                return [(f"kafka:{trigger.topic}->{fn.name}", refused)]
            bootstrap = self.env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
            on_failure = self._sqs_sender(fn.failure_queue) if fn.failure_queue else None
            poller = KafkaPoller(invoke, fn.name, trigger, bootstrap=bootstrap, aws_region=aws_region,
                                 on_failure=on_failure, retry_delay_s=self.kafka_retry_delay_s)
            return [(f"kafka:{trigger.topic}->{fn.name}", poller.run)]
        if isinstance(trigger, ScheduleTrigger):
            refused = self._refused(fn, failure_queue=failure_queue)
            if refused is not None:
                return [(f"schedule->{fn.name}", refused)]
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
