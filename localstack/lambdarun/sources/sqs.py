"""Lambda's SQS event source mapping, locally: long-poll, invoke with up to ``batch_size`` records,
delete what succeeded (everything except ``batchItemFailures``; nothing when the function fails),
leave the rest to reappear after the visibility timeout; the queue's own RedrivePolicy moves a
message to the DLQ after maxReceiveCount. Also the SQS client and queue lookup the other sources'
on-failure destinations use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from infra.declaration import SqsTrigger, local_queue_name, namespace_of, queue_url_env
from lambdarun.environment import region
from lambdarun.events import sqs_event
from lambdarun.pool import Invocation, Invoke

log = logging.getLogger(__name__)

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
