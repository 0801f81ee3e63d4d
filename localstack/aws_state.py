"""LocalStack with its state on disk: S3, SQS, SES, Secrets Manager and SSM survive a restart.

The community build of LocalStack 4.14 keeps every service in memory: ``PERSISTENCE=1`` is accepted
but saves and loads nothing (checked: bucket, queue, secret, parameter and mailbox all gone after a
restart; only SES writes each mail as a JSON file it never reads back). It does keep the hooks
the paid persistence uses, and this module plugs into those:

- S3 object bytes: ``S3Provider`` takes an ``S3ObjectStore`` (its storage abstraction); the default
  is the in-memory ``EphemeralS3ObjectStore``. ``DiskS3ObjectStore`` keeps every object and every
  multipart part in its own file under ``<state>/s3-objects/<bucket>/``, written to a temporary file,
  fsynced and renamed into place when the write is done. Each write gets a fresh file name, kept on
  the ``S3Object``/``S3Part`` itself, so the metadata in a snapshot always names bytes that are
  complete; files nothing refers to any more are swept (at start, and after snapshots).
- Everything else is the providers' state containers, found through ``accept_state_visitor`` (the
  ``localstack.state`` API): LocalStack stores (``AccountRegionBundle``: S3 buckets and object
  metadata, SQS queues with their waiting, delayed and in-flight messages) and moto backends (SES,
  Secrets Manager, SSM). Each service is pickled to ``<state>/<service>.pickle`` (temporary file,
  fsync, rename) within a second of a request that changed it, at SIGTERM, and loaded before the
  gateway serves. Locks, conditions and queues are pickled as fresh, unlocked ones.
- SES's mailbox (``GET /_aws/ses``, a module-level dict in LocalStack) goes into ``ses.pickle``, and
  its endpoint is registered at start, so a mail sent before a restart is still readable after it.

Run with LocalStack's own Python instead of ``python -m localstack.runtime.main``::

    python localstack/aws_state.py --state-dir .local/data/localstack/state

A ``kill -9`` loses at most the changes of the last second (``SAVE_EVERY_S``). SQS in-flight
messages keep their receipt handles and visibility deadlines, so they come back when the deadline
passes, as they would have without the restart.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import hashlib
import io
import itertools
import logging
import os
import pickle
import queue
import shutil
import sys
import threading
import time
import types
import uuid
from collections import defaultdict
from pathlib import Path
from typing import IO, Any, Literal, cast

log = logging.getLogger("aws_state")

SAVE_EVERY_S = 1.0
SERVICES = ("s3", "sqs", "ses", "secretsmanager", "ssm")
# A committed S3 data file no object refers to is deleted once it is this old (a write in progress
# names its file on the S3Object a moment before it commits it).
SWEEP_AFTER_S = 60.0
FORMAT_VERSION = 1
READ_ONLY_PREFIXES = ("Get", "Head", "List", "Describe")


# -- crash-safe files --------------------------------------------------------------------------

def fsync_path(path: Path) -> None:
    """fsync a file (its bytes are on disk) or a directory (a create or rename in it is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Temporary file, fsync, rename, fsync the directory: the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent)


# -- pickling live state ------------------------------------------------------------------------

_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_QUEUE_SYNC = ("mutex", "not_empty", "not_full", "all_tasks_done")


def _new_lock(kind: type) -> Any:
    return threading.RLock() if kind is type(threading.RLock()) else threading.Lock()


def _new_event(is_set: bool) -> threading.Event:
    event = threading.Event()
    if is_set:
        event.set()
    return event


def _new_queue(cls: type[queue.Queue[Any]], maxsize: int) -> queue.Queue[Any]:
    q = cls.__new__(cls)
    queue.Queue.__init__(q, maxsize)
    return q


def _undill(data: bytes) -> Any:
    import dill

    return dill.loads(data)  # noqa: S301 - our own file


def _new_defaultdict(cls: type[defaultdict[Any, Any]], factory: Any) -> defaultdict[Any, Any]:
    d = cls.__new__(cls)
    defaultdict.__init__(d, factory)
    return d


