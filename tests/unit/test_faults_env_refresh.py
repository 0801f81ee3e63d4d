"""After a fault test restarts a service, the dev env file gets the dev namespace's changed
variables and the test namespace is re-provisioned on the service into test.env and this process
(tests run in the test namespace): never the dev values into the test process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from infra.declaration import LocalNamespace
from stackctl import stack
from tests.support import faults


class _Restarted:
    """A service whose restart moved its endpoint (dev and test namespaces alike)."""

    name = "fake"

    def env(self) -> dict[str, str]:
        return {"FAKE_URL": "http://127.0.0.1:2/dev"}

    def provision_namespace(self, namespace: LocalNamespace) -> dict[str, str]:
        return {"FAKE_URL": f"http://127.0.0.1:2/{namespace.prefix}"}


def test_a_restart_refreshes_both_env_files_and_gives_the_process_the_test_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev_file, test_file = tmp_path / "stack.env", tmp_path / "test.env"
    dev_file.write_text("FAKE_URL=http://127.0.0.1:1/dev\nOTHER=dev\n")
    test_file.write_text("FAKE_URL=http://127.0.0.1:1/fileshare-test\nOTHER=test\n")
    monkeypatch.setattr(faults, "STACK_ENV_FILE", dev_file)
    monkeypatch.setattr(stack, "env_file", lambda namespace: test_file)
    monkeypatch.setattr(stack, "stack_env", lambda services=None: {})
    monkeypatch.setenv("FAKE_URL", "http://127.0.0.1:1/fileshare-test")
    service: Any = _Restarted()

    faults._refresh_stack_env(service)

    assert "FAKE_URL=http://127.0.0.1:2/dev" in dev_file.read_text()
    test_env = stack.load_env(test_file)
    assert test_env["FAKE_URL"] == "http://127.0.0.1:2/fileshare-test" and test_env["OTHER"] == "test"
    assert os.environ["FAKE_URL"] == "http://127.0.0.1:2/fileshare-test"
