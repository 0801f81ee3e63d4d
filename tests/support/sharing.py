"""Helpers of the sharing and public-link tests (their fixtures: tests/integration/sharing/conftest.py).

``World`` drives the real handlers (files, sharing, search, public_link) as any user, and makes
ready files the way the pipeline leaves them: bytes in LocalStack S3 through the presigned POST,
the row ``ready``, the search document indexed with ``readers_for`` (the ACL the processor uses).
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from fileshare.config import settings
from tests.integration.conftest import Api, User
from tests.support.apigw import Reply, call, event

TEXT = b"shared bytes, exactly these\n" * 3


def random_ip() -> str:
    """A source IP of its own per test, so password-attempt counters never leak between tests."""
    return str(ipaddress.IPv4Address(random.randint(0x0A000001, 0x0AFFFFFE)))


@dataclass
class World:
    files_module: Any
    sharing_module: Any
    search_module: Any
    public_module: Any
    db: Any
    opensearch: Any

    def files(self, user: User | None) -> Api:
        return Api(self.files_module, user.claims if user else None)

    def sharing(self, user: User | None) -> Api:
        return Api(self.sharing_module, user.claims if user else None)

    def search(self, user: User) -> Api:
        return Api(self.search_module, user.claims)

    def register(self, user: User) -> User:
        """Give ``user`` a users row (what their first API call does)."""
        assert self.files(user)("GET", "/me").status == 200
        return user

    def ready_file(self, owner: User, name: str = "shared notes.txt", data: bytes = TEXT, *,
                   index: bool = True, content_type: str = "text/plain") -> str:
        reply = self.files(owner)("POST", "/files", body={"name": name, "size": len(data),
                                                          "content_type": content_type})
        assert reply.status == 201, reply.body
        upload = reply.body["upload"]
        posted = requests.post(upload["url"], data=upload["fields"],
                               files={"file": ("blob", data, content_type)}, timeout=30)
        assert posted.status_code == 204, posted.text
        file_id = reply.body["file_id"]
        self.db.execute("UPDATE files SET status = 'ready', checksum_sha256 = 'x'"
                        " WHERE file_id = %s AND status = 'pending'", (file_id,))
        if index:
            self.index(file_id)
        return file_id

    def pending_file(self, owner: User, name: str = "pending.txt") -> str:
        reply = self.files(owner)("POST", "/files",
                                  body={"name": name, "size": 10, "content_type": "text/plain"})
        assert reply.status == 201, reply.body
        return str(reply.body["file_id"])

    def index(self, file_id: str) -> None:
        """Index the file as the processor does: its row, and readers from ``readers_for``."""
        from fileshare.db.shares import readers_for
        from fileshare.search.index import search_document

        row = self.db.execute("SELECT * FROM files WHERE file_id = %s", (file_id,)).fetchone()
        readers = readers_for(self.db, uuid.UUID(file_id))
        self.opensearch.index(index=settings().search_alias, id=file_id, body=search_document(row, readers),
                              refresh=True)

    def readers(self, file_id: str) -> list[str]:
        doc = self.opensearch.get(index=settings().search_alias, id=file_id)
        return list(doc["_source"]["readers"])

    def share(self, owner: User, file_id: str, recipient: User) -> dict[str, Any]:
        reply = self.sharing(owner)("POST", f"/files/{file_id}/shares",
                                    body={"email": recipient.email, "permission": "viewer"})
        assert reply.status == 201, reply.body
        return dict(reply.body)

    def link(self, owner: User, file_id: str, **options: Any) -> dict[str, Any]:
        reply = self.sharing(owner)("POST", f"/files/{file_id}/links", body=options)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    def open(self, token: str, *, password: str | None = None, ip: str = "10.0.0.1") -> Reply:
        """``GET /s/{token}`` as the gateway passes it: no authorizer, the source IP in the context."""
        headers = {"X-Link-Password": password} if password is not None else None
        ev = event("GET", f"/s/{token}", resource="/s/{token}", path_parameters={"token": token},
                   headers=headers)
        ev["requestContext"]["identity"]["sourceIp"] = ip
        return call(self.public_module.lambda_handler, ev)

    def outbox(self, file_id: str) -> list[dict[str, Any]]:
        return list(self.db.execute("SELECT type, payload FROM outbox WHERE aggregate_id = %s ORDER BY seq",
                                    (file_id,)).fetchall())