class StatePickler(pickle.Pickler):
    """Pickles a provider's live state: synchronisation objects become fresh, unlocked ones (a lock
    held by a request thread at snapshot time must not come back held), queues keep their items
    and lose their shutdown flag (SQS shuts its queues down at stop), defaultdict subclasses whose
    ``__init__`` takes other arguments (moto's ``ParameterDict``) are rebuilt without calling it,
    and lambdas (defaultdict factories) go through dill."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _LOCK_TYPES:
            return _new_lock, (kind,)
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if isinstance(obj, threading.Event):
            return _new_event, (obj.is_set(),)
        if isinstance(obj, queue.Queue):
            state = {k: v for k, v in obj.__dict__.items() if k not in _QUEUE_SYNC}
            state["is_shutdown"] = False
            return _new_queue, (kind, obj.maxsize), state
        if isinstance(obj, types.FunctionType) and "<locals>" in obj.__qualname__:
            import dill  # a local function or lambda, e.g. a defaultdict's factory in moto's SSM

            return _undill, (dill.dumps(obj, recurse=True),)
        if isinstance(obj, defaultdict) and kind is not defaultdict:
            attrs = obj.__dict__ or None
            return _new_defaultdict, (kind, obj.default_factory), attrs, None, iter(obj.items())
        return NotImplemented


def dumps(obj: Any) -> bytes:
    """Pickle live state; retried when a request thread changes a dict while it is being walked."""
    for attempt in range(20):
        buffer = io.BytesIO()
        try:
            StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
            return buffer.getvalue()
        except RuntimeError:  # "dictionary changed size during iteration"
            if attempt == 19:
                raise
            time.sleep(0.01)
    raise AssertionError("unreachable")


# -- the state containers of one service ---------------------------------------------------------

def state_containers(service: str) -> list[Any]:
    """The state containers each provider names in its ``accept_state_visitor`` (LocalStack's
    persistence API), imported directly so they can be filled before any provider is loaded.
    S3's ``AssetDirectory`` is left out: its bytes are on disk already (``DiskS3ObjectStore``)."""
    if service == "s3":
        from localstack.services.s3.models import s3_stores

        return [s3_stores]
    if service == "sqs":
        from localstack.services.sqs.models import sqs_stores

        return [sqs_stores]
    if service == "ses":
        from moto.ses import ses_backends

        return [ses_backends]
    if service == "secretsmanager":
        from moto.secretsmanager import secretsmanager_backends

        return [secretsmanager_backends]
    if service == "ssm":
        from moto.ssm.models import ssm_backends

        return [ssm_backends]
    raise ValueError(f"no state containers known for {service}")


def export_container(container: Any) -> dict[str, Any]:
    """Plain data of an ``AccountRegionBundle`` or a moto ``BackendDict``."""
    from localstack.services.stores import LOCAL_ATTR_PREFIX, AccountRegionBundle

    if isinstance(container, AccountRegionBundle):
        accounts = {}
        for account, regions in list(container.items()):
            accounts[account] = {
                "global": regions._global,
                "regions": {region: {k: v for k, v in list(store.__dict__.items())
                                     if k.startswith(LOCAL_ATTR_PREFIX)}
                            for region, store in list(regions.items())},
            }
        return {"kind": "stores", "universal": container._universal, "accounts": accounts}
    accounts = {}
    for account, regions in list(container.items()):
        accounts[account] = {region: dict(backend.__dict__) for region, backend in list(regions.items())}
    return {"kind": "moto", "accounts": accounts}


def import_container(container: Any, data: dict[str, Any]) -> None:
    if data["kind"] == "stores":
        container._universal.update(data["universal"])
        for account, saved in data["accounts"].items():
            regions = container[account]
            regions._global.update(saved["global"])
            for region, attrs in saved["regions"].items():
                regions[region].__dict__.update(attrs)
        return
    for account, regions in data["accounts"].items():
        for region, attrs in regions.items():
            container[account][region].__dict__.update(attrs)


# -- S3 bytes on disk ---------------------------------------------------------------------------

def _s3_classes() -> tuple[Any, Any, Any]:
    from localstack.services.s3.storage.core import S3ObjectStore, S3StoredMultipart, S3StoredObject

    return S3ObjectStore, S3StoredMultipart, S3StoredObject


