"""The local Cognito's state on disk: moto keeps user pools in memory, so a restart would lose every
user, password, confirmation state and refresh token, and the pool and client ids would change.

moto has no persistence of its own; its user pools pickle once their RSA signing key is reduced to
PEM. So the server loads a snapshot before it serves, and a saver thread writes one whenever the
state changed, at most once a second (a ``kill -9`` loses at most the last second), with
crash-safe writes: a temporary file, fsync, then an atomic rename. SIGTERM writes a last one.
The mailed codes (``cognito_mail.CodeBook``) are part of the snapshot, so a code mailed before a
restart still confirms after it.
"""

from __future__ import annotations

import copyreg
import hashlib
import logging
import os
import pickle
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("cognito_state")
SAVE_EVERY_S = 1.0


def _register_key_reducer() -> None:
    from cryptography.hazmat.bindings._rust import openssl
    from cryptography.hazmat.primitives import serialization

    def reduce(key: Any) -> tuple[Any, tuple[bytes]]:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        return _load_key, (pem,)

    copyreg.pickle(openssl.rsa.RSAPrivateKey, reduce)


def _load_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def _backends() -> dict[tuple[str, str], Any]:
    from moto.cognitoidp.models import cognitoidp_backends

    return {(account, region): backend for account, regions in cognitoidp_backends.items()
            for region, backend in regions.items() if region != "global"}


class StateFile:
    """Snapshots of every account's and region's user pools (and the code book) in one file."""

    def __init__(self, path: Path, codes: Any) -> None:
        self.path = path
        self.codes = codes
        self._lock = threading.Lock()
        self._last_digest = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _register_key_reducer()

    def snapshot(self) -> bytes:

        pools = {key: backend.user_pools for key, backend in _backends().items() if backend.user_pools}
        return pickle.dumps({"version": 1, "pools": pools, "codes": self.codes.export()})

    def load(self) -> int:
        """Restore the last snapshot, if any; returns the number of user pools restored."""
        if not self.path.exists():
            return 0
        from moto.cognitoidp.models import cognitoidp_backends

        state = pickle.loads(self.path.read_bytes())  # noqa: S301 - our own file, written by save()
        for (account, region), pools in state["pools"].items():
            cognitoidp_backends[account][region].user_pools.update(pools)
        self.codes.restore(state.get("codes", {}))
        self._last_digest = hashlib.sha256(self.snapshot()).hexdigest()
        return sum(len(p) for p in state["pools"].values())

    def save(self) -> bool:
        """Write a snapshot if the state changed since the last one; True when written."""
        with self._lock:
            data = self.snapshot()
            digest = hashlib.sha256(data).hexdigest()
            if digest == self._last_digest:
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            self._last_digest = digest
            return True

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(SAVE_EVERY_S):
                try:
                    self.save()
                except Exception:  # a failed save is retried next second; never stop the server
                    log.exception("saving the Cognito state failed")

        self._thread = threading.Thread(target=loop, name="cognito-state", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.save()
