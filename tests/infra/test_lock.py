"""requirements.lock is in step with requirements.txt, complete and hashed, and bundling installs
the dependency layer from it with --require-hashes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra import bundling
from infra.declaration import REPO_ROOT

PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[normalize(match[1])] = match[2]
    return found


def test_every_direct_requirement_is_locked_at_its_version() -> None:
    direct = pins(REPO_ROOT / "requirements.txt")
    locked = pins(REPO_ROOT / "requirements.lock")
    assert direct, "requirements.txt pins nothing?"
    for name, version in direct.items():
        assert locked.get(name) == version, f"{name}=={version} is not in requirements.lock: run `make lock`"


def test_every_locked_package_carries_hashes() -> None:
    text = (REPO_ROOT / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert len(blocks) == len(pins(REPO_ROOT / "requirements.lock"))
    for block in blocks:
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_bundling_installs_from_the_lock_with_require_hashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(bundling, "LAYER_CACHE", tmp_path / "layers")
    monkeypatch.setattr(bundling, "PIP_CACHE", tmp_path / "pip")
    monkeypatch.setattr(bundling.subprocess, "run", lambda argv, **_: commands.append(argv))
    monkeypatch.setattr(bundling, "runtime_python", lambda: "python3.13")
    built = bundling.build_dependency_layer()
    command, _compileall = commands  # tests/infra/test_bytecode.py: the second one
    assert command[command.index("--requirement") + 1] == str(REPO_ROOT / "requirements.lock")
    assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(command)
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == list(bundling.PIP_PLATFORMS)
    assert (built / ".complete").exists()
