"""One lock: pyproject.toml declares every dependency, uv.lock resolves them, and the exported locks
(the dependency layer's, LocalStack's) are complete and hashed; the tests run the very versions the
layer ships, and bundling installs the layer from its lock with --require-hashes. That the exports
are current is `make lock-check`'s job (it needs uv; `make lint` runs it)."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra import bundling
from infra.declaration import REPO_ROOT
from stackctl.services import localstack_aws

PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")
LAYER_LOCK = REPO_ROOT / "requirements.lock"
LOCALSTACK_LOCK = REPO_ROOT / "localstack" / "requirements.lock"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
UV_LOCK = tomllib.loads((REPO_ROOT / "uv.lock").read_text())


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[normalize(match[1])] = match[2]
    return found


def group(name: str) -> list[Requirement]:
    return [Requirement(spec) for spec in PYPROJECT["dependency-groups"][name]]


@pytest.mark.parametrize(("name", "lock"), [("runtime", LAYER_LOCK), ("localstack", LOCALSTACK_LOCK)])
def test_every_declared_dependency_is_locked_within_its_specifier(name: str, lock: Path) -> None:
    locked = pins(lock)
    for requirement in group(name):
        version = locked.get(normalize(requirement.name))
        assert version, f"{requirement.name} ({name} group) is not in {lock.name}: run `make lock`"
        assert requirement.specifier.contains(version), f"{requirement} but {lock.name} has {version}"


@pytest.mark.parametrize("lock", [LAYER_LOCK, LOCALSTACK_LOCK])
def test_every_locked_package_carries_hashes(lock: Path) -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text().split("\n", 2)[2])
    assert len(blocks) == len(pins(lock)) > 10
    for block in blocks:
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_tests_run_the_versions_the_layer_ships() -> None:
    """botocore above all: the tests once ran another botocore than the one deployed."""
    shipped = pins(LAYER_LOCK)
    assert "botocore" in shipped
    here = {name: importlib.metadata.version(name) for name in shipped}
    assert here == shipped, "this venv is not the lock's: run `make venv`"


def test_the_lock_has_wheels_for_both_lambda_architectures() -> None:
    """The layer is built for arm64 (Lambda) and for this machine (x86_64) from the same lock."""
    packages = {(normalize(p["name"]), p["version"]): p for p in UV_LOCK["package"]}
    for name, version in pins(LAYER_LOCK).items():
        wheels = [wheel["url"].rsplit("/", 1)[-1] for wheel in packages[(name, version)].get("wheels", [])]
        if any(w.endswith(("-none-any.whl", "-abi3-any.whl")) or "-py3-none-" in w for w in wheels):
            continue
        for machine in ("aarch64", "x86_64"):
            # a CPython 3.13 wheel, or a stable-ABI one (cp3X-abi3, e.g. cryptography's) 3.13 loads
            assert any(("cp313" in w or "-abi3-" in w) and "manylinux" in w and machine in w
                       for w in wheels), (name, machine)


def test_the_bootstrapped_uv_is_the_locked_one() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    bootstrapped = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert bootstrapped
    locked = [p["version"] for p in UV_LOCK["package"] if p["name"] == "uv"]
    assert locked == [bootstrapped[1]]


def test_localstack_is_installed_at_the_locked_version_from_its_lock() -> None:
    assert pins(LOCALSTACK_LOCK)["localstack-core"] == localstack_aws.LOCALSTACK_VERSION
    assert localstack_aws.REQUIREMENTS == LOCALSTACK_LOCK


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
    assert command[command.index("--requirement") + 1] == str(LAYER_LOCK)
    assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(command)
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == list(bundling.PIP_PLATFORMS)
    assert (built / ".complete").exists()
