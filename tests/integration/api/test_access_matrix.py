"""Issue 4's access matrix: every declared route x {owner, viewer, other, anonymous}.

The rules are checked in process (``tests/support/inprocess.py``): each request is routed by the
local gateway's route table, its real Cognito id token verified by the gateway's authorizer against
the pool's JWKS, and the function's handler called with the gateway's event, acting as that function
under the IAM gate. Three accounts are registered and logged in through ``/auth/register`` and
``/auth/login``; anonymous means no ``Authorization`` header. Ready files are made the real way:
``POST /files``, the presigned POST to LocalStack S3, then the processor handler with the S3
notification for that object. What the gateway answers by itself is checked once over real HTTP
against a gateway of the test's own (``localstack/serve.py --no-sources`` on a free port): the
authorizer's 401 on every protected route and for every kind of bad token, 404, 405, CORS.

The rules the table pins down (``fileshare.access``):
- a file that is not yours and not shared with you is ``404``, never ``403``, exactly as if it did
  not exist (its body is the one a missing file gets);
- a viewer (the file is shared with them) may read it; an owner-only action is ``403 owner_only``;
  a viewer loses sight of a trashed file (``404``);
- anonymous callers of protected routes get the gateway authorizer's ``401`` (the function never
  runs); public routes answer everyone alike.

Every declared route must have a row (``test_every_declared_route_is_in_the_matrix``). Cases that
change state (any method but GET) get a fresh scene per subject, so the order of cases never
matters, and a refused one must leave the owner's view of the scene exactly as it was.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.declaration import all_routes
from lambdarun.gateway import ALLOW_HEADERS, ALLOW_METHODS
from tests.integration.api.conftest import PASSWORD, fresh_email
from tests.support import mailbox
from tests.support.inprocess import InProcessGateway, Response
from tests.support.pipeline import failed_ids, free_port, invoke, s3_notification, sqs_event
from tests.support.runtime import TEST_ENV, running_gateway

TEXT = b"access matrix bytes\n" * 4
GATEWAY_401 = {"message": "Unauthorized", "error": {"code": "unauthorized", "message": "Unauthorized"}}


class Subject(StrEnum):
    OWNER = "owner"
    VIEWER = "viewer"
    OTHER = "other"
    ANON = "anonymous"


SUBJECTS = tuple(Subject)


class State(StrEnum):
    """What a case runs against; every file scene is owned by the owner and shared with the viewer."""

    NONE = "none"  # no file: collection routes and public routes
    READY = "ready"  # a ready file, shared with the viewer
    TRASHED = "trashed"  # the same, then moved to the trash by the owner
    MULTIPART = "multipart"  # a pending multipart upload (its one part uploaded), shared with the viewer
    LINK = "link"  # a ready shared file with a public link
    REVOKED_LINK = "revoked_link"  # ... whose link was revoked
    TRASHED_LINK = "trashed_link"  # ... whose file was trashed after the link was made
    MISSING = "missing"  # ids that exist nowhere
    NOTIFICATION = "notification"  # a notification in the owner's inbox
    ARCHIVE = "archive"  # a ready ZIP archive of the owner's (of a file shared with the viewer)
    FOLDER = "folder"  # a folder shared with the viewer, a ready file inside (not shared on its own)
    TRASHED_FOLDER = "trashed_folder"  # the same, then the folder moved to the trash
    VERSIONED = "versioned"  # a ready file shared with the viewer, with a second version now current
    VERSION_MULTIPART = "version_multipart"  # ... with a new version's multipart upload (one part sent)


@dataclass(frozen=True)
class Account:
    email: str
    user_id: str
    id_token: str
    access_token: str
    refresh_token: str


@dataclass
class Scene:
    file_id: str | None = None
    share_id: str | None = None
    link_id: str | None = None
    token: str | None = None
    notification_id: str | None = None
    pending_key: str | None = None  # the multipart upload's object key
    etag: str | None = None  # of the multipart upload's one part
    archive_id: str | None = None
    folder_id: str | None = None
    version_id: str | None = None  # the first upload's (the file's id): current, or kept when VERSIONED

    def path(self, route: str) -> str:
        """The declared route with this scene's ids filled in (KeyError: the case names the wrong state)."""
        return route.format(**{k: v for k, v in vars(self).items() if v is not None})


Want = int | tuple[int, str]  # a status, or an error status and its error code
Body = Callable[["World", Scene], Any]


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # exactly as declared in infra/declaration.py
    state: State
    want: tuple[Want, Want, Want, Want]  # owner, viewer, other, anonymous
    body: Body | None = None
    label: str = ""
    changes: bool = True  # an accepted call changes what the owner sees (False: a POST that only signs)
    query: str = ""  # appended to the path (e.g. "?permanent=true")

    @property
    def fresh(self) -> bool:
        return self.method != "GET"


def _fresh_email(tag: str = "m") -> str:
    return fresh_email(f"matrix-{tag}")


def _register(_w: World, _s: Scene) -> dict[str, str]:
    return {"email": _fresh_email("reg"), "password": PASSWORD}


def _owner_login(w: World, _s: Scene) -> dict[str, str]:
    return {"email": w.people[Subject.OWNER].email, "password": PASSWORD}


NF = (404, "file_not_found")
OO = (403, "owner_only")
LNF = (404, "link_not_found")
ANF = (404, "archive_not_found")
FNF = (404, "folder_not_found")
EVERYONE_200: tuple[Want, Want, Want, Want] = (200, 200, 200, 200)
SIGNED_IN_200: tuple[Want, Want, Want, Want] = (200, 200, 200, 401)

