"""Fixtures and helpers of the event consumers' tests (notifier, email limits, indexer): the
notifier handler, identities with their users row, MSK-shaped batches and LocalStack's SES store."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import pytest
import requests

from fileshare.event_types import Event, EventType
from lambdarun.events import KafkaRecord, msk_event
from tests.integration.conftest import User, _load_handler
from tests.support.apigw import FakeContext

TOPIC = "fileshare.events"
SES_STORE = f"{os.environ.get('AWS_ENDPOINT_URL', 'http://localhost:4566')}/_aws/ses"
LIMIT_S = 60.0  # how long the end-to-end test keeps polling (a limit, not a timing assertion)


@pytest.fixture(scope="module")
def notifier() -> ModuleType:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("AWS_ENDPOINT_URL"):
        pytest.fail("the local stack is not up (DATABASE_URL, AWS_ENDPOINT_URL): run `make dev`")
    return _load_handler("notifier")


@pytest.fixture
def account(db: Any) -> Callable[[User], User]:
    """Give a test identity its users row (the API would on first use)."""
    def make(user: User) -> User:
        db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, %s)",
                   (user.user_id, user.email, 10**9))
        return user
    return make


def msk(values: Iterable[bytes], *, partition: int = 0, first_offset: int = 0) -> dict[str, Any]:
    records = [KafkaRecord(TOPIC, partition, first_offset + i, int(time.time() * 1000), 0, None, value,
                           (("event-type", b"x"),)) for i, value in enumerate(values)]
    return msk_event(records, cluster_arn="arn:aws:kafka:us-east-1:000000000000:cluster/t/1",
                     bootstrap="127.0.0.1:9092")


def invoke(module: ModuleType, *values: bytes) -> list[dict[str, Any]]:
    """Run the handler on one batch; the batchItemFailures it reports."""
    result = module.lambda_handler(msk(values), FakeContext(function_name="notifier"))
    return list(result.get("batchItemFailures", []))


def inbox(db: Any, user: User) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM notifications WHERE user_id = %s ORDER BY created_at",
                      (user.user_id,)).fetchall()


def mail_to(address: str) -> list[dict[str, Any]]:
    messages = requests.get(SES_STORE, timeout=10).json()["messages"]
    return [m for m in messages if address in (m.get("Destination") or {}).get("ToAddresses", [])]


def ready_event(owner: User, name: str = "report.pdf") -> Event:
    return Event(type=EventType.FILE_READY, file_id=uuid.uuid4(), owner_id=owner.user_id,
                 data={"name": name, "size": 10, "content_type": "application/pdf"})
