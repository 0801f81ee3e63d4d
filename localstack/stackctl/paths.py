"""Where the local stack keeps its downloads, data, logs and pid files (all under ``.local/``)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = Path(os.environ.get("FILESHARE_LOCAL_DIR", REPO_ROOT / ".local"))
CACHE_DIR = LOCAL_DIR / "cache"  # downloads; survives `make reset`
DATA_DIR = LOCAL_DIR / "data"
LOG_DIR = LOCAL_DIR / "logs"
RUN_DIR = LOCAL_DIR / "run"
OPT_DIR = LOCAL_DIR / "opt"  # unpacked distributions and extra venvs
STACK_ENV_FILE = LOCAL_DIR / "stack.env"  # the environment `make dev` and its functions use
TEST_ENV_FILE = LOCAL_DIR / "test.env"  # the test namespace's (infra.declaration.TEST_NAMESPACE)
PROJECT_VENV = REPO_ROOT / ".venv"


def ensure_dirs() -> None:
    for directory in (CACHE_DIR, DATA_DIR, LOG_DIR, RUN_DIR, OPT_DIR):
        directory.mkdir(parents=True, exist_ok=True)