CASES: tuple[Case, ...] = (
    # ---- public routes: the token, if any, changes nothing ----
    Case("GET", "/health", State.NONE, EVERYONE_200),
    Case("GET", "/openapi.json", State.NONE, EVERYONE_200),
    Case("GET", "/docs", State.NONE, EVERYONE_200),
    Case("POST", "/auth/register", State.NONE, (201, 201, 201, 201), _register),
    Case("POST", "/auth/register", State.NONE, (201, 201, 201, 201), _owner_login,
         "email taken: answered as a new one"),
    Case("POST", "/auth/confirm", State.NONE, ((422, "invalid_code"),) * 4,
         lambda w, s: {"email": w.people[Subject.OWNER].email, "code": "000000"}, "confirmed before"),
    Case("POST", "/auth/confirm", State.NONE, ((422, "invalid_code"),) * 4,
         lambda w, s: {"email": _fresh_email(), "code": "000000"}, "unknown address"),
    Case("POST", "/auth/resend", State.NONE, (202, 202, 202, 202), lambda w, s: {"email": _fresh_email()}),
    Case("POST", "/auth/forgot", State.NONE, (202, 202, 202, 202), lambda w, s: {"email": _fresh_email()}),
    Case("POST", "/auth/reset", State.NONE, ((422, "invalid_code"),) * 4,
         lambda w, s: {"email": w.people[Subject.OWNER].email, "code": "000000",
                       "password": "Another-Horse-7"}, "wrong code"),
    Case("POST", "/auth/login", State.NONE, EVERYONE_200, _owner_login),
    Case("POST", "/auth/login", State.NONE, ((401, "invalid_credentials"),) * 4,
         lambda w, s: {"email": w.people[Subject.OWNER].email, "password": "Wrong-Horse-9"},
         "wrong password"),
    Case("POST", "/auth/refresh", State.NONE, EVERYONE_200,
         lambda w, s: {"refresh_token": w.people[Subject.OWNER].refresh_token}),
    Case("POST", "/auth/refresh", State.NONE, ((401, "invalid_credentials"),) * 4,
         lambda w, s: {"refresh_token": "not-a-refresh-token"}, "bad token"),
    # a real logout would sign the owner out of the other cases: tests/integration/api/test_api_auth.py
    Case("POST", "/auth/logout", State.NONE, (204, 204, 204, 204),
         lambda w, s: {"refresh_token": "not-a-refresh-token"}, "unknown token"),
    Case("GET", "/s/{token}", State.LINK, (302, 302, 302, 302)),
    Case("GET", "/s/{token}", State.REVOKED_LINK, (LNF,) * 4, label="revoked"),
    Case("GET", "/s/{token}", State.TRASHED_LINK, (LNF,) * 4, label="file trashed"),
    # ---- the caller's own collections ----
    Case("POST", "/files", State.NONE, (201, 201, 201, 401),
         lambda w, s: {"name": "new.txt", "size": 10, "content_type": "text/plain"}),
    Case("GET", "/files", State.NONE, SIGNED_IN_200),
    Case("POST", "/files/batch", State.NONE, (200, 200, 200, 401),
         lambda w, s: {"files": [{"name": "one.txt", "size": 10, "content_type": "text/plain"},
                                 {"name": "two.txt", "size": 10, "content_type": "text/plain"}]}),
    # anyone's ids may be asked for; the answer holds the caller's own files only (test_batch_uploads)
    Case("GET", "/files/status", State.READY, SIGNED_IN_200, query="?file_id={file_id}"),
    Case("GET", "/me", State.NONE, SIGNED_IN_200),
    Case("GET", "/search", State.NONE, SIGNED_IN_200),
    Case("GET", "/shared-with-me", State.NONE, SIGNED_IN_200),
    Case("GET", "/trash", State.NONE, SIGNED_IN_200),
    Case("GET", "/notifications", State.NONE, SIGNED_IN_200),
    # ---- one file, shared with the viewer ----
    Case("GET", "/files/{file_id}", State.READY, (200, 200, NF, 401)),
    Case("GET", "/files/{file_id}", State.TRASHED, (200, NF, NF, 401), label="trashed"),
    Case("GET", "/files/{file_id}", State.MISSING, (NF, NF, NF, 401), label="missing"),
    Case("PATCH", "/files/{file_id}", State.READY, (200, OO, NF, 401), lambda w, s: {"name": "renamed.txt"}),
    Case("PATCH", "/files/{file_id}", State.TRASHED, ((409, "file_trashed"), NF, NF, 401),
         lambda w, s: {"name": "renamed.txt"}, "trashed"),
    Case("DELETE", "/files/{file_id}", State.READY, (204, OO, NF, 401)),
    Case("DELETE", "/files/{file_id}", State.MISSING, (NF, NF, NF, 401), label="missing"),
    Case("POST", "/files/{file_id}/complete", State.MULTIPART, (200, OO, NF, 401),
         lambda w, s: {"parts": [{"part_number": 1, "etag": s.etag or "etag"}]}),
    Case("POST", "/files/{file_id}/complete", State.READY, ((409, "not_multipart_pending"), OO, NF, 401),
         lambda w, s: {"parts": [{"part_number": 1, "etag": "etag"}]}, "not multipart"),
    Case("POST", "/files/{file_id}/parts", State.MULTIPART, (200, OO, NF, 401),
         lambda w, s: {"part_numbers": [1]}, changes=False),
    Case("POST", "/files/{file_id}/parts", State.READY, ((409, "not_multipart_pending"), OO, NF, 401),
         lambda w, s: {"part_numbers": [1]}, "not multipart"),
    Case("GET", "/files/{file_id}/parts", State.MULTIPART, (200, OO, NF, 401)),
    Case("DELETE", "/files/{file_id}/upload", State.MULTIPART, (204, OO, NF, 401)),
    Case("DELETE", "/files/{file_id}/upload", State.MISSING, (NF, NF, NF, 401), label="missing"),
    Case("GET", "/files/{file_id}/download", State.READY, (200, 200, NF, 401)),
    Case("GET", "/files/{file_id}/download", State.TRASHED, ((409, "file_not_ready"), NF, NF, 401),
         label="trashed"),
    Case("POST", "/files/{file_id}/shares", State.READY, (201, OO, NF, 401),
         lambda w, s: {"email": w.people[Subject.OTHER].email, "permission": "viewer"}),
    Case("POST", "/files/{file_id}/shares", State.TRASHED, ((409, "file_trashed"), NF, NF, 401),
         lambda w, s: {"email": w.people[Subject.OTHER].email, "permission": "viewer"}, "trashed"),
    Case("GET", "/files/{file_id}/shares", State.READY, (200, OO, NF, 401)),
    Case("GET", "/files/{file_id}/shares", State.TRASHED, (200, NF, NF, 401), label="trashed"),
    Case("DELETE", "/files/{file_id}/shares/{share_id}", State.READY, (204, OO, NF, 401)),
    Case("DELETE", "/files/{file_id}/shares/{share_id}", State.MISSING,
         (NF, NF, NF, 401), label="missing"),
    Case("POST", "/files/{file_id}/links", State.READY, (201, OO, NF, 401), lambda w, s: {}),
    Case("GET", "/files/{file_id}/links", State.LINK, (200, OO, NF, 401)),
    Case("DELETE", "/links/{link_id}", State.LINK, (204, OO, LNF, 401)),
    # A viewer is refused as such before the link's state is looked at (the owner_only rule).
    Case("DELETE", "/links/{link_id}", State.REVOKED_LINK, (LNF, OO, LNF, 401), label="revoked"),
    Case("DELETE", "/links/{link_id}", State.MISSING, (LNF, LNF, LNF, 401), label="missing"),
    Case("POST", "/files/{file_id}/restore", State.TRASHED, (200, NF, NF, 401)),
    Case("POST", "/files/{file_id}/restore", State.READY, ((409, "file_not_trashed"), OO, NF, 401),
         label="not trashed"),
    Case("DELETE", "/trash/{file_id}", State.TRASHED, (204, NF, NF, 401)),
    Case("DELETE", "/trash/{file_id}", State.READY, ((409, "file_not_trashed"), OO, NF, 401),
         label="not trashed"),
    # ---- activity: the owner's alone (a viewer is a 404: who opened what is the owner's business) ----
    Case("GET", "/files/{file_id}/activity", State.READY, (200, NF, NF, 401)),
    Case("GET", "/files/{file_id}/activity", State.TRASHED, (200, NF, NF, 401), label="trashed"),
    Case("GET", "/files/{file_id}/activity", State.MISSING, (NF, NF, NF, 401), label="missing"),
    Case("GET", "/activity/export", State.NONE, SIGNED_IN_200),
    # ---- archives: a viewer may zip a file shared with them; an archive is its requester's alone ----
    Case("POST", "/archives", State.READY, (202, 202, NF, 401), lambda w, s: {"file_ids": [s.file_id]},
         changes=False),
    Case("POST", "/archives", State.TRASHED, ((409, "file_not_ready"), NF, NF, 401),
         lambda w, s: {"file_ids": [s.file_id]}, "trashed", changes=False),
    Case("POST", "/archives", State.FOLDER, (202, 202, FNF, 401), lambda w, s: {"folder_id": s.folder_id},
         "a shared folder", changes=False),
    Case("POST", "/archives", State.TRASHED_FOLDER, (FNF, FNF, FNF, 401),
         lambda w, s: {"folder_id": s.folder_id}, "a trashed folder", changes=False),
    Case("GET", "/archives", State.NONE, SIGNED_IN_200),
    Case("GET", "/archives/{archive_id}", State.ARCHIVE, (200, ANF, ANF, 401)),
    Case("GET", "/archives/{archive_id}", State.MISSING, (ANF, ANF, ANF, 401), label="missing"),
    Case("GET", "/archives/{archive_id}/download", State.ARCHIVE, (200, ANF, ANF, 401)),
    Case("DELETE", "/archives/{archive_id}", State.ARCHIVE, (204, ANF, ANF, 401)),
    Case("DELETE", "/archives/{archive_id}", State.MISSING, (ANF, ANF, ANF, 401), label="missing"),
    # ---- folders (a folder shared with the viewer; its file is reached through the folder) ----
    Case("POST", "/folders", State.NONE, (201, 201, 201, 401),
         lambda w, s: {"name": f"m-{uuid.uuid4().hex}"}),
    Case("GET", "/folders", State.NONE, SIGNED_IN_200),
    Case("GET", "/folders", State.FOLDER, (200, 200, FNF, 401), label="one folder",
         query="?folder_id={folder_id}"),
    Case("GET", "/folders", State.TRASHED_FOLDER, (FNF, FNF, FNF, 401), label="trashed",
         query="?folder_id={folder_id}"),
    Case("GET", "/folders", State.MISSING, (FNF, FNF, FNF, 401), label="missing",
         query="?folder_id={folder_id}"),
    Case("GET", "/files/{file_id}", State.FOLDER, (200, 200, NF, 401), label="in a shared folder"),
    Case("GET", "/files/{file_id}/download", State.FOLDER, (200, 200, NF, 401), label="in a shared folder"),
    Case("PATCH", "/folders/{folder_id}", State.FOLDER, (200, OO, FNF, 401),
         lambda w, s: {"name": "renamed"}),
    Case("DELETE", "/folders/{folder_id}", State.FOLDER, (200, OO, FNF, 401)),
    Case("PATCH", "/folders/{folder_id}", State.TRASHED_FOLDER, (200, FNF, FNF, 401),
         lambda w, s: {"trashed": False}, "restore"),
    Case("PATCH", "/folders/{folder_id}", State.FOLDER, ((409, "folder_not_trashed"), OO, FNF, 401),
         lambda w, s: {"trashed": False}, "restore, not trashed"),
    Case("DELETE", "/folders/{folder_id}", State.TRASHED_FOLDER, (200, FNF, FNF, 401), label="purge",
         query="?permanent=true"),
    Case("DELETE", "/folders/{folder_id}", State.FOLDER, ((409, "folder_not_trashed"), OO, FNF, 401),
         label="purge, not trashed", query="?permanent=true"),
    Case("POST", "/folders/{folder_id}/shares", State.FOLDER, (201, OO, FNF, 401),
         lambda w, s: {"email": w.people[Subject.OTHER].email}),
    Case("GET", "/folders/{folder_id}/shares", State.FOLDER, (200, OO, FNF, 401)),
    Case("DELETE", "/folders/{folder_id}/shares", State.FOLDER, (204, OO, FNF, 401),
         query="?share_id={share_id}"),
    Case("DELETE", "/folders/{folder_id}/shares", State.MISSING, (FNF, FNF, FNF, 401), label="missing",
         query="?share_id={share_id}"),
    # ---- versions: the owner's alone (a viewer reads and downloads the current version only) ----
    Case("POST", "/files/{file_id}/versions", State.READY, (201, NF, NF, 401),
         lambda w, s: {"size": 10, "content_type": "text/plain"}),
    Case("POST", "/files/{file_id}/versions", State.TRASHED, ((409, "file_not_ready"), NF, NF, 401),
         lambda w, s: {"size": 10, "content_type": "text/plain"}, "trashed"),
    Case("GET", "/files/{file_id}/versions", State.VERSIONED, (200, NF, NF, 401)),
    Case("GET", "/files/{file_id}/versions", State.MISSING, (NF, NF, NF, 401), label="missing"),
    Case("GET", "/files/{file_id}/versions/{version_id}/download", State.VERSIONED, (200, NF, NF, 401)),
    Case("GET", "/files/{file_id}/versions/{version_id}/download", State.TRASHED,
         ((409, "file_not_ready"), NF, NF, 401), label="trashed"),
    Case("POST", "/files/{file_id}/versions/{version_id}/current", State.VERSIONED, (200, NF, NF, 401)),
    Case("POST", "/files/{file_id}/versions/{version_id}/current", State.TRASHED,
         ((409, "file_not_ready"), NF, NF, 401), label="trashed"),
    Case("POST", "/files/{file_id}/versions/{version_id}/complete", State.VERSION_MULTIPART,
         (200, NF, NF, 401), lambda w, s: {"parts": [{"part_number": 1, "etag": s.etag or "etag"}]}),
    # the current version with parts that are not its verified ones: nothing to complete (the same
    # parts are a retry that went through, a 200: test_versions)
    Case("POST", "/files/{file_id}/versions/{version_id}/complete", State.READY,
         ((409, "not_multipart_pending"), NF, NF, 401),
         lambda w, s: {"parts": [{"part_number": 1, "etag": "e"}]}, "the current version"),
    Case("POST", "/files/{file_id}/versions/{version_id}/parts", State.VERSION_MULTIPART,
         (200, NF, NF, 401), lambda w, s: {"part_numbers": [1]}, changes=False),
    Case("GET", "/files/{file_id}/versions/{version_id}/parts", State.VERSION_MULTIPART,
         (200, NF, NF, 401)),
    Case("DELETE", "/files/{file_id}/versions/{version_id}", State.VERSION_MULTIPART, (204, NF, NF, 401),
         label="multipart, aborted"),
    Case("DELETE", "/files/{file_id}/versions/{version_id}", State.VERSIONED, (204, NF, NF, 401)),
    Case("DELETE", "/files/{file_id}/versions/{version_id}", State.READY,
         ((409, "version_is_current"), NF, NF, 401), label="current"),
    Case("DELETE", "/files/{file_id}/versions/{version_id}", State.MISSING, (NF, NF, NF, 401),
         label="missing"),
    # ---- the owner's inbox ----
    Case("POST", "/notifications/{notification_id}/read", State.NOTIFICATION,
         (200, (404, "notification_not_found"), (404, "notification_not_found"), 401)),
    Case("POST", "/notifications/{notification_id}/read", State.MISSING,
         ((404, "notification_not_found"),) * 3 + (401,), label="missing"),
)


