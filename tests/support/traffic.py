"""Real traffic through a running local gateway, for the ops page and trace tests.

One fresh user uploads a few files exactly as the web page does (``POST /files``, the presigned POST
to LocalStack S3), one of them a PNG that is not one (rejected), waits until the pipeline finished
them (ready or rejected, and the "ready" notification is in the inbox), searches, asks for a file
that does not exist (404), and lists notifications. The bench's client and upload helpers do the
HTTP work.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from tests.bench.common import Client, User, register_and_login
from tests.bench.uploads import Payload, send_to_s3

LIMIT_S = 60.0  # how long to wait for the pipeline (a limit, not a timing assertion)


class TrafficError(RuntimeError):
    """The flow did not reach the expected state in time."""


@dataclass
class Traffic:
    user: User
    ready: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def _payloads() -> list[tuple[Payload, str]]:
    pdf = b"%PDF-1.7\n" + b"fileshare ops page traffic\n" * 200 + b"%%EOF\n"
    text = b"notes for the ops page\n" * 300
    return [
        (Payload("document", "ops-report.pdf", "application/pdf", pdf), "ready"),
        (Payload("text", "ops-notes.txt", "text/plain", text), "ready"),
        (Payload("text", "ops-second.txt", "text/plain", text + b"2"), "ready"),
        (Payload("fake", "ops-not-a.png", "image/png", b"not an image at all\n" * 20), "rejected"),
    ]


def wait_for(client: Client, token: str, file_id: str) -> str:
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        status = client.call("GET", "GET /files/{id}", f"/files/{file_id}", token=token)["status"]
        if status != "pending":
            return str(status)
        time.sleep(0.3)
    raise TrafficError(f"file {file_id} still pending after {LIMIT_S:.0f} s (is the processor polling?)")


def upload(client: Client, user: User, payload: Payload) -> str:
    created = client.call("POST", "POST /files", "/files", token=user.token, expect=(201,), body={
        "name": payload.name, "size": len(payload.data), "content_type": payload.content_type,
        "tags": ["ops"]})
    send_to_s3(client.session(), created["upload"], payload)
    return str(created["file_id"])


def generate(base_url: str) -> Traffic:
    client = Client(base_url)
    user = register_and_login(client, f"ops-{uuid.uuid4().hex[:10]}@example.com")
    traffic = Traffic(user)
    for payload, expected in _payloads():
        file_id = upload(client, user, payload)
        status = wait_for(client, user.token, file_id)
        if status != expected:
            raise TrafficError(f"{payload.name} became {status}, expected {expected}")
        (traffic.ready if status == "ready" else traffic.rejected).append(file_id)
    client.call("GET", "GET /search", "/search?q=ops", token=user.token)
    client.call("GET", "GET /files", "/files?limit=20", token=user.token)
    client.call("GET", "GET /files/{id}", f"/files/{uuid.uuid4()}", token=user.token, expect=(404,))
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        items = client.call("GET", "GET /notifications", "/notifications", token=user.token)["items"]
        if {i.get("file_id") for i in items} >= set(traffic.ready):
            return traffic
        time.sleep(0.5)
    raise TrafficError(f"not every ready file was notified within {LIMIT_S:.0f} s")
