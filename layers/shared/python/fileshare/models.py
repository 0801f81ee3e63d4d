"""Public API objects (pydantic): what clients send and what they get back.

These models are the API contract of DESIGN.md ("Public API (v1)"); the OpenAPI document is
generated from them. They validate shape only; rules that need configuration or the database
(size limits, allowed types, quota) live in the use cases.
"""

from __future__ import annotations

import base64
import re
import string
import unicodedata
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from fileshare.adapters import snapstart

FileStatus = Literal["pending", "ready", "rejected", "trashed", "deleting"]

MAX_TAGS = 20
MAX_TAG_CHARS = 50


# What the schema says is what the server checks: each rule below is a JSON Schema constraint on
# the raw input (so generated clients and fuzzers see it), and normalizing afterwards never turns
# a valid value into an invalid one or the reverse.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
TAG_PATTERN = rf"^\s*[^\s{_CONTROL}][^{_CONTROL}]*$"  # no control characters, not only spaces


def _normalize_tag(tag: str) -> str:
    """Tags are compared exactly (search filter), so normalize: NFC, trimmed, lower case."""
    if any(unicodedata.category(ch) == "Cs" for ch in tag):
        raise ValueError("a tag may not contain lone surrogates")
    return unicodedata.normalize("NFC", tag).strip().lower()


def _unique_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def _lower(value: str) -> str:
    return value.lower()


Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_CHARS, pattern=TAG_PATTERN),
                AfterValidator(_normalize_tag)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_unique_tags)]
ContentType = Annotated[
    str,
    StringConstraints(max_length=255,
                      pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$"),
    AfterValidator(_lower),
]
# Raw names are sanitized by the domain (fileshare.records.sanitize_name); this only bounds the input.
RawName = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
RelativePath = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
# Cognito checks addresses itself; this is a cheap shape check (no email-validator dependency).
_EMAIL_PART = rf"[^@\s{_CONTROL}]+"
EMAIL_PATTERN = rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$"
Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN), AfterValidator(_lower)]


