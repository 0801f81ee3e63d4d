"""Where the command keeps its settings, sessions and unfinished uploads, and which API it talks to.

- ``<config dir>/config.json``: ``{"api": "<base URL>"}``, the default API (``fileshare login --api``
  saves it);
- ``<config dir>/sessions.json``: per API base URL, the account's tokens and their expiry; mode 0600,
  written atomically (a temporary file in the same folder, then a rename);
- ``<state dir>/uploads/<key>.json``: one per unfinished multipart upload (``transfer.py``).

The config dir is platformdirs' user config dir (``~/.config/fileshare`` on Linux, honouring
``XDG_CONFIG_HOME``); the state dir likewise (``~/.local/state/fileshare``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from fileshare_cli.errors import CliError, Exit

API_ENV = "FILESHARE_API"
APP = "fileshare"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP))


def write_private(path: Path, data: Any) -> None:
    """Write JSON readable by the user alone (0600 from creation on), replacing ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}", error="bad_local_file", exit_code=Exit.USAGE) from exc
    return data if isinstance(data, dict) else {}


def resolve_api(option: str | None) -> str:
    """The API base URL: ``--api``, else ``$FILESHARE_API``, else the saved default."""
    api = option or os.environ.get(API_ENV) or read_json(config_dir() / "config.json").get("api")
    if not api:
        raise CliError(f"no API URL: pass --api, set {API_ENV}, or log in with --api once "
                       "(`make dev` prints the local one; the web app's /config.json names it)",
                       error="no_api", exit_code=Exit.USAGE)
    return str(api).rstrip("/")


def save_default_api(api: str) -> None:
    path = config_dir() / "config.json"
    write_private(path, {**read_json(path), "api": api})


@dataclass
class Session:
    email: str
    id_token: str
    refresh_token: str
    expires_at: float  # epoch seconds when the id token stops being accepted

    def expired(self, margin_s: float = 60.0) -> bool:
        return time.time() + margin_s >= self.expires_at


def _sessions_path() -> Path:
    return config_dir() / "sessions.json"


def load_session(api: str) -> Session | None:
    raw = read_json(_sessions_path()).get(api)
    if not isinstance(raw, dict):
        return None
    try:
        return Session(**raw)
    except TypeError:
        return None  # written by another version: log in again


def save_session(api: str, session: Session) -> None:
    write_private(_sessions_path(), {**read_json(_sessions_path()), api: asdict(session)})


def forget_session(api: str) -> None:
    sessions = read_json(_sessions_path())
    if sessions.pop(api, None) is not None:
        write_private(_sessions_path(), sessions)
