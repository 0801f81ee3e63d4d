"""Redis is the real server: values round-trip and expire with their TTL."""

from __future__ import annotations

import os
import time
import uuid

import redis


def test_set_get_with_ttl() -> None:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    key = f"test:{uuid.uuid4()}"

    client.set(key, b"value", px=300)

    assert client.get(key) == b"value"
    assert 0 < client.pttl(key) <= 300
    deadline = time.monotonic() + 5
    while client.exists(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get(key) is None
    info = client.info("server")
    assert int(str(info["redis_version"]).split(".")[0]) >= 7
