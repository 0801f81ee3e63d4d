"""Tests of the local IAM gate: run a block with one grant taken out of a function's role."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

from lambdarun.iam import hooks


@contextlib.contextmanager
def without_grant(function: str, action: str) -> Iterator[None]:
    """``function``'s synthesized role minus ``action`` (every statement that grants it) inside the
    block; the gate as it was afterwards. Fails when the gate is off (``FILESHARE_IAM=off``)."""
    gate = hooks.installed()
    assert gate is not None, "the local IAM gate is not installed (FILESHARE_IAM=off, or no make up)"
    roles = copy.deepcopy(dict(gate.roles_doc))
    statements = roles["functions"][function]
    for statement in statements:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        statement["Action"] = [a for a in actions if a != action]
    roles["functions"][function] = [s for s in statements if s["Action"]]
    hooks.install(hooks.Gate(roles, gate.env, usage_dir=None))
    try:
        yield
    finally:
        hooks.install(gate)
