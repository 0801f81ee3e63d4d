"""LocalStack's venv follows its lock: a venv installed from another lock is installed again."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackctl.services import localstack_aws


def test_a_changed_lock_reinstalls_the_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("localstack-core==4.14.0 --hash=sha256:aa\n")
    monkeypatch.setattr(localstack_aws, "VENV_DIR", tmp_path / "venv")
    monkeypatch.setattr(localstack_aws, "REQUIREMENTS", lock)
    installs: list[str] = []
    service = localstack_aws.LocalStack()
    monkeypatch.setattr(service, "installed_version", lambda: localstack_aws.LOCALSTACK_VERSION)
    monkeypatch.setattr(service, "_install_venv", lambda: installs.append(lock.read_text()))
    monkeypatch.setattr(service, "_build_service_catalog", lambda: None)
    monkeypatch.delenv(localstack_aws.LocalStack.reuse_env, raising=False)
    (tmp_path / "venv").mkdir()

    service.install()  # the right version, but no record of the lock it came from
    service.install()  # the same lock: nothing to do
    lock.write_text("localstack-core==4.14.0 --hash=sha256:bb\n")  # `make lock` moved a pin
    service.install()

    assert len(installs) == 2
    assert len(list((tmp_path / "venv").glob(".lock-*"))) == 1