S3ObjectStore, S3StoredMultipart, S3StoredObject = _s3_classes()

DATA_ATTR = "_fileshare_data"  # the data file's name, kept on the S3Object / S3Part


def _data_name(obj: Any) -> str:
    """The data file of an object or part (a name from before this layer: its key and version)."""
    name = getattr(obj, DATA_ATTR, None)
    if name:
        return str(name)
    ident = f"{getattr(obj, 'key', '')}?{getattr(obj, 'version_id', None) or 'null'}"
    return "k" + hashlib.sha256(ident.encode()).hexdigest()


class PartsFile:
    """A completed multipart object read as one file: its parts, hard-linked in order as
    ``00000``, ``00001``, ... into one directory. Read-only, seekable; opens one part at a time."""

    def __init__(self, directory: Path) -> None:
        self.paths = sorted(directory.iterdir())
        sizes = [path.stat().st_size for path in self.paths]
        self.starts = list(itertools.accumulate(sizes, initial=0))[:-1]
        self.ends = [start + size for start, size in zip(self.starts, sizes, strict=True)]
        self.size = sum(sizes)
        self.position = 0
        self._open_index = -1
        self._open: IO[bytes] | None = None

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self.position = base + offset
        return self.position

    def read(self, size: int | None = -1) -> bytes:
        wanted = self.size - self.position if size is None or size < 0 else size
        chunks: list[bytes] = []
        while wanted > 0 and self.position < self.size:
            index = bisect.bisect_right(self.starts, self.position) - 1
            part = self._part(index)
            part.seek(self.position - self.starts[index])
            chunk = part.read(min(wanted, self.ends[index] - self.position))
            if not chunk:  # a part shorter than when listed: never here (parts are immutable)
                break
            chunks.append(chunk)
            self.position += len(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)

    def _part(self, index: int) -> IO[bytes]:
        if index != self._open_index or self._open is None:
            if self._open is not None:
                self._open.close()
            self._open = open(self.paths[index], "rb")  # noqa: SIM115
            self._open_index = index
        return self._open

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None