def _iso_text(value: object) -> object:
    """Dates are ISO 8601 text with an offset: pydantic would read ``0.0`` or ``1700000000`` as a Unix
    time, which no client means (and which the schema's ``format: date-time`` does not allow)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("expected an ISO 8601 date-time with an offset, e.g. 2026-12-01T10:00:00Z")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# An aware ISO 8601 date-time (RFC 3339 in the schema); a number or a naive time is a 422.
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


class ApiModel(BaseModel):
    """Every API object's base: its validator and serializer are built on first use, not at import.

    An API function imports the models of all its routes, but a request uses two or three of them.
    Deferred, importing this module takes ~12-17 ms of CPU instead of ~22-24 (min of 5 runs), and
    the first request builds only what its route needs (Powertools' validation asks for it; the
    bench's "first invoke" column shows it). With SnapStart all are built before the snapshot
    (``fileshare.adapters.snapstart``).
    """

    model_config = ConfigDict(defer_build=True)


def _build_models() -> None:
    """Before a snapshot: build every deferred validator (``defer_build``) of the models loaded."""
    pending: list[type[BaseModel]] = [ApiModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model is not ApiModel:
            model.model_rebuild(force=True)


snapstart.warm(_build_models, name="models")


class ErrorBody(ApiModel):
    code: str = Field(description="machine-readable, stable (e.g. invalid_json, not_found, rate_limited)")
    message: str
    details: list[dict[str, object]] | None = Field(default=None, description="validation problems")


class ErrorEnvelope(ApiModel):
    """Every error the API (and the gateway in front of it) answers with."""

    error: ErrorBody


class InputModel(ApiModel):
    model_config = ConfigDict(extra="forbid")


# ---- auth -------------------------------------------------------------------------------------

class Credentials(InputModel):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RefreshIn(InputModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


ConfirmationCode = Annotated[str, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v),
                             StringConstraints(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z]+$")]


class EmailIn(InputModel):
    email: Email


class ConfirmIn(InputModel):
    email: Email
    code: ConfirmationCode


class ResetIn(InputModel):
    email: Email
    code: ConfirmationCode
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UserCreated(ApiModel):
    user_id: str
    confirmation_required: bool = Field(
        description="true: the account is usable once confirmed with the code emailed to the address "
                    "(POST /auth/confirm)")


class Accepted(ApiModel):
    """A request that was taken; whether an account exists for the address is not revealed."""

    accepted: bool = True


class Confirmed(ApiModel):
    user_id: str
    email: str


class Tokens(ApiModel):
    id_token: str
    access_token: str
    refresh_token: str
    expires_in: int


# ---- files ------------------------------------------------------------------------------------

def _sha256_base64(value: object) -> object:
    """Accept a SHA-256 digest as 64 hex digits or as S3's base64; keep S3's base64."""
    if isinstance(value, str) and len(value) == 64 and all(c in string.hexdigits for c in value):
        return base64.b64encode(bytes.fromhex(value)).decode()
    return value


# The pattern is the raw input's (either form), so the schema says what the server accepts.
Sha256 = Annotated[str, StringConstraints(pattern=r"^(?:[A-Za-z0-9+/]{43}=|[0-9A-Fa-f]{64})$"),
                   AfterValidator(_sha256_base64),
                   Field(description="SHA-256 digest: base64 (S3's x-amz-checksum-sha256) or 64 hex digits")]


class FileCreate(InputModel):
    name: RawName
    size: Annotated[int, Field(gt=0, le=5 * 1024**4, description="bytes; S3 takes at most 5 TiB, the"
                               " deployment's MAX_UPLOAD_BYTES and the quota may allow less (413)")]
    content_type: ContentType
    tags: Tags = Field(default_factory=list)
    expires_at: IsoDateTime | None = None
    checksum_sha256: Sha256 | None = Field(
        default=None, description="the whole file's SHA-256: a single POST upload is signed with it, so S3 "
                                  "refuses bytes that do not match")
    part_checksums: StrictBool = Field(  # strict: 0 or "yes" is not a boolean (schemathesis, in a batch)
        default=False, description="multipart: every part is signed with its SHA-256 (POST "
                                   "/files/{id}/parts with checksums), so S3 checks every part and the "
                                   "processor need not read the object again; no part is signed up front")
    folder_id: UUID | None = Field(default=None, description="the folder to upload into (default: the root)")
    relative_path: RelativePath | None = Field(
        default=None, description="a folder upload's path relative to folder_id (the browser's "
                                  "webkitRelativePath, e.g. 'Trip/day 1/a.jpg'): missing folders are created")


class FilePatch(InputModel):
    """Only the fields present change; ``expires_at: null`` clears the expiry."""

    name: RawName | None = None
    tags: Tags | None = None
    expires_at: IsoDateTime | None = None
    folder_id: UUID | None = Field(default=None, description="move into this folder (null: the root)")


class FileOut(ApiModel):
    file_id: UUID
    name: str
    size: int
    content_type: str
    status: FileStatus
    checksum_sha256: str | None = None
    s3_checksum: str | None = Field(default=None, description="the checksum S3 itself verified, "
                                    "'SHA256:<base64>' or 'SHA256-COMPOSITE:<base64>-<parts>'")
    tags: list[str]
    created_at: datetime
    expires_at: datetime | None = None
    owner_id: str
    thumbnail_url: str | None = None
    folder_id: UUID | None = None


class FileList(ApiModel):
    items: list[FileOut]
    next_cursor: str | None = None


class PostUpload(ApiModel):
    """A presigned POST: the browser sends ``fields`` plus the file as multipart/form-data."""

    method: Literal["POST"] = "POST"
    url: str
    fields: dict[str, str]


class PartUrl(ApiModel):
    part_number: int
    url: str
    headers: dict[str, str] | None = Field(
        default=None, description="headers the PUT must carry (the part's signed x-amz-checksum-sha256)")


class MultipartUpload(ApiModel):
    """A multipart upload: PUT each part to its URL, then POST /files/{id}/complete with the ETags."""

    method: Literal["MULTIPART"] = "MULTIPART"
    upload_id: str
    part_size: int
    part_count: int
    parts: list[PartUrl] = Field(description="the first batch; sign the rest with POST /files/{id}/parts")


class FileCreated(ApiModel):
    file_id: UUID
    upload: PostUpload | MultipartUpload


VersionStatus = Literal["pending", "ready", "rejected"]


class VersionCreate(InputModel):
    """A new version of a file: its bytes go to S3 as a new upload's do (a presigned POST, or
    multipart from MULTIPART_THRESHOLD_BYTES: then PUT the parts and POST .../complete)."""

    name: RawName | None = Field(
        default=None, description="the version's file name (default: the file's); the file takes it when "
                                  "the version becomes current, unless a sibling has it")
    size: Annotated[int, Field(gt=0, le=5 * 1024**4, description="bytes; S3 takes at most 5 TiB, the"
                               " deployment's MAX_UPLOAD_BYTES and the quota may allow less (413)")]
    content_type: ContentType
    checksum_sha256: Sha256 | None = Field(
        default=None, description="the version's SHA-256: a single POST upload is signed with it, so S3 "
                                  "refuses bytes that do not match")
    part_checksums: StrictBool = Field(  # strict: 0 or "yes" is not a boolean (schemathesis, in a batch)
        default=False, description="multipart: every part is signed with its SHA-256 (POST "
                                   ".../versions/{version_id}/parts with checksums), as for a new file")


class VersionCreated(ApiModel):
    file_id: UUID
    version_id: UUID
    upload: PostUpload | MultipartUpload


class VersionOut(ApiModel):
    version_id: UUID = Field(description="the first upload's version id is the file's id")
    name: str
    size: int
    content_type: str
    status: VersionStatus = Field(description="pending (bytes on the way), ready, or rejected "
                                              "(see reject_reason)")
    reject_reason: str | None = None
    checksum_sha256: str | None = None
    created_at: datetime
    current: bool = Field(description="the version the file shows, lists, shares and downloads")


class VersionList(ApiModel):
    items: list[VersionOut] = Field(description="newest first")


class PartsIn(InputModel):
    part_numbers: Annotated[list[Annotated[int, Field(ge=1, le=10_000)]], Field(min_length=1, max_length=100)]
    checksums: Annotated[list[Sha256], Field(max_length=100)] | None = Field(
        default=None, description="each part's SHA-256, in the order of part_numbers (required when the "
                                  "upload was created with part_checksums)")


class PartUrlList(ApiModel):
    parts: list[PartUrl]


class StoredPart(ApiModel):
    part_number: int
    etag: str
    size: int
    checksum_sha256: str | None = None  # the part's SHA-256 S3 checked, for part_checksums uploads


class StoredPartList(ApiModel):
    """The parts S3 already holds for an unfinished multipart upload (to resume it)."""

    parts: list[StoredPart]


class CompletedPart(InputModel):
    part_number: Annotated[int, Field(ge=1, le=10_000)]
    etag: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    checksum_sha256: Sha256 | None = None  # required when the upload was created with part_checksums


class CompleteIn(InputModel):
    parts: Annotated[list[CompletedPart], Field(min_length=1, max_length=10_000)]


class DownloadOut(ApiModel):
    url: str


class Me(ApiModel):
    user_id: str
    email: str
    quota_bytes: int
    used_bytes: int


# ---- sharing with users (public links: fileshare.links.models) --------------------------------


class ShareIn(InputModel):
    email: Email
    permission: Literal["viewer"] = "viewer"


class ShareOut(ApiModel):
    share_id: UUID
    file_id: UUID
    email: str
    permission: Literal["viewer"]
    created_at: datetime


class ShareList(ApiModel):
    items: list[ShareOut]


# ---- folders ----------------------------------------------------------------------------------

class FolderCreate(InputModel):
    name: RawName
    parent_id: UUID | None = Field(default=None, description="the parent folder (default: the root)")


class FolderPatch(InputModel):
    """Rename and/or move; only the fields present change (``parent_id: null`` moves to the root)."""

    name: RawName | None = None
    parent_id: UUID | None = None
    trashed: Literal[False] | None = Field(
        default=None,
        description="false: restore the folder from the trash (alone, without name or parent_id)")


class FolderOut(ApiModel):
    folder_id: UUID
    name: str
    parent_id: UUID | None
    owner_id: str
    status: Literal["active", "trashed", "deleting"]
    created_at: datetime
    pending_op: Literal["trash", "restore", "purge"] | None = Field(
        default=None, description="a whole-folder operation still under way (its batches continue)")


class Crumb(ApiModel):
    folder_id: UUID
    name: str


class FolderDetail(FolderOut):
    path: list[Crumb] = Field(description="breadcrumbs from the top (the root is implicit) to this folder; "
                                          "for a viewer, from the topmost folder they can read")


class FolderItem(ApiModel):
    kind: Literal["folder", "file"]
    folder: FolderOut | None = None
    file: FileOut | None = None


class FolderItems(ApiModel):
    """A folder's contents: subfolders first, then files, each by name (case-insensitive)."""

    folder: FolderDetail | None = Field(default=None, description="the folder listed, with its breadcrumbs "
                                                                   "(absent for the root)")
    items: list[FolderItem]
    next_cursor: str | None = None


