"""Bytes between this machine and S3, through the API's presigned requests (no byte passes the API).

Upload: a small file goes up in one presigned POST signed with its SHA-256; above the deployment's
threshold the API plans a multipart upload, and every part is signed with its own SHA-256 (so S3
checks each one) in batches, then PUT straight to S3 by ``parallel`` threads. An unfinished
multipart upload is remembered in a state file (``config.state_dir()/uploads``); running the same
upload again (same API, account, path, size and mtime) continues it: S3's own list of the parts it
holds (``GET /files/{id}/parts``) decides what is left, so parts that finished after the last state
write are not sent twice.

Download: the presigned GET is streamed to a temporary file next to the target, counted and hashed;
it is renamed into place only when its size (and SHA-256, when the API knows it) match.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
import secrets
import sys
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast
from uuid import UUID

import httpx

from fileshare_api_client.api.files import (
    complete_file_files_file_id_complete_post,
    create_file_files_post,
    download_file_files_file_id_download_get,
    get_file_files_file_id_get,
    list_parts_files_file_id_parts_get,
    sign_parts_files_file_id_parts_post,
)
from fileshare_api_client.models import (
    CompletedPart,
    CompleteIn,
    FileCreate,
    FileOut,
    MultipartUpload,
    PartsIn,
    PartUrl,
    PartUrlHeadersType0,
    PostUpload,
)
from fileshare_api_client.types import UNSET
from fileshare_cli import config
from fileshare_cli.api import Api
from fileshare_cli.errors import ApiError, CliError, Exit, TransferError
from fileshare_cli.output import Meter, Silent, meter

SIGN_BATCH_MAX = 100  # part URLs one POST /files/{id}/parts may ask for
ATTEMPTS = 3  # per part PUT: network errors and S3 5xx are retried with backoff
CHUNK = 1024 * 1024
WHOLE_FILE_CHECKSUM_MAX = 64 * 1024 * 1024  # the API's default MULTIPART_THRESHOLD_BYTES
S3_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
_NO_METER = Silent()


def file_sha256_b64(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def guess_content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


# --- the state of an unfinished multipart upload -------------------------------------------------


@dataclass
class UploadState:
    """What resuming needs; written after the plan and after every part (atomically, 0600)."""

    file_id: str
    upload_id: str
    part_size: int
    part_count: int
    size: int
    path: str
    parts: dict[int, tuple[str, str]] = field(default_factory=dict)  # number -> (etag, checksum)

    def to_json(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "upload_id": self.upload_id, "part_size": self.part_size,
                "part_count": self.part_count, "size": self.size, "path": self.path,
                "parts": {str(n): list(v) for n, v in sorted(self.parts.items())}}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> UploadState:
        parts = {int(n): (str(v[0]), str(v[1])) for n, v in raw.get("parts", {}).items()}
        return cls(str(raw["file_id"]), str(raw["upload_id"]), int(raw["part_size"]), int(raw["part_count"]),
                   int(raw["size"]), str(raw["path"]), parts)

    def part_length(self, number: int) -> int:
        return min(self.part_size, self.size - self.part_size * (number - 1))


def state_path(api: Api, path: Path) -> Path:
    """One state file per (API, account, absolute path, size, mtime): a changed file starts anew."""
    stat = path.stat()
    key = "\n".join([api.base_url, api.session.email, str(path.resolve()), str(stat.st_size),
                     str(stat.st_mtime_ns)])
    return config.state_dir() / "uploads" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _load_state(path: Path) -> UploadState | None:
    raw = config.read_json(path)
    try:
        return UploadState.from_json(raw) if raw else None
    except (KeyError, TypeError, ValueError, IndexError):
        return None


# --- upload ---------------------------------------------------------------------------------------


@dataclass
class UploadOptions:
    name: str | None = None
    content_type: str | None = None
    tags: tuple[str, ...] = ()
    folder_id: UUID | None = None
    parallel: int = 4
    resume: bool = True
    progress: bool = True


@dataclass
class UploadResult:
    file: FileOut
    method: str  # "POST" or "MULTIPART"
    resumed: bool = False
    parts_sent: int = 0
    parts_total: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file.to_dict(), "method": self.method, "resumed": self.resumed,
                "parts_sent": self.parts_sent, "parts_total": self.parts_total}


def upload(api: Api, path: Path, options: UploadOptions) -> UploadResult:
    if not path.is_file():
        raise CliError(f"{path}: not a file", error="not_a_file", exit_code=Exit.USAGE)
    size = path.stat().st_size
    if size == 0:
        raise CliError(f"{path}: empty files cannot be uploaded", error="empty_file", exit_code=Exit.USAGE)
    state_file = state_path(api, path)
    if options.resume and (state := _load_state(state_file)) is not None:
        resumed = _resume(api, path, state, state_file, options)
        if resumed is not None:
            return resumed
    state_file.unlink(missing_ok=True)
    content_type = options.content_type or guess_content_type(path)
    # The API signs a single POST with the whole file's SHA-256, so S3 refuses other bytes; it costs
    # one more read of the file, so only files the default threshold sends in one POST carry it.
    checksum = file_sha256_b64(path) if size <= WHOLE_FILE_CHECKSUM_MAX else UNSET
    body = FileCreate(name=options.name or path.name, size=size, content_type=content_type,
                      tags=list(options.tags) if options.tags else UNSET,
                      folder_id=options.folder_id if options.folder_id else UNSET, checksum_sha256=checksum,
                      part_checksums=True)
    created = api.call(create_file_files_post, body=body)
    file_id = UUID(str(created.file_id))
    if isinstance(created.upload, PostUpload):
        _post(created.upload, path, size, content_type, options.progress)
        return UploadResult(api.call(get_file_files_file_id_get, file_id), "POST", parts_total=1)
    assert isinstance(created.upload, MultipartUpload)
    plan = created.upload
    state = UploadState(str(file_id), plan.upload_id, plan.part_size, plan.part_count, size,
                        str(path.resolve()))
    config.write_private(state_file, state.to_json())
    return _multipart(api, path, state, state_file, options, resumed=False)


def _resume(api: Api, path: Path, state: UploadState, state_file: Path,
            options: UploadOptions) -> UploadResult | None:
    """Continue an unfinished upload; None when there is nothing to continue (start a new one)."""
    file_id = UUID(state.file_id)
    try:
        stored = api.call(list_parts_files_file_id_parts_get, file_id).parts
    except ApiError as exc:
        if exc.status == 409:  # no multipart upload in progress: completed (stopped before the state
            try:               # file was removed), or aborted (the file is then rejected)
                current = api.call(get_file_files_file_id_get, file_id)
            except ApiError:
                return None
            if current.status in ("pending", "ready"):  # completed: pending until it is processed
                state_file.unlink(missing_ok=True)
                return UploadResult(current, "MULTIPART", resumed=True, parts_total=state.part_count)
            return None
        if exc.exit_code is Exit.NOT_FOUND:
            return None  # aborted, expired or trashed: start over
        raise
    state.parts = {}
    for part in stored:  # S3's list is the truth: a part it holds whole is done, whoever recorded it
        if part.size == state.part_length(part.part_number):
            checksum = part.checksum_sha256 if isinstance(part.checksum_sha256, str) else ""
            state.parts[part.part_number] = (part.etag, checksum)
    config.write_private(state_file, state.to_json())
    return _multipart(api, path, state, state_file, options, resumed=True)


class _CountingReader:
    """A file object that reports what has been read from it (httpx streams multipart bodies from it)."""

    def __init__(self, handle: IO[bytes], progress: Meter) -> None:
        self._handle, self._progress = handle, progress

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._progress.advance(len(data))
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:
        return self._handle.fileno()


def _post(plan: PostUpload, path: Path, size: int, content_type: str, progress: bool) -> None:
    fields = dict(plan.fields.additional_properties)
    with path.open("rb") as src, meter(f"upload {path.name}", size, enabled=progress) as bar:
        try:
            reply = httpx.post(plan.url, data=fields,
                               files={"file": (path.name, cast(IO[bytes], _CountingReader(src, bar)),
                                               content_type)},
                               timeout=S3_TIMEOUT)
        except httpx.HTTPError as exc:
            raise TransferError(f"upload to storage failed: {exc}", error="storage_unreachable") from exc
    if reply.status_code >= 300:
        raise TransferError(f"storage refused the upload ({reply.status_code}): {reply.text[:300]}",
                            error="storage_refused", status=reply.status_code)


def _part_sha256(path: Path, state: UploadState, number: int) -> str:
    digest = hashlib.sha256()
    for chunk in _part_chunks(path, state, number, [0], _NO_METER):
        digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def _part_chunks(path: Path, state: UploadState, number: int, sent: list[int], bar: Meter) -> Iterator[bytes]:
    """The part's bytes from the file, a chunk at a time (counted into ``sent`` and the bar)."""
    left = state.part_length(number)
    with path.open("rb") as src:
        src.seek(state.part_size * (number - 1))
        while left:
            chunk = src.read(min(CHUNK, left))
            if not chunk:
                raise CliError(f"{path} changed while it was being uploaded", error="file_changed",
                               exit_code=Exit.USAGE)
            left -= len(chunk)
            sent[0] += len(chunk)
            bar.advance(len(chunk))
            yield chunk


