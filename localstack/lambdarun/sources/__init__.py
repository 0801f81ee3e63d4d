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
)
from lambdarun.environment import region
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
