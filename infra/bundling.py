"""Lambda code and layers, bundled on this machine without Docker.

The dependency layer is ``pip install --require-hashes --no-deps --target`` from ``requirements.lock``
(every transitive package pinned with its hashes; ``make lock`` exports it from uv.lock's runtime group)
for the Lambda platform (arm64, CPython 3.13, manylinux wheels only), cached under
``.local/cache/lambda-layers/<hash>`` so it is built once per lock; CDK then stages that folder. With
``-c fileshare:bundle=false`` (the tests) no pip runs: the layer holds the lock only, which keeps
synthesis fast and offline. ``tests/integration/runtime/test_assets.py`` builds the same layer for this
machine's architecture (:func:`host_platforms`) and runs every handler from the assets alone.

Every bundled asset carries its bytecode, compiled by the runtime's Python (:func:`runtime_python`):
``/opt`` and ``/var/task`` are read-only in Lambda, so a module without a ``.pyc`` is compiled again
on every cold start (the dependency layer alone is ~96 MB of Python: its imports took 2.0-2.5 s
without bytecode and 0.6-0.9 s with it; ``make bench``'s ``coldimport`` phase measures each handler).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.declaration import REPO_ROOT

REQUIREMENTS = REPO_ROOT / "requirements.lock"  # exported from uv.lock by `make lock`, with hashes
SHARED_LAYER_DIR = REPO_ROOT / "layers" / "shared"
CACHE_DIR = REPO_ROOT / ".local" / "cache"
LAYER_CACHE = CACHE_DIR / "lambda-layers"
PIP_CACHE = CACHE_DIR / "pip-lambda"

# Lambda python3.13 runs on Amazon Linux 2023 (glibc 2.34). pip does not expand an explicit
# --platform to older manylinux tags, so every glibc level wheels are published for is listed.
def manylinux_platforms(machine: str) -> tuple[str, ...]:
    return (f"manylinux_2_34_{machine}", f"manylinux_2_28_{machine}", f"manylinux2014_{machine}")


PIP_PLATFORMS = manylinux_platforms("aarch64")
PYTHON_VERSION = "3.13"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", "tests"]


#: How the bundled ``.pyc`` files are checked against their source: not at all. ``timestamp`` (the
#: default) compares the source's mtime recorded in the ``.pyc`` with the file's, and a zip asset does
#: not keep mtimes reliably (CDK's staging and the zip normalize them; Lambda extracts what is left), so
#: a mismatch would make Python ignore the ``.pyc`` and compile again in memory, every cold start, with
#: nothing to show for it. ``checked-hash`` would read and hash every source file on import. The asset
#: is immutable once deployed, so ``unchecked-hash`` is exact: the ``.pyc`` is used as is.
BYTECODE_INVALIDATION_MODE = "unchecked-hash"
PY313_GLOB = "/root/.pyenv/versions/3.13*/bin/python3.13"  # as the Makefile's PY313 looks for it


@cache
def runtime_python() -> str:
    """The Lambda runtime's Python (3.13) on this machine: ``FILESHARE_PY313``, else the newest pyenv
    3.13, else ``python3.13`` on PATH. Bytecode is only valid for the minor version that wrote it."""
    candidates = [os.environ.get("FILESHARE_PY313", "")]
    candidates += sorted(
        (str(p) for p in Path("/").glob(PY313_GLOB.lstrip("/"))),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parents[1].name.split(".")],
        reverse=True,
    )
    candidates.append(shutil.which("python3.13") or "")
    for candidate in filter(None, candidates):
        probe = subprocess.run(  # noqa: S603 - a fixed argv
            [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 13)"],
            capture_output=True, check=False,
        )
        if probe.returncode == 0:
            return candidate
    raise RuntimeError(f"Python {PYTHON_VERSION} not found (FILESHARE_PY313, {PY313_GLOB}, python3.13 on "
                       "PATH): the Lambda assets need bytecode compiled by the runtime's Python")


def compile_command(root: Path, python: str | None = None) -> list[str]:
    """compileall over ``root`` with the runtime's Python, all cores, ``.pyc`` trusted as is."""
    return [python or runtime_python(), "-m", "compileall", "-q", "-j0",
            "--invalidation-mode", BYTECODE_INVALIDATION_MODE, str(root)]


def compile_bytecode(root: Path) -> None:
    subprocess.run(compile_command(root), check=True)  # noqa: S603 - fixed argv, no shell


def copy_code(source: Path, target: Path) -> None:
    """Copy a code folder as CDK would stage it (:data:`ASSET_EXCLUDES` left out)."""
    patterns = [pattern.removeprefix("**/") for pattern in ASSET_EXCLUDES]

    def ignored(directory: str, names: list[str]) -> set[str]:
        return {name for name in names if any(fnmatch.fnmatch(name, pattern) for pattern in patterns)}

    shutil.copytree(source, target, ignore=ignored, dirs_exist_ok=True)


