"""Fixtures of the local Lambda runtime's tests (gateway, worker pools, SQS and Kafka pollers,
schedules, failure queues, bundled assets): Kafka topics of a test's own."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import pytest

from tests.support.pipeline import temporary_topic


@pytest.fixture
def new_topic() -> Iterator[Callable[..., str]]:
    """``new_topic(prefix, partitions=1)``: a topic with a unique name, deleted after the test, so a
    poller under test reads only what the test produced."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    if not bootstrap:
        pytest.fail("Kafka is not in the environment (KAFKA_BOOTSTRAP_SERVERS): run `make up`")
    with contextlib.ExitStack() as topics:
        def make(prefix: str, partitions: int = 1) -> str:
            return topics.enter_context(temporary_topic(bootstrap, prefix, partitions=partitions))
        yield make
