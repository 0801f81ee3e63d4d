"""What the Kafka consumers (notifier, indexer) share: reading a record's envelope before trusting it.

A consumer first looks only at ``type``: a type it does not handle (including one added after this
code was written, unknown to ``EventType``) is acknowledged without validating the rest. A record
that is not an envelope at all is ``MalformedEventError``: retrying cannot fix it, so it fails until
the trigger's retries are exhausted and it goes to the on-failure destination (dead letters).
"""

from __future__ import annotations

import json
from typing import Any


class MalformedEventError(ValueError):
    """Not an event envelope, or a data version this consumer does not know."""


def envelope(raw: bytes | str) -> dict[str, Any]:
    """The record's JSON object, which must carry a string ``type``."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEventError(f"the record is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise MalformedEventError("the record is not an event envelope (no type)")
    return payload
