"""Test-wide setup: point every test at the test namespace of the local stack `make up` brought up.

`make up` provisions two namespaces on the same services (``infra.declaration.LocalNamespace``):
the dev one (`.local/stack.env`, what `make dev` serves) and the test one (`.local/test.env`: its
own database, bucket, queues, topic, consumer groups, search alias, user pool, Redis database and
gateway port). Loading the test one here (before any `fileshare` import caches settings) makes tests
talk to the real services without touching a developer's files, accounts or consumers.

Variables already set in the environment win, so CI or a developer can point tests elsewhere; a
shell that exported `.local/stack.env` itself does not count (its dev values are replaced).
"""

from __future__ import annotations

import os
from pathlib import Path

from lambdarun.environment import load_env_file

LOCAL = Path(__file__).resolve().parents[1] / ".local"
TEST_ENV = LOCAL / "test.env"
DEV_ENV = LOCAL / "stack.env"

_dev = load_env_file(DEV_ENV)
for _key, _value in load_env_file(TEST_ENV).items():
    if _key not in os.environ or os.environ[_key] == _dev.get(_key):
        os.environ[_key] = _value

# The local IAM gate (lambdarun.iam): handler calls made in this process are checked against the
# calling function's synthesized role (tests/integration's Api acts as the function it calls);
# worker processes of the local runtime check theirs by themselves.
from lambdarun.iam import hooks, roles  # noqa: E402

if os.environ.get("FILESHARE_IAM", "on") != "off" and roles.ROLES_FILE.exists():
    os.environ.setdefault(hooks.ROLES_ENV, str(roles.ROLES_FILE))
    os.environ.setdefault(hooks.USAGE_ENV, str(roles.USAGE_DIR))
    hooks.install_from_env()

# tests/restart stops and restarts the whole (shared) stack: `make test` runs it as a separate,
# final step with FILESHARE_STACK_RESTART=1 (`make test-restart` alone); a plain `pytest` leaves it out.
collect_ignore_glob = [] if os.environ.get("FILESHARE_STACK_RESTART") == "1" else ["restart/*"]