def _put_part(http: httpx.Client, path: Path, state: UploadState, part: PartUrl,
              bar: Meter) -> tuple[int, str]:
    """PUT one part, streamed from the file (its length declared, so nothing is held in memory)."""
    signed = part.headers  # the part's x-amz-checksum-sha256, which its URL signs
    headers = dict(signed.additional_properties) if isinstance(signed, PartUrlHeadersType0) else {}
    headers["Content-Length"] = str(state.part_length(part.part_number))
    delay = 1.0
    for attempt in range(1, ATTEMPTS + 1):
        sent = [0]
        try:
            reply = http.put(part.url, content=_part_chunks(path, state, part.part_number, sent, bar),
                             headers=headers)
        except httpx.TransportError as exc:
            bar.advance(-sent[0])
            if attempt == ATTEMPTS:
                raise TransferError(f"part {part.part_number}: {exc}", error="storage_unreachable") from exc
        else:
            if reply.status_code < 300 and reply.headers.get("etag"):
                return part.part_number, reply.headers["etag"]
            bar.advance(-sent[0])
            if reply.status_code < 500 or attempt == ATTEMPTS:
                raise TransferError(f"storage refused part {part.part_number} ({reply.status_code}): "
                                    f"{reply.text[:300]}", error="storage_refused", status=reply.status_code)
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