def host_platforms() -> tuple[str, ...]:
    """The same wheel tags for this machine's architecture (to run the bundled layer here)."""
    return manylinux_platforms(platform.machine())


def requirements_hash(requirements: Path = REQUIREMENTS, platforms: Sequence[str] = PIP_PLATFORMS) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{PYTHON_VERSION}|{'|'.join(platforms)}|require-hashes".encode())
    digest.update(f"|bytecode-{BYTECODE_INVALIDATION_MODE}".encode())  # a layer built without is rebuilt
    return digest.hexdigest()[:16]


def build_dependency_layer(
    requirements: Path = REQUIREMENTS, platforms: Sequence[str] = PIP_PLATFORMS
) -> Path:
    """Build (once) and return the cached folder whose ``python/`` holds the Lambda wheels."""
    target = LAYER_CACHE / f"deps-{requirements_hash(requirements, platforms)}"
    if (target / ".complete").exists():
        return target
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "python").mkdir(parents=True)
    PIP_CACHE.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",  # every package, transitive ones too, must match a hash in the lock
        "--no-deps",  # the lock is complete: nothing is resolved at build time
        "--requirement",
        str(requirements),
        "--target",
        str(staging / "python"),
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-compile",
        "--cache-dir",
        str(PIP_CACHE),
    ]
    for tag in platforms:
        command += ["--platform", tag]
    print(f"bundling dependency layer from {requirements.name} (pip, {platforms[0]})", file=sys.stderr)
    subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell
    for cache_dir in (staging / "python").rglob("__pycache__"):
        shutil.rmtree(cache_dir, ignore_errors=True)
    compile_bytecode(staging / "python")
    (staging / ".complete").write_text(requirements_hash(requirements, platforms))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


@jsii.implements(ILocalBundling)
class _DependencyLayerBundling:
    """Copies the cached pip build into CDK's bundling output folder (no Docker)."""

    def __init__(self, requirements: Path, real: bool, platforms: Sequence[str]) -> None:
        self._requirements = requirements
        self._real = real
        self._platforms = tuple(platforms)

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        out = Path(output_dir)
        if self._real:
            source = build_dependency_layer(self._requirements, self._platforms)
            shutil.copytree(source / "python", out / "python", dirs_exist_ok=True)
        else:
            (out / "python").mkdir(parents=True, exist_ok=True)
            shutil.copy2(self._requirements, out / "python" / self._requirements.name)
        return True


def dependency_layer_code(
    *, real: bool, requirements: Path = REQUIREMENTS, platforms: Sequence[str] = PIP_PLATFORMS
) -> lambda_.Code:
    """The third-party dependency layer; ``real=False`` skips pip (fast synth for tests)."""
    mode = "pip" if real else "unbundled"
    return lambda_.Code.from_asset(
        str(requirements.parent),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=f"{mode}-{requirements_hash(requirements, platforms)}",
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling-only"),
            # jsii calls try_bundle(output_dir, options) positionally; the Python protocol spells the
            # options out as keywords, hence the cast.
            local=cast(ILocalBundling, _DependencyLayerBundling(requirements, real, platforms)),
        ),
    )


def content_hash(*directories: Path) -> str:
    """A stable hash of the files under ``directories`` (names and bytes; caches excluded)."""
    digest = hashlib.sha256()
    for directory in directories:
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@jsii.implements(ILocalBundling)
class _CompiledCodeBundling:
    """Copies a code folder into CDK's bundling output folder and compiles its bytecode (no Docker)."""

    def __init__(self, source: Path) -> None:
        self._source = source

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        copy_code(self._source, Path(output_dir))
        compile_bytecode(Path(output_dir))
        return True


def _code(source: Path, *, compiled: bool) -> lambda_.Code:
    if not compiled:
        return lambda_.Code.from_asset(str(source), exclude=ASSET_EXCLUDES)
    return lambda_.Code.from_asset(
        str(source),
        exclude=ASSET_EXCLUDES,  # the source fingerprint; the bundler leaves the same out
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling-only"),
            local=cast(ILocalBundling, _CompiledCodeBundling(source)),
        ),
    )


def shared_layer_code(*, compiled: bool = True) -> lambda_.Code:
    """The domain package: ``layers/shared`` already has the Lambda layer layout (``python/``);
    ``compiled=False`` stages the sources alone (fast synth for tests)."""
    return _code(SHARED_LAYER_DIR, compiled=compiled)


def function_code(code_dir: Path, *, compiled: bool = True) -> lambda_.Code:
    if not code_dir.is_dir():
        raise FileNotFoundError(f"function code folder {code_dir} does not exist (see infra/declaration.py)")
    return _code(code_dir, compiled=compiled)
