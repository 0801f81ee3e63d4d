"""Every bundled asset carries bytecode written by the runtime's Python with unchecked hashes:
``/opt`` and ``/var/task`` are read-only in Lambda, so a module without a usable ``.pyc`` is compiled
again on every cold start (``infra/bundling.py``). No pip runs here."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from infra import bundling
from infra.declaration import REPO_ROOT

PYC_FLAG_HASH_BASED, PYC_FLAG_CHECK_SOURCE = 0b01, 0b10  # PEP 552: the .pyc header's flags word


def pyc_flags(pyc: Path) -> int:
    return int.from_bytes(pyc.read_bytes()[4:8], "little")


def runtime_magic() -> bytes:
    out = subprocess.run([bundling.runtime_python(), "-c",
                          "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                         capture_output=True, text=True, check=True)
    return bytes.fromhex(out.stdout)


def test_the_runtime_python_is_3_13() -> None:
    out = subprocess.run([bundling.runtime_python(), "-c", "import sys; print(sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(3, 13)"


def test_the_compile_command_is_the_runtime_pythons_compileall_with_unchecked_hashes(tmp_path: Path) -> None:
    command = bundling.compile_command(tmp_path)
    assert command[0] == bundling.runtime_python()
    assert command[1:3] == ["-m", "compileall"]
    assert command[command.index("--invalidation-mode") + 1] == "unchecked-hash"
    assert {"-q", "-j0"} <= set(command)
    assert command[-1] == str(tmp_path)


def test_the_dependency_layer_is_compiled_after_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(bundling, "LAYER_CACHE", tmp_path / "layers")
    monkeypatch.setattr(bundling, "PIP_CACHE", tmp_path / "pip")
    monkeypatch.setattr(bundling.subprocess, "run", lambda argv, **_: commands.append(argv))
    monkeypatch.setattr(bundling, "runtime_python", lambda: "/the/runtime/python3.13")
    built = bundling.build_dependency_layer()
    pip, compileall = commands
    assert pip[1:4] == ["-m", "pip", "install"] and "--no-compile" in pip  # pip's own would use the venv's
    assert compileall == ["/the/runtime/python3.13", "-m", "compileall", "-q", "-j0",
                          "--invalidation-mode", "unchecked-hash",
                          # compiled in the staging folder, then moved in place
                          str(built.with_name(built.name + ".tmp") / "python")]


def test_a_layer_cached_without_bytecode_is_not_reused() -> None:
    """The cache key covers the bytecode mode, so a layer built before this change is rebuilt."""
    old = hashlib.sha256(bundling.REQUIREMENTS.read_bytes())
    old.update(f"{bundling.PYTHON_VERSION}|{'|'.join(bundling.PIP_PLATFORMS)}|require-hashes".encode())
    assert bundling.requirements_hash() != old.hexdigest()[:16]


def test_compiled_bytecode_is_unchecked_hash_based_for_the_runtime(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    bundling.compile_bytecode(tmp_path)
    (pyc,) = (tmp_path / "pkg" / "__pycache__").glob("__init__.cpython-313.pyc")
    assert pyc.read_bytes()[:4] == runtime_magic()
    assert pyc_flags(pyc) == PYC_FLAG_HASH_BASED  # hash-based, and the source is never checked
    assert not pyc_flags(pyc) & PYC_FLAG_CHECK_SOURCE


def test_function_and_shared_layer_assets_carry_bytecode(tmp_path: Path) -> None:
    """Staged through CDK as a deploy stages them: the caches of this checkout left out, then the
    staged copy compiled."""
    outdir = tmp_path / "cdk.out"
    app = App(outdir=str(outdir))
    stack = Stack(app, "Bytecode")
    layer = lambda_.LayerVersion(stack, "Shared", code=bundling.shared_layer_code(compiled=True))
    meta_code = bundling.function_code(REPO_ROOT / "functions" / "meta", compiled=True)
    lambda_.Function(stack, "Meta", runtime=lambda_.Runtime.PYTHON_3_13, handler="handler.lambda_handler",
                     code=meta_code, layers=[layer])
    app.synth()
    resources = json.loads((outdir / "Bytecode.template.json").read_text())["Resources"]
    lambda_types = {"AWS::Lambda::LayerVersion": "Content", "AWS::Lambda::Function": "Code"}
    keys = [r["Properties"][lambda_types[r["Type"]]]["S3Key"]
            for r in resources.values() if r["Type"] in lambda_types]
    shared, meta = (outdir / f"asset.{key.removesuffix('.zip')}" for key in keys)
    sources = sorted(p.relative_to(shared) for p in shared.rglob("*.py"))
    assert Path("python/fileshare/config.py") in sources
    for source in sources:
        pyc = shared / source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert pyc.is_file(), f"{source} has no bytecode in the shared layer"
        assert pyc_flags(pyc) == PYC_FLAG_HASH_BASED
    assert (meta / "__pycache__" / "handler.cpython-313.pyc").is_file()
    assert not list(meta.rglob("tests")) and not list(shared.rglob(".mypy_cache"))


def test_uncompiled_assets_stage_the_sources_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``-c fileshare:bundle=false`` (the infra tests' synth) runs no compileall."""
    def refuse(root: Path) -> None:
        raise AssertionError(f"compiled {root}")

    monkeypatch.setattr(bundling, "compile_bytecode", refuse)
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Plain")
    layer = lambda_.LayerVersion(stack, "Shared", code=bundling.shared_layer_code(compiled=False))
    meta_code = bundling.function_code(REPO_ROOT / "functions" / "meta", compiled=False)
    lambda_.Function(stack, "Meta", runtime=lambda_.Runtime.PYTHON_3_13, handler="handler.lambda_handler",
                     code=meta_code, layers=[layer])
    app.synth()
    assert not list((tmp_path / "cdk.out").rglob("*.pyc"))
