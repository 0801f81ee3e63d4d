"""LocalStack's SES mailbox (``GET /_aws/ses``), where every mail of the local stack lands: the
app's notifications and Cognito's confirmation and reset codes. Its ``email`` parameter filters by
sender, so messages are filtered by recipient here."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import requests

CODE = re.compile(r"\b(\d{6})\b")


def messages_to(address: str, *, subject_contains: str = "") -> list[dict[str, Any]]:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://localhost:4566").rstrip("/")
    everything = requests.get(f"{endpoint}/_aws/ses", timeout=10).json()["messages"]
    return [m for m in everything
            if address.lower() in (a.lower() for a in m["Destination"].get("ToAddresses", []))
            and subject_contains.lower() in str(m.get("Subject", "")).lower()]


def latest_code(address: str, *, subject_contains: str = "", timeout_s: float = 10.0,
                not_before: int = 0) -> str:
    """The code in the newest matching mail to ``address``, waiting for it to arrive.

    ``not_before``: how many matching mails were there already (so a resent code is not confused
    with the earlier one)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = messages_to(address, subject_contains=subject_contains)
        if len(found) > not_before:
            match = CODE.search(str(found[-1]["Body"].get("text_part") or ""))
            assert match, found[-1]
            return match.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {address} (subject ~ {subject_contains!r}) arrived")
        time.sleep(0.1)


def confirmation_code(address: str, **kwargs: Any) -> str:
    return latest_code(address, subject_contains="confirmation code", **kwargs)


def reset_code(address: str, **kwargs: Any) -> str:
    return latest_code(address, subject_contains="reset", **kwargs)


def verification_code(address: str, **kwargs: Any) -> str:
    return latest_code(address, subject_contains="new Fileshare email", **kwargs)