class FolderOpOut(ApiModel):
    """A whole-folder trash, restore or purge: ``done`` false means call again (or let the sweeper
    finish it); each call moves bounded batches of files."""

    folder_id: UUID
    op: Literal["trash", "restore", "purge"]
    done: bool
    remaining: int


class FolderShareOut(ApiModel):
    share_id: UUID
    folder_id: UUID
    email: str
    permission: Literal["viewer"]
    created_at: datetime


class FolderShareList(ApiModel):
    items: list[FolderShareOut]


# ---- batch upload start (fileshare.batch) -------------------------------------------------------

MAX_BATCH_FILES = 500
MAX_STATUS_IDS = 100


class BatchCreate(InputModel):
    """Many uploads started at once, each entry exactly what ``POST /files`` takes. An entry that is
    malformed (its shape) refuses the whole request with 422; an entry that breaks a rule needing
    the server (quota, name, size, type, folder) gets its own error and the others go on."""

    files: list[FileCreate] = Field(min_length=1, max_length=MAX_BATCH_FILES,
                                    description=f"at most {MAX_BATCH_FILES} entries")


class BatchItem(ApiModel):
    """One entry's answer, in the request's order: its upload, or its own error (nothing was made
    for it: no row, no folder, no multipart upload, no quota reserved)."""

    index: int = Field(description="the entry's position in the request (0-based)")
    file_id: UUID | None = None
    upload: PostUpload | MultipartUpload | None = None
    error: ErrorBody | None = Field(default=None, description="quota_exceeded, file_too_large, "
                                    "invalid_name, content_type_not_allowed, expires_in_past, "
                                    "folder_not_found, folder_trashed, name_taken, ...")


class BatchCreated(ApiModel):
    items: list[BatchItem]
    created: int = Field(description="entries that got an upload")
    refused: int = Field(description="entries that got an error")


class FileStatusOut(ApiModel):
    file_id: UUID
    name: str
    status: FileStatus
    folder_id: UUID | None = None


class FileStatusList(ApiModel):
    """The caller's own files among the ids asked for (an id that is not the caller's file is
    left out, as a 404 would be)."""

    items: list[FileStatusOut]