def _case_id(case: Case, subject: Subject) -> str:
    return f"{case.method} {case.route}{f' ({case.label})' if case.label else ''} as {subject}"


PARAMS = [(case, subject) for case in CASES for subject in SUBJECTS]
IDS = [_case_id(case, subject) for case, subject in PARAMS]


# ---- the world: the gateway's routing in process, three accounts, scenes made the real way ------


class World:
    def __init__(self) -> None:
        self.gateway = InProcessGateway()
        self.people: dict[Subject, Account] = {}

    def call(self, who: Account | None, method: str, path: str, *, body: Any = None,
             token: str | None = None) -> Response:
        """One request as the gateway answers it; ``token`` overrides the account's id token."""
        authorization = token if token is not None else (who.id_token if who is not None else None)
        return self.gateway.request(method, path, body=body, authorization=authorization)

    def ok(self, who: Account | None, method: str, path: str, status: int, body: Any = None) -> Any:
        reply = self.call(who, method, path, body=body)
        assert reply.status_code == status, f"{method} {path}: {reply.status_code} {reply.text[:300]}"
        return reply.json() if reply.content else None

    def account(self, tag: str) -> Account:
        email = _fresh_email(tag)
        created = self.ok(None, "POST", "/auth/register", 201, {"email": email, "password": PASSWORD})
        code = mailbox.confirmation_code(email)
        self.ok(None, "POST", "/auth/confirm", 200, {"email": email, "code": code})
        tokens = self.ok(None, "POST", "/auth/login", 200, {"email": email, "password": PASSWORD})
        return Account(email, created["user_id"], tokens["id_token"], tokens["access_token"],
                       tokens["refresh_token"])

    # -- files --

    def ready_file(self, owner: Account, name: str = "matrix.txt") -> str:
        """Upload through the presigned POST and let the processor verify it: a ``ready`` file."""
        created = self.ok(owner, "POST", "/files", 201,
                          {"name": name, "size": len(TEXT), "content_type": "text/plain"})
        upload = created["upload"]
        posted = requests.post(upload["url"], data=upload["fields"],
                               files={"file": ("blob", TEXT, "text/plain")}, timeout=30)
        assert posted.status_code == 204, posted.text
        from fileshare.config import settings

        result = invoke("processor", sqs_event(s3_notification(settings().upload_bucket,
                                                               upload["fields"]["key"], len(TEXT))))
        assert failed_ids(result) == []
        file_id = str(created["file_id"])
        assert self.ok(owner, "GET", f"/files/{file_id}", 200)["status"] == "ready"
        return file_id

    def new_version(self, owner: Account, file_id: str) -> str:
        """A second version, through its presigned POST and the processor: it becomes current."""
        data = TEXT * 2
        created = self.ok(owner, "POST", f"/files/{file_id}/versions", 201,
                          {"size": len(data), "content_type": "text/plain"})
        upload = created["upload"]
        posted = requests.post(upload["url"], data=upload["fields"],
                               files={"file": ("blob", data, "text/plain")}, timeout=30)
        assert posted.status_code == 204, posted.text
        from fileshare.config import settings

        result = invoke("processor", sqs_event(s3_notification(settings().upload_bucket,
                                                               upload["fields"]["key"], len(data))))
        assert failed_ids(result) == []
        assert self.ok(owner, "GET", f"/files/{file_id}", 200)["size"] == len(data)
        return str(created["version_id"])

    def multipart_version(self, owner: Account, file_id: str) -> tuple[str, str, str]:
        """A new version's pending multipart upload (the gateway's threshold is 1 KiB), one part sent."""
        size = 2048
        created = self.ok(owner, "POST", f"/files/{file_id}/versions", 201,
                          {"size": size, "content_type": "text/plain"})
        upload = created["upload"]
        assert upload["method"] == "MULTIPART" and len(upload["parts"]) == 1, upload
        put = requests.put(upload["parts"][0]["url"], data=b"v" * size, timeout=30)
        assert put.status_code == 200, put.text
        version_id = str(created["version_id"])
        return version_id, f"u/{owner.user_id}/{file_id}/v/{version_id}/matrix.txt", put.headers["ETag"]

    def multipart_file(self, owner: Account) -> tuple[str, str, str]:
        """A pending multipart upload (threshold lowered for this gateway) with its one part sent."""
        size = 2048
        created = self.ok(owner, "POST", "/files", 201,
                          {"name": "parts.txt", "size": size, "content_type": "text/plain"})
        upload = created["upload"]
        assert upload["method"] == "MULTIPART" and len(upload["parts"]) == 1, upload
        put = requests.put(upload["parts"][0]["url"], data=b"p" * size, timeout=30)
        assert put.status_code == 200, put.text
        file_id = str(created["file_id"])
        return file_id, f"u/{owner.user_id}/{file_id}/parts.txt", put.headers["ETag"]

    def share(self, owner: Account, file_id: str, recipient: Account) -> str:
        body = {"email": recipient.email, "permission": "viewer"}
        return str(self.ok(owner, "POST", f"/files/{file_id}/shares", 201, body)["share_id"])

    def build(self, state: State) -> Scene:
        owner, viewer = self.people[Subject.OWNER], self.people[Subject.VIEWER]
        if state is State.NONE:
            return Scene()
        if state is State.MISSING:
            return Scene(file_id=str(uuid.uuid4()), share_id=str(uuid.uuid4()), link_id=str(uuid.uuid4()),
                         notification_id=str(uuid.uuid4()), archive_id=str(uuid.uuid4()),
                         folder_id=str(uuid.uuid4()), version_id=str(uuid.uuid4()))
        if state is State.NOTIFICATION:
            return Scene(notification_id=self.notification(owner))
        if state in (State.FOLDER, State.TRASHED_FOLDER):
            return self.folder(owner, viewer, trashed=state is State.TRASHED_FOLDER)
        if state is State.MULTIPART:
            file_id, key, etag = self.multipart_file(owner)
            return Scene(file_id=file_id, share_id=self.share(owner, file_id, viewer), pending_key=key,
                         etag=etag)
        file_id = self.ready_file(owner)
        scene = Scene(file_id=file_id, share_id=self.share(owner, file_id, viewer), version_id=file_id)
        if state is State.VERSIONED:
            self.new_version(owner, file_id)
        if state is State.VERSION_MULTIPART:
            scene.version_id, scene.pending_key, scene.etag = self.multipart_version(owner, file_id)
        if state is State.ARCHIVE:
            scene.archive_id = self.ready_archive(owner, file_id)
        if state in (State.LINK, State.REVOKED_LINK, State.TRASHED_LINK):
            link = self.ok(owner, "POST", f"/files/{file_id}/links", 201, {})
            scene.link_id, scene.token = str(link["link_id"]), str(link["url"]).rsplit("/", 1)[1]
        if state is State.REVOKED_LINK:
            self.ok(owner, "DELETE", f"/links/{scene.link_id}", 204)
        if state in (State.TRASHED, State.TRASHED_LINK):
            self.ok(owner, "DELETE", f"/files/{file_id}", 204)
        return scene

    def ready_archive(self, owner: Account, file_id: str) -> str:
        """POST /archives, then the archiver's job run here (as its Kafka record would): a ready ZIP."""
        from fileshare.archives import worker as archiving

        archive_id = str(self.ok(owner, "POST", "/archives", 202, {"file_ids": [file_id]})["archive_id"])
        outcome = archiving.run(uuid.UUID(archive_id))
        # SKIPPED: an archiver of a gateway with event sources (another test session's, on the same
        # test topic and consumer group) claimed the job first; it builds the same ZIP.
        assert outcome in (archiving.Outcome.BUILT, archiving.Outcome.SKIPPED), outcome
        deadline = time.monotonic() + 60
        path = f"/archives/{archive_id}"
        while (status := self.ok(owner, "GET", path, 200)["status"]) in ("queued", "running"):
            assert time.monotonic() < deadline, f"archive {archive_id} still {status}"
            time.sleep(0.5)
        assert status == "ready", status
        return archive_id

    def folder(self, owner: Account, viewer: Account, *, trashed: bool) -> Scene:
        created = self.ok(owner, "POST", "/folders", 201, {"name": f"f-{uuid.uuid4().hex}"})
        folder_id = str(created["folder_id"])
        file_id = self.ready_file(owner)
        self.ok(owner, "PATCH", f"/files/{file_id}", 200, {"folder_id": folder_id})
        share = self.ok(owner, "POST", f"/folders/{folder_id}/shares", 201, {"email": viewer.email})
        if trashed:
            assert self.ok(owner, "DELETE", f"/folders/{folder_id}", 200)["done"] is True
        return Scene(file_id=file_id, folder_id=folder_id, share_id=str(share["share_id"]))

    def notification(self, owner: Account) -> str:
        """A ``file.ready`` notice in the owner's inbox, written by the notifier's own code."""
        from fileshare.event_types import Event, EventType
        from fileshare.notifications import notices as notifications

        event = Event(type=EventType.FILE_READY, file_id=uuid.uuid4(), owner_id=owner.user_id,
                      data={"name": "notified.txt"})
        assert notifications.deliver(event) == notifications.Outcome.DELIVERED
        return self._notification_of(owner, str(event.file_id))["notification_id"]

    def _notification_of(self, owner: Account, file_id: str) -> dict[str, Any]:
        items = self.ok(owner, "GET", "/notifications?limit=100", 200)["items"]
        return next(i for i in items if i["file_id"] == file_id)

    def snapshot(self, scene: Scene) -> dict[str, Any]:
        """What the owner sees of the scene: the file, its shares, links and versions, the upload,
        the notice."""
        owner = self.people[Subject.OWNER]
        seen: dict[str, Any] = {}
        if scene.file_id:
            for suffix in ("", "/shares", "/links", "/versions"):
                reply = self.call(owner, "GET", f"/files/{scene.file_id}{suffix}")
                seen[suffix or "file"] = (reply.status_code, reply.json())
        if scene.pending_key:
            seen["object"] = _object_exists(scene.pending_key)
        if scene.archive_id:
            reply = self.call(owner, "GET", f"/archives/{scene.archive_id}")
            seen["archive"] = (reply.status_code, reply.json())
        if scene.folder_id:
            for suffix in ("", "/shares"):
                reply = self.call(owner, "GET", f"/folders/{scene.folder_id}/shares" if suffix
                                  else f"/folders?folder_id={scene.folder_id}")
                seen[f"folder{suffix}"] = (reply.status_code, reply.json())
        if scene.notification_id and scene.file_id is None:
            items = self.ok(owner, "GET", "/notifications?limit=100", 200)["items"]
            seen["notification"] = [i for i in items if i["notification_id"] == scene.notification_id]
        return seen


