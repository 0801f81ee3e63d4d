"""Test-wide setup: point every test at the local stack that `make test` brought up.

The stack manager writes the environment the functions use to `.local/stack.env`; loading it
here (before any `fileshare` import caches settings) makes tests talk to the same real services.
Variables already set in the environment win, so CI or a developer can point tests elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from lambdarun.environment import load_env_file

STACK_ENV = Path(__file__).resolve().parents[1] / ".local" / "stack.env"

for _key, _value in load_env_file(STACK_ENV).items():
    os.environ.setdefault(_key, _value)