class DiskStoredObject(S3StoredObject):  # type: ignore[misc, valid-type]
    """One object's (or part's) bytes in a file. Read mode reads the committed file through its own
    handle; write mode writes a temporary file that ``close()`` fsyncs and renames into place."""

    def __init__(self, s3_object: Any, directory: Path, mode: Literal["r", "w"] = "r",
                 store: DiskS3ObjectStore | None = None) -> None:
        super().__init__(s3_object=s3_object, mode=mode)
        self.store = store
        from localstack.services.s3.utils import get_s3_checksum

        self._get_s3_checksum = get_s3_checksum
        self.directory = directory
        self._etag: str | None = None
        self._checksum: str | None = None
        self.checksum_hash: Any = None
        self.closed: bool = False
        if mode == "w":
            directory.mkdir(parents=True, exist_ok=True)
            self.name = "o" + uuid.uuid4().hex
            self.path = directory / self.name
            self.file: IO[bytes] = open(directory / f".{self.name}.tmp", "w+b")  # noqa: SIM115
            # named before commit, so a snapshot taken meanwhile refers to it (see SWEEP_AFTER_S)
            setattr(s3_object, DATA_ATTR, self.name)
        else:
            self.name = _data_name(s3_object)
            self.path = directory / self.name
            try:
                # read mode uses read/seek/tell/close only, which PartsFile has
                self.file = (cast("IO[bytes]", PartsFile(self.path)) if self.path.is_dir()
                             else open(self.path, "rb"))  # noqa: SIM115
            except FileNotFoundError:
                self.file = io.BytesIO()
                log.error("S3 data file %s is missing", self.path)

    # reading
    def read(self, s: int = -1) -> bytes:
        return self.file.read(s) or b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def __iter__(self) -> Any:
        from localstack.services.s3.constants import S3_CHUNK_SIZE

        while data := self.file.read(S3_CHUNK_SIZE):
            yield data

    # writing
    def truncate(self, size: int | None = None) -> int:
        self._require_write()
        result = self.file.truncate(size)
        self.s3_object.internal_last_modified = time.time_ns()
        return result

    def write(self, stream: Any) -> int:
        from localstack.services.s3.constants import S3_CHUNK_SIZE

        self._require_write()
        if stream is None:
            stream = io.BytesIO()
        if self.s3_object.checksum_algorithm:
            self.checksum_hash = self._get_s3_checksum(self.s3_object.checksum_algorithm)
        self.file.seek(0)
        self.file.truncate()
        etag = hashlib.md5(usedforsecurity=False)
        while data := stream.read(S3_CHUNK_SIZE):
            self.file.write(data)
            etag.update(data)
            if self.checksum_hash:
                self.checksum_hash.update(data)
        size = self.file.tell()
        self.s3_object.size = size
        self._etag = self.s3_object.etag = etag.hexdigest()
        self._checksum = None
        self.s3_object.internal_last_modified = time.time_ns()
        self.file.seek(0)
        return size

    def append(self, part: Any) -> int:
        from localstack.services.s3.constants import S3_CHUNK_SIZE

        self._require_write()
        self.file.seek(0, os.SEEK_END)
        read = 0
        while data := part.read(S3_CHUNK_SIZE):
            self.file.write(data)
            read += len(data)
        self.s3_object.size = self.file.tell()
        self.s3_object.internal_last_modified = time.time_ns()
        return read

    def _require_write(self) -> None:
        if self._mode != "w":
            raise io.UnsupportedOperation("S3 object is not in write mode")

    def close(self) -> None:
        if self.closed:
            return
        if self._mode == "w":
            self.file.close()
            os.replace(self.directory / f".{self.name}.tmp", self.path)
            if self.store is not None:
                self.store.committed(self.path)  # fsynced before the next S3 snapshot (flush())
            else:
                fsync_path(self.path)
                fsync_path(self.directory)
        else:
            self.file.close()
        self.closed = True

    @property
    def last_modified(self) -> int:
        # Each write has its own file, so what a reader opened is always the object it asked for.
        return int(self.s3_object.internal_last_modified)

    def _digest(self, hasher: Any) -> Any:
        from localstack.services.s3.constants import S3_CHUNK_SIZE

        position = self.file.tell()
        self.file.seek(0)
        while data := self.file.read(S3_CHUNK_SIZE):
            hasher.update(data)
        self.file.seek(position)
        return hasher

    @property
    def checksum(self) -> str | None:
        import base64

        if not self.s3_object.checksum_algorithm:
            return None
        if not self._checksum:
            if not self.checksum_hash:
                self.checksum_hash = self._digest(self._get_s3_checksum(self.s3_object.checksum_algorithm))
            self._checksum = base64.b64encode(self.checksum_hash.digest()).decode()
        return self._checksum

    @property
    def etag(self) -> str:
        if not self._etag:
            self._etag = self._digest(hashlib.md5(usedforsecurity=False)).hexdigest()
        return self._etag


class DiskStoredMultipart(S3StoredMultipart):  # type: ignore[misc, valid-type]
    """A multipart upload's parts, one file each under ``<bucket>/mpu/<upload id>/``."""

    def __init__(self, store: DiskS3ObjectStore, bucket: str, s3_multipart: Any) -> None:
        super().__init__(s3_store=store, bucket=bucket, s3_multipart=s3_multipart)
        self.directory = store.bucket_dir(bucket) / "mpu" / s3_multipart.id

    def open(self, s3_part: Any, mode: Literal["r", "w"] = "r") -> DiskStoredObject:
        return DiskStoredObject(s3_part, self.directory, mode=mode, store=self._s3_store)

    def remove_part(self, s3_part: Any) -> None:
        """Swept later: the last snapshot may still list the part."""

    def complete_multipart(self, parts: list[Any]) -> None:
        """The object becomes a directory of hard links to its parts, in order (read back through
        ``PartsFile``): completing copies no byte. Copying them took about as long as writing them
        (5 GiB: ~20 s on this disk, longer under load), more than a client's complete waits."""
        s3_object = self.s3_multipart.object
        bucket_dir = self._s3_store.bucket_dir(self.bucket)
        name = "o" + uuid.uuid4().hex
        staging = bucket_dir / f".{name}.tmp"
        staging.mkdir(parents=True)
        size = 0
        for index, s3_part in enumerate(parts):
            part_path = self.directory / _data_name(s3_part)
            os.link(part_path, staging / f"{index:05d}")
            size += part_path.stat().st_size
        # named before commit, as a plain write is (see SWEEP_AFTER_S)
        setattr(s3_object, DATA_ATTR, name)
        os.replace(staging, bucket_dir / name)
        self._s3_store.committed(bucket_dir / name)  # the directory's entries, then the bucket's
        s3_object.size = size
        s3_object.internal_last_modified = time.time_ns()

    def close(self) -> None:
        pass

    def copy_from_object(self, s3_part: Any, src_bucket: str, src_s3_object: Any, range_data: Any) -> None:
        from localstack.services.s3.storage.core import LimitedStream

        with (self._s3_store.open(src_bucket, src_s3_object, mode="r") as source,
              self.open(s3_part, mode="w") as stored_part):
            stored_part.write(LimitedStream(source, range_data=range_data) if range_data else source)
            if s3_part.checksum_algorithm:
                s3_part.checksum_value = stored_part.checksum