def _object_exists(key: str) -> bool:
    from botocore.exceptions import ClientError

    from fileshare.adapters.aws import client
    from fileshare.config import settings

    try:
        client("s3").head_object(Bucket=settings().upload_bucket, Key=key)
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


#: The stack's settings plus: no per-user rate limit (the matrix makes hundreds of calls a minute as
#: one owner and from one address; ``test_rate_limit`` and ``test_abuse_limits`` cover the limits) and
#: a 1 KiB multipart threshold (a multipart upload without 64 MiB of bytes), and a notice per upload
#: (no bursts: each scene finds its own notice by its file).
MATRIX_ENV = {"RATE_LIMIT_PER_MINUTE": "0", "IP_RATE_LIMIT_PER_MINUTE": "0",
              "READ_RATE_LIMIT_PER_MINUTE": "0",
              "MULTIPART_THRESHOLD_BYTES": "1024", "UPLOAD_NOTICE_WINDOW_SECONDS": "0"}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """The matrix's settings in this process, and three registered, logged-in accounts."""
    if not TEST_ENV.exists() or not os.environ.get("USER_POOL_CLIENT_ID"):
        pytest.fail("the local stack is not up (.local/test.env): run `make up`")
    from fileshare.config import settings
    from fileshare.search import index as search_index

    with pytest.MonkeyPatch.context() as patch:
        for name, value in MATRIX_ENV.items():
            patch.setenv(name, value)
        settings.cache_clear()
        try:
            search_index.ensure_index(search_index.client(), settings().search_alias)
            world = World()
            world.people = {subject: world.account(subject.value) for subject in SUBJECTS
                            if subject is not Subject.ANON}
            yield world
        finally:
            settings.cache_clear()


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real gateway of our own (free port, no pollers) with the matrix's settings, for what only
    the gateway answers."""
    env_file = tmp_path_factory.mktemp("matrix") / "stack.env"
    env_file.write_text(TEST_ENV.read_text() + "".join(f"\n{k}={v}" for k, v in MATRIX_ENV.items()) + "\n")
    with running_gateway(log_name="serve-access-matrix", reuse=False, port=free_port(),
                         args=["--no-sources", "--env-file", str(env_file)]) as gateway:
        yield gateway.url


def _http(url: str, method: str, path: str, *, token: str | None = None,
          headers: dict[str, str] | None = None) -> requests.Response:
    sent = {**({"Authorization": token} if token is not None else {}), **(headers or {})}
    return requests.request(method, url + path, headers=sent, allow_redirects=False, timeout=60)


@pytest.fixture(scope="module")
def scenes(world: World) -> Callable[[State], Scene]:
    """One shared scene per state, for cases that only read."""
    built: dict[State, Scene] = {}

    def get(state: State) -> Scene:
        if state not in built:
            built[state] = world.build(state)
        return built[state]
    return get


# ---- checks -----------------------------------------------------------------------------------


def _expected(want: Want) -> tuple[int, str | None]:
    return (want, None) if isinstance(want, int) else want


def _check_error_envelope(reply: Response, code: str | None) -> None:
    """``{"error": {"code", "message"}}`` (``details`` only on validation errors), and the code."""
    body = reply.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "details"} and {"code", "message"} <= set(error), error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, body
    if code == "file_not_found":  # not yours and not shared: word for word what a missing file gets
        assert body == {"error": {"code": "file_not_found", "message": "file not found"}}


def _protected(method: str, route: str) -> bool:
    return next(r.auth for r, _fn in all_routes() if (r.method, r.path) == (method, route))


def test_every_declared_route_is_in_the_matrix() -> None:
    declared = {(r.method, r.path) for r, _fn in all_routes()}
    covered = {(c.method, c.route) for c in CASES}
    assert declared - covered == set(), "declared routes without a row in the access matrix"
    assert covered - declared == set(), "matrix rows for routes that are not declared"
    for case in CASES:  # protected routes: anonymous is the authorizer's 401; public ones never are
        anonymous = _expected(case.want[SUBJECTS.index(Subject.ANON)])
        assert (anonymous == (401, None)) == _protected(case.method, case.route), case


@pytest.mark.parametrize(("case", "subject"), PARAMS, ids=IDS)
def test_access_matrix(world: World, scenes: Callable[[State], Scene], case: Case, subject: Subject) -> None:
    # Given the case's scene (a fresh one when the call could change it; the authorizer's refusal of
    # an anonymous call cannot, and the snapshot below proves it did not)
    refused_by_authorizer = subject is Subject.ANON and _protected(case.method, case.route)
    scene = world.build(case.state) if case.fresh and not refused_by_authorizer else scenes(case.state)
    status, code = _expected(case.want[SUBJECTS.index(subject)])
    before = world.snapshot(scene) if case.fresh else None
    who = world.people.get(subject)

    # When the subject calls the route
    reply = world.call(who, case.method, scene.path(case.route + case.query),
                       body=case.body(world, scene) if case.body else None)

    # Then exactly the expected status, in the expected shape
    assert reply.status_code == status, f"{reply.status_code}: {reply.text[:400]}"
    if refused_by_authorizer:
        assert reply.json() == GATEWAY_401  # the authorizer's answer: the function never ran
    elif status >= 400:
        _check_error_envelope(reply, code)
    elif status == 204:
        assert reply.content == b""
    elif status == 302:
        location = reply.headers["Location"]
        assert "X-Amz-Signature=" in location and reply.headers["Cache-Control"] == "no-store", location
    elif case.route == "/docs":
        assert reply.headers["Content-Type"].startswith("text/html")
    else:
        assert isinstance(reply.json(), dict)
    # and a refused change changed nothing the owner can see (while an accepted one shows there,
    # which proves the snapshot would notice)
    if before is not None and status >= 400:
        assert world.snapshot(scene) == before
    elif before and case.changes:
        assert world.snapshot(scene) != before
    elif before:
        assert world.snapshot(scene) == before


# ---- tokens -----------------------------------------------------------------------------------


def _pool_key() -> Any:
    """The local Cognito's (moto's) signing key, to make tokens that differ from real ones in one
    claim only; the positive control in the test proves it is the key the pool's JWKS publishes."""
    import moto

    path = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"
    return jwt.PyJWK(json.loads(gzip.decompress(path.read_bytes()))).key


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _sign(claims: dict[str, Any], key: Any) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


