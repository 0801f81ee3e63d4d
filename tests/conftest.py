"""Test-wide setup: point every test at the local stack that `make test` brought up.

The stack manager writes the environment the functions use to `.local/stack.env`; loading it
here (before any `fileshare` import caches settings) makes tests talk to the same real services.
Variables already set in the environment win, so CI or a developer can point tests elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

STACK_ENV = Path(__file__).resolve().parents[1] / ".local" / "stack.env"


def _load_stack_env() -> None:
    if not STACK_ENV.exists():
        return
    for line in STACK_ENV.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key and not key.startswith("#"):
            os.environ.setdefault(key.strip(), value.strip())


_load_stack_env()