def _batches(numbers: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(numbers), size):
        yield numbers[start:start + size]


def _multipart(api: Api, path: Path, state: UploadState, state_file: Path, options: UploadOptions, *,
               resumed: bool) -> UploadResult:
    file_id = UUID(state.file_id)
    pending = [n for n in range(1, state.part_count + 1) if n not in state.parts]
    parallel = max(1, options.parallel)
    batch_size = min(SIGN_BATCH_MAX, max(8, parallel * 2))
    sent = 0
    with (meter(f"upload {path.name}", state.size, enabled=options.progress) as bar,
          httpx.Client(timeout=S3_TIMEOUT) as http,
          ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="part") as pool):
        bar.reset(sum(state.part_length(n) for n in state.parts))
        for batch in _batches(pending, batch_size):
            checksums = {n: _part_sha256(path, state, n) for n in batch}
            signed = api.call(sign_parts_files_file_id_parts_post, file_id,
                              body=PartsIn(part_numbers=batch, checksums=[checksums[n] for n in batch])).parts
            running: set[Future[tuple[int, str]]] = {pool.submit(_put_part, http, path, state, p, bar)
                                                     for p in signed}
            try:
                while running:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        number, etag = future.result()
                        state.parts[number] = (etag, checksums[number])
                        config.write_private(state_file, state.to_json())  # this part survives a crash
                        sent += 1
            except BaseException:
                for future in running:
                    future.cancel()
                raise
    missing = [n for n in range(1, state.part_count + 1) if n not in state.parts]
    if missing:
        raise TransferError(f"parts {missing[:5]} were not uploaded", error="parts_missing")
    body = CompleteIn(parts=[CompletedPart(part_number=n, etag=etag, checksum_sha256=checksum or UNSET)
                             for n, (etag, checksum) in sorted(state.parts.items())])
    done = api.call(complete_file_files_file_id_complete_post, file_id, body=body)
    state_file.unlink(missing_ok=True)
    return UploadResult(done, "MULTIPART", resumed=resumed, parts_sent=sent, parts_total=state.part_count)


# --- download -------------------------------------------------------------------------------------


@dataclass
class DownloadResult:
    file: FileOut
    path: str  # "-" for stdout
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"file_id": str(self.file.file_id), "name": self.file.name, "path": self.path,
                "size": self.size, "sha256": self.sha256}


def _target(name: str, file_id: UUID, output: str | None) -> Path:
    safe = Path(name).name
    if safe in ("", ".", ".."):
        safe = str(file_id)
    if output is None:
        return Path(safe)
    out = Path(output)
    return out / safe if out.is_dir() else out


def download(api: Api, file_id: UUID, output: str | None, *, force: bool, progress: bool) -> DownloadResult:
    info: FileOut = api.call(get_file_files_file_id_get, file_id)
    url = api.call(download_file_files_file_id_download_get, file_id).url
    to_stdout = output == "-"
    target = None if to_stdout else _target(info.name, file_id, output)
    if target is not None and target.exists() and not force:
        raise CliError(f"{target} exists (--force replaces it)", error="target_exists", exit_code=Exit.USAGE)
    digest, count = hashlib.sha256(), 0
    tmp = None if target is None else target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        sink = sys.stdout.buffer if tmp is None else tmp.open("wb")
        try:
            with (meter(f"download {info.name}", info.size, enabled=progress and not to_stdout) as bar,
                  httpx.stream("GET", url, timeout=S3_TIMEOUT) as reply):
                if reply.status_code != 200:
                    reply.read()
                    raise TransferError(f"storage answered {reply.status_code}: {reply.text[:300]}",
                                        error="storage_refused", status=reply.status_code,
                                        exit_code=Exit.NOT_FOUND if reply.status_code == 404 else None)
                for chunk in reply.iter_bytes(CHUNK):
                    sink.write(chunk)
                    digest.update(chunk)
                    count += len(chunk)
                    bar.advance(len(chunk))
            sink.flush()
        finally:
            if tmp is not None:
                sink.close()
        if count != info.size:
            raise TransferError(f"received {count} bytes, the file has {info.size}", error="size_mismatch")
        expected = info.checksum_sha256 if isinstance(info.checksum_sha256, str) else None
        if expected and len(expected) == 64 and expected.lower() != digest.hexdigest():
            raise TransferError("the bytes received do not have the file's SHA-256",
                                error="checksum_mismatch")
        if tmp is not None and target is not None:
            os.replace(tmp, target)
    except httpx.HTTPError as exc:
        raise TransferError(f"download failed: {exc}", error="storage_unreachable") from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return DownloadResult(info, "-" if target is None else str(target), count, digest.hexdigest())