def test_only_a_valid_id_token_passes_the_authorizer(world: World, gateway_url: str) -> None:
    """Over real HTTP: the token travels in the header to the gateway's own authorizer."""
    owner, viewer = world.people[Subject.OWNER], world.people[Subject.VIEWER]
    claims = _claims(owner.id_token)
    pool_key = _pool_key()
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header, payload, signature = owner.id_token.split(".")
    swapped = jwt.utils.base64url_encode(json.dumps({**claims, "sub": viewer.user_id}).encode()).decode()
    now = int(time.time())

    # Given a control: the pool's key with the real claims passes, and is the same caller
    control = _http(gateway_url, "GET", "/me", token=_sign(claims, pool_key))
    assert control.status_code == 200 and control.json()["user_id"] == owner.user_id, (
        f"moto's bundled key should be the pool's signing key: {control.status_code} {control.text}")
    assert _http(gateway_url, "GET", "/me", token=owner.id_token).json()["user_id"] == owner.user_id

    refused = {
        "tampered payload": f"{header}.{swapped}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "foreign-signed": _sign(claims, foreign_key),
        "expired": _sign({**claims, "iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600}, pool_key),
        "another audience": _sign({**claims, "aud": "some-other-client"}, pool_key),
        "another issuer": _sign({**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/other"},
                                pool_key),
        "access token": owner.access_token,
        "unsigned (alg none)": jwt.encode(claims, "", algorithm="none"),
        "not a token": "not-a-token",
    }
    for name, token in refused.items():
        for method, path in (("GET", "/me"), ("GET", "/files"), ("DELETE", f"/files/{uuid.uuid4()}")):
            reply = _http(gateway_url, method, path, token=token)
            assert reply.status_code == 401, f"{name} on {method} {path}: {reply.status_code} {reply.text}"
            assert reply.json() == GATEWAY_401, name


# ---- what only the gateway answers, over real HTTP ---------------------------------------------------


def _concrete(route: str) -> str:
    return route.format(**{name: str(uuid.uuid4()) for name in ("file_id", "share_id", "link_id", "token",
                                                                 "notification_id", "archive_id",
                                                                 "folder_id", "version_id")})


def test_the_gateway_answers_for_itself_over_http(world: World, gateway_url: str) -> None:
    owner = world.people[Subject.OWNER]
    # Every protected route without a token (or with an empty one): the authorizer's 401, the function
    # never runs (a DELETE of nothing would be the function's 404)
    for route, _fn in all_routes():
        if route.auth:
            for token in (None, ""):
                reply = _http(gateway_url, route.method, _concrete(route.path), token=token)
                assert (reply.status_code, reply.json()) == (401, GATEWAY_401), (route.method, route.path)
    # and a valid id token gets through to the function
    me = _http(gateway_url, "GET", "/me", token=owner.id_token)
    assert me.status_code == 200 and me.json()["user_id"] == owner.user_id, me.text

    # No such path: 404; a declared path with another method: 405 naming the allowed ones
    missing = _http(gateway_url, "GET", "/no-such-route/x", token=owner.id_token)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found", missing.text
    wrong = _http(gateway_url, "PUT", "/files", token=owner.id_token)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed", wrong.text
    assert set(wrong.headers["Allow"].split(",")) == {"GET", "POST"}

    # CORS: the web origin's preflight is answered by the gateway, another origin's is refused
    origin = os.environ.get("WEB_ORIGIN") or "http://localhost:8080"  # the namespace's page (serve.py)
    preflight = _http(gateway_url, "OPTIONS", "/files", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 204, preflight.text
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert preflight.headers["Access-Control-Allow-Methods"] == ALLOW_METHODS
    assert preflight.headers["Access-Control-Allow-Headers"] == ALLOW_HEADERS
    foreign = _http(gateway_url, "OPTIONS", "/files", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign.headers
    # and an actual response (a 401 as much as a 200) carries the origin for the browser to read it
    for token in (owner.id_token, None):
        reply = _http(gateway_url, "GET", "/files", token=token, headers={"Origin": origin})
        assert reply.headers["Access-Control-Allow-Origin"] == origin, reply.status_code


# ---- what each caller sees: lists and search ------------------------------------------------------


def test_lists_and_search_show_exactly_what_each_caller_may_see(world: World) -> None:
    # Given three new accounts and a word only this test's file names contain
    a, b, c = world.account("vis-a"), world.account("vis-b"), world.account("vis-c")
    word = f"vis{uuid.uuid4().hex[:10]}"

    def ready(owner: Account, label: str) -> str:
        return world.ready_file(owner, f"{word} {label}.txt")

    a_private, a_shared, a_revoked, a_trashed = (ready(a, x) for x in ("private", "shared", "revoked",
                                                                        "trashed"))
    a_pending = str(world.ok(a, "POST", "/files", 201, {"name": f"{word} pending.txt", "size": 10,
                                                        "content_type": "text/plain"})["file_id"])
    b_own, c_private, c_shared = ready(b, "b-own"), ready(c, "c-private"), ready(c, "c-shared")
    world.share(a, a_shared, b)
    world.share(a, a_pending, b)
    world.share(c, c_shared, b)
    revoked_share = world.share(a, a_revoked, b)
    world.ok(a, "DELETE", f"/files/{a_revoked}/shares/{revoked_share}", 204)
    world.share(a, a_trashed, b)
    world.ok(a, "DELETE", f"/files/{a_trashed}", 204)
    everything = {a_private, a_shared, a_revoked, a_trashed, a_pending, b_own, c_private, c_shared}

    # (the pending file is not indexed yet: search finds ready files only)
    expected = {
        "a": {"files": {a_private, a_shared, a_revoked, a_pending}, "trash": {a_trashed},
              "shared": set(), "search": {a_private, a_shared, a_revoked},
              "readable": {a_private, a_shared, a_revoked, a_pending, a_trashed}},
        "b": {"files": {b_own}, "trash": set(), "shared": {a_shared, a_pending, c_shared},
              "search": {b_own, a_shared, c_shared}, "readable": {b_own, a_shared, a_pending, c_shared}},
        "c": {"files": {c_private, c_shared}, "trash": set(), "shared": set(),
              "search": {c_private, c_shared}, "readable": {c_private, c_shared}},
    }
    for name, who in (("a", a), ("b", b), ("c", c)):
        want = expected[name]

        def ids(path: str, caller: Account = who) -> set[str]:
            items = world.ok(caller, "GET", path, 200)["items"]
            found = [str(i["file_id"]) for i in items]
            assert len(found) == len(set(found)), f"{path} lists a file twice"
            return set(found)

        # Then each list holds exactly the caller's visible files, never more
        assert ids("/files?limit=100") == want["files"], name
        assert ids("/trash?limit=100") == want["trash"], name
        assert ids("/shared-with-me?limit=100") == want["shared"], name
        assert ids("/search?limit=100") == want["search"], name
        assert ids(f"/search?q={word}&limit=100") == want["search"], name
        assert ids(f"/search?q={word}&type=document&limit=100") == want["search"], name
        assert ids(f"/search?q={word}&type=text/plain&limit=100") == want["search"], name
        assert ids(f"/search?q={word}&type=image&limit=100") == set(), name
        # and a single file is readable exactly when it is visible (404 otherwise, never 403)
        for file_id in everything:
            reply = world.call(who, "GET", f"/files/{file_id}")
            assert reply.status_code == (200 if file_id in want["readable"] else 404), (name, file_id)
    for path in ("/files", "/trash", "/shared-with-me", f"/search?q={word}"):
        assert world.call(None, "GET", path).status_code == 401