class DiskS3ObjectStore(S3ObjectStore):  # type: ignore[misc, valid-type]
    """S3's storage backend on disk: ``<root>/<bucket>/<data file>`` and
    ``<root>/<bucket>/mpu/<upload id>/<data file>``. Removals are left to ``sweep()``, which
    deletes what no object or part in the stores refers to, so a crash before the next snapshot
    never leaves metadata pointing at deleted bytes.

    A committed file is renamed into place before S3 answers, so a process crash never loses it;
    its fsync (and its directory's) is batched into ``flush()``, which runs before every S3
    snapshot is written, so a snapshot on disk only names bytes that are on disk too (an fsync per
    PUT made small PUTs ~70 % slower)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root_directory = str(root)
        root.mkdir(parents=True, exist_ok=True)
        self._pending: set[Path] = set()
        self._pending_lock = threading.Lock()

    def committed(self, path: Path) -> None:
        with self._pending_lock:
            self._pending.add(path)

    def flush(self) -> None:
        """fsync every file committed since the last call, then their directories."""
        with self._pending_lock:
            pending, self._pending = self._pending, set()
        for path in pending:
            with contextlib.suppress(FileNotFoundError):
                fsync_path(path)
        for directory in {path.parent for path in pending}:
            with contextlib.suppress(FileNotFoundError):
                fsync_path(directory)

    def bucket_dir(self, bucket: str) -> Path:
        return self.root / bucket

    def open(self, bucket: str, s3_object: Any, mode: Literal["r", "w"] = "r") -> DiskStoredObject:
        return DiskStoredObject(s3_object, self.bucket_dir(bucket), mode=mode, store=self)

    def remove(self, bucket: str, s3_object: Any) -> None:
        """Swept later (see the class docstring)."""

    def copy(self, src_bucket: str, src_object: Any, dest_bucket: str, dest_object: Any) -> DiskStoredObject:
        from localstack.services.s3.storage.core import should_copy_in_place

        if should_copy_in_place(src_bucket, src_object, dest_bucket, dest_object):
            setattr(dest_object, DATA_ATTR, _data_name(src_object))
            return self.open(dest_bucket, dest_object, mode="r")
        with self.open(src_bucket, src_object, mode="r") as source:
            target = self.open(dest_bucket, dest_object, mode="w")
            target.write(source)
        target.close()
        return self.open(dest_bucket, dest_object, mode="r")

    def get_multipart(self, bucket: str, s3_multipart: Any) -> DiskStoredMultipart:
        return DiskStoredMultipart(self, bucket, s3_multipart)

    def remove_multipart(self, bucket: str, s3_multipart: Any) -> None:
        """Swept later."""

    def create_bucket(self, bucket: str) -> None:
        self.bucket_dir(bucket).mkdir(parents=True, exist_ok=True)

    def sweep(self, min_age_s: float = SWEEP_AFTER_S) -> int:
        """Delete data files, part directories and bucket directories nothing refers to any more
        (and, with ``min_age_s=0`` at start, temporary files of writes a crash interrupted)."""
        from localstack.services.s3.models import S3Object, s3_stores

        referenced: dict[str, set[str]] = {}
        uploads: dict[str, dict[str, set[str]]] = {}
        for _, _, store in list(s3_stores.iter_stores()):
            for name, bucket in list(store.buckets.items()):
                referenced.setdefault(name, set()).update(
                    _data_name(obj) for obj in bucket.objects.values(with_versions=True)
                    if isinstance(obj, S3Object))
                parts = uploads.setdefault(name, {})
                for upload_id, multipart in list(bucket.multiparts.items()):
                    parts[upload_id] = {_data_name(p) for p in list(multipart.parts.values())}
        cutoff = time.time() - min_age_s
        removed = 0
        for bucket_dir in [p for p in self.root.iterdir() if p.is_dir()]:
            keep = referenced.get(bucket_dir.name)
            for entry in list(bucket_dir.iterdir()):
                if entry.name == "mpu":
                    for upload in list(entry.iterdir()):
                        wanted = uploads.get(bucket_dir.name, {}).get(upload.name)
                        for part in list(upload.iterdir()):
                            if _stale(part, cutoff) and (wanted is None or part.name not in wanted):
                                part.unlink(missing_ok=True)
                                removed += 1
                        with contextlib.suppress(OSError):
                            if wanted is None and _stale(upload, cutoff):
                                upload.rmdir()
                    continue
                if _stale(entry, cutoff) and (keep is None or entry.name not in keep):
                    if entry.is_dir():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
                    removed += 1
            if keep is None and _stale(bucket_dir, cutoff):
                shutil.rmtree(bucket_dir, ignore_errors=True)
        return removed

    def drop_missing(self) -> int:
        """At start: forget objects whose bytes never reached disk (a crash between the snapshot
        that listed them and the write's commit; their PUT was never answered)."""
        from localstack.services.s3.models import S3Object, VersionedKeyStore, s3_stores

        dropped = 0
        for _, _, store in list(s3_stores.iter_stores()):
            for name, bucket in list(store.buckets.items()):
                for obj in bucket.objects.values(with_versions=True):
                    if not isinstance(obj, S3Object) or (self.bucket_dir(name) / _data_name(obj)).exists():
                        continue
                    log.warning("dropping s3://%s/%s: its bytes never reached disk", name, obj.key)
                    if isinstance(bucket.objects, VersionedKeyStore):
                        bucket.objects.pop(obj.key, obj.version_id)
                    else:
                        bucket.objects.pop(obj.key)
                    dropped += 1
        return dropped


def _stale(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _localstack_version() -> str:
    from localstack.version import __version__

    return str(__version__)


# -- the saver -----------------------------------------------------------------------------------

class StateDir:
    """Loads every service's snapshot at start, saves the changed ones every second, all at stop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.objects = DiskS3ObjectStore(path / "s3-objects")
        self.dirty: set[str] = set(SERVICES)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sweep = 0.0

    def file(self, service: str) -> Path:
        return self.path / f"{service}.pickle"

    def install(self) -> None:
        """Swap S3's storage backend, mark services changed by requests, restore the snapshots."""
        import localstack.services.s3.provider as s3_provider
        from localstack.aws.handlers import run_custom_response_handlers

        objects = self.objects
        s3_provider.EphemeralS3ObjectStore = lambda *_a, **_k: objects
        run_custom_response_handlers.append(self._on_response)
        self.load()
        from localstack.services.ses.provider import register_ses_api_resource

        register_ses_api_resource()  # the mailbox answers before the first SES call
        self._patch_shutdown()

    def _on_response(self, chain: Any, context: Any, response: Any) -> None:
        service = getattr(getattr(context, "service", None), "service_name", None)
        operation = getattr(getattr(context, "operation", None), "name", "") or ""
        if service is None:
            if context.request.method not in ("GET", "HEAD", "OPTIONS") and \
                    context.request.path.startswith("/_aws/ses"):
                self.dirty.add("ses")
            return
        if service in SERVICES and not operation.startswith(READ_ONLY_PREFIXES):
            self.dirty.add(service)

    def load(self) -> None:
        for service in SERVICES:
            path = self.file(service)
            if not path.exists():
                continue
            try:
                state = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, written by save()
                wrote = (state.get("version"), state.get("localstack"))
                if wrote != (FORMAT_VERSION, _localstack_version()):
                    raise ValueError(f"written by (format, LocalStack) {wrote}, this is "
                                     f"{(FORMAT_VERSION, _localstack_version())}")
                for container, data in zip(state_containers(service), state["containers"], strict=True):
                    import_container(container, data)
            except Exception as exc:
                # Refuse to start rather than serve (and then save) an empty state over it.
                raise SystemExit(f"cannot restore LocalStack's {service} state from {path}: {exc}. `make "
                                 "reset` wipes the local stack's data (or move that file away).") from exc
            if service == "ses":
                from localstack.services.ses import provider as ses_provider

                ses_provider.EMAILS.update(state.get("emails", {}))
            log.info("restored %s from %s", service, path)
        self.objects.drop_missing()
        self.objects.sweep(min_age_s=0)
        self.dirty.clear()

    def snapshot(self, service: str) -> bytes:
        state: dict[str, Any] = {"version": FORMAT_VERSION, "localstack": _localstack_version(),
                                 "containers": [export_container(c) for c in state_containers(service)]}
        if service == "ses":
            from localstack.services.ses import provider as ses_provider

            state["emails"] = dict(ses_provider.EMAILS)
        return dumps(state)

    def save(self, services: set[str] | None = None) -> list[str]:
        """Write the snapshots of the changed services (or those named); returns what was written."""
        with self._lock:
            todo = set(self.dirty) if services is None else set(services)
            if "s3" in todo:
                todo.add("sqs")  # S3's event notifications for those objects land in SQS
            self.dirty -= todo
            written = []
            # S3 first and SQS last: an object in the S3 snapshot had its ObjectCreated event
            # dispatched (asynchronously, within milliseconds) by the time SQS is pickled, so a
            # crash does not keep an object whose event it lost (bar that dispatch latency).
            for service in sorted(todo, key=lambda name: (name == "sqs", name != "s3", name)):
                try:
                    if service == "s3":
                        self.objects.flush()  # the bytes the snapshot names are durable first
                    write_atomically(self.file(service), self.snapshot(service))
                    written.append(service)
                except Exception:
                    self.dirty.add(service)  # retried next time
                    log.exception("saving the %s state failed", service)
            if "s3" in todo:
                # An event of an object in this S3 snapshot may still be on its way to SQS (S3
                # dispatches notifications on a thread pool): save SQS once more next round.
                self.dirty.add("sqs")
            if "s3" in written and time.monotonic() - self._last_sweep > SWEEP_AFTER_S:
                self._last_sweep = time.monotonic()
                self.objects.sweep()
            return written

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(SAVE_EVERY_S):
                self.save()

        self._thread = threading.Thread(target=loop, name="aws-state-saver", daemon=True)
        self._thread.start()

    def _patch_shutdown(self) -> None:
        """Save when SIGTERM starts the shutdown, and once more when the server has stopped (the
        services' stop hooks change nothing we keep: our reducers undo SQS's queue shutdown)."""
        from localstack.runtime.runtime import LocalstackRuntime

        state = self
        original_shutdown = LocalstackRuntime.shutdown
        original_return = LocalstackRuntime._on_return

        def shutdown(runtime: Any) -> None:
            state.save(set(SERVICES))
            original_shutdown(runtime)

        def on_return(runtime: Any) -> None:
            state._stop.set()
            state.save(set(SERVICES))
            log.info("state saved to %s", state.path)
            original_return(runtime)

        LocalstackRuntime.shutdown = shutdown
        LocalstackRuntime._on_return = on_return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    state = StateDir(args.state_dir.resolve())
    state.install()
    state.start()
    import s3_post_signatures

    s3_post_signatures.install()
    from localstack.runtime.main import main as localstack_main

    localstack_main()


if __name__ == "__main__":
    # Import this file as the module ``aws_state`` so the pickles name ``aws_state._new_queue``
    # and friends, not ``__main__``.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import aws_state

    aws_state.main()
