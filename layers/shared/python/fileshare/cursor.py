"""Opaque pagination cursors: a position (JSON list) in URL-safe base64.

A cursor only says where a page starts; every query is still filtered by the caller, so a forged
cursor can skip around the caller's own data and nothing more. A malformed one is a 422.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from fileshare.errors import ValidationFailed

MAX_CURSOR_CHARS = 512


def encode(position: list[Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


JAVA_LONG = 2**63  # OpenSearch sort values (epoch ms) are Java longs


def decode(cursor: str, *, length: int | None = None, kinds: tuple[type, ...] | None = None) -> list[Any]:
    """The position in ``cursor``: a JSON list of ``length`` scalars or, with ``kinds``, of exactly
    those types in order (``float`` also takes an integer; integers must fit a Java long)."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("the cursor is not valid", code="invalid_cursor") from exc
    expected = len(kinds) if kinds is not None else length
    if (not isinstance(position, list) or len(position) != expected
            or not all(_scalar(v, kind) for v, kind in zip(position, kinds or [None] * len(position),
                                                             strict=True))):
        raise ValidationFailed("the cursor is not valid", code="invalid_cursor")
    return position


def _scalar(value: Any, kind: type | None) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int) and abs(value) >= JAVA_LONG:
        return False
    if isinstance(value, float) and value != value:  # NaN
        return False
    if kind is None:
        return isinstance(value, str | int | float)
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def decode_time_id(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (aware timestamp, UUID) position of a keyset-paginated list, e.g. (created_at, file_id)."""
    when, row_id = decode(cursor, length=2)
    try:
        moment = datetime.fromisoformat(str(when))
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(str(row_id))
    except ValueError as exc:
        raise ValidationFailed("the cursor is not valid", code="invalid_cursor") from exc
