"""Phase ``coldimport``: each handler's import from staged assets, with and without bytecode.

In Lambda ``/opt`` (the layers) and ``/var/task`` (the function's code) are read-only, so a module
whose ``.pyc`` is not in the asset is compiled again on every cold start. This phase stages the
assets as ``infra/bundling.py`` does (the dependency layer pip-built for this machine's architecture
from ``requirements.lock``, then the shared layer and each function's code) twice:

- ``bytecode``: as bundled, every ``.pyc`` compiled by the runtime's Python (unchecked hashes);
- ``source``: the same files with every ``.pyc`` left out (what a layer without bytecode ships).

Both copies are made read-only, and each import runs in a fresh ``python3.13 -B -I -S`` (``-B``: no
``.pyc`` is written, as on a read-only ``/opt``; ``-I`` would otherwise ignore
``PYTHONDONTWRITEBYTECODE``) with the function's own environment (tracing on, as deployed) and only
the staged folders on ``sys.path``. The baseline is the cold phase's minimal Powertools handler
(``tests/bench/baseline``), imported the same way in the same run, so each figure also stands as a
ratio. Per handler and variant the median over ``rounds``; the variants alternate within a round.
Nothing is invoked: no service is needed. The same staged layer then gives the tracers' cold-start
cost, OpenTelemetry against the X-Ray SDK it replaced (``tests/bench/tracers.py``).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import tracers
from tests.bench.coldstart import AS_DEPLOYED, BASELINE, BASELINE_DIR, baseline_function
from tests.bench.common import STOP, wait_cpu_quiet

VARIANTS = ("bytecode", "source")

#: Runs in the fresh interpreter: the staged folders first on sys.path, then the handler's module.
IMPORTER = r'''
import importlib, json, os, sys, time
task, opt, module = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path[:0] = [task, os.path.join(opt, "python")]
started = time.perf_counter()
importlib.import_module(module)
import_ms = (time.perf_counter() - started) * 1000
staged = [m for m in list(sys.modules.values())
          if (getattr(m, "__file__", None) or "").startswith((task, opt)) and m.__file__.endswith(".py")]
with_pyc = sum(1 for m in staged if getattr(m, "__cached__", None) and os.path.exists(m.__cached__))
print("@@IMPORT@@" + json.dumps({"import_ms": import_ms, "staged_modules": len(staged),
                                 "with_pyc": with_pyc}))
'''


@dataclass(frozen=True)
class Staged:
    """One variant's assets: ``task[name]`` is a function's code folder, ``opt`` the layers."""

    opt: Path
    task: dict[str, Path]


def _strip_bytecode(root: Path) -> None:
    for cache in list(root.rglob("__pycache__")):
        shutil.rmtree(cache)
    for pyc in root.rglob("*.pyc"):
        pyc.unlink()


def _read_only(root: Path, writable: bool = False) -> None:
    """chmod the tree (root ignores it; ``-B`` is what keeps the interpreter from writing)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


@contextmanager
def staged_assets(functions: list[Any], log: Callable[[str], None] = print) -> Iterator[dict[str, Staged]]:
    """Both variants staged under a temporary folder, removed afterwards."""
    from infra import bundling

    log("bench: coldimport: staging the dependency layer (pip, cached per lock) and the code...")
    layer = bundling.build_dependency_layer(platforms=bundling.host_platforms())
    root = Path(tempfile.mkdtemp(prefix="fileshare-coldimport-"))
    try:
        variants: dict[str, Staged] = {}
        for variant in VARIANTS:
            opt = root / variant / "opt"
            shutil.copytree(layer / "python", opt / "python")  # Lambda unpacks the layers in order
            shared = root / variant / "shared"
            bundling.copy_code(bundling.SHARED_LAYER_DIR, shared)
            bundling.compile_bytecode(shared)
            shutil.copytree(shared / "python", opt / "python", dirs_exist_ok=True)
            task: dict[str, Path] = {}
            for fn in functions:
                task[fn.name] = root / variant / "task" / fn.name
                code_dir = BASELINE_DIR / BASELINE if fn.name == BASELINE else fn.code_dir
                bundling.copy_code(code_dir, task[fn.name])
                if fn.name == BASELINE:  # Powertools' default tracer: the X-Ray SDK, no longer in the layer
                    tracers.stage_xray_sdk(task[fn.name])
                bundling.compile_bytecode(task[fn.name])
            if variant == "source":
                _strip_bytecode(root / variant)
            _read_only(root / variant)
            variants[variant] = Staged(opt, task)
        yield variants
    finally:
        _read_only(root, writable=True)
        shutil.rmtree(root, ignore_errors=True)


def import_once(python: str, fn: Any, staged: Staged, env: Mapping[str, str]) -> dict[str, Any]:
    """One fresh interpreter importing ``fn``'s handler module from ``staged``."""
    from lambdarun.environment import function_env

    task = staged.task[fn.name]
    proc = subprocess.run(
        [python, "-B", "-I", "-S", "-c", IMPORTER, str(task), str(staged.opt), fn.handler.rsplit(".", 1)[0]],
        capture_output=True, text=True, env={**function_env(fn, env, task), **AS_DEPLOYED}, cwd=task,
        timeout=120, check=False)
    if "@@IMPORT@@" not in proc.stdout:
        stderr = proc.stderr.strip()
        return {"error": stderr.splitlines()[-1] if stderr else f"exit {proc.returncode}"}
    result: dict[str, Any] = json.loads(proc.stdout.rsplit("@@IMPORT@@", 1)[1])
    return result


def measure_cold_imports(env: Mapping[str, str], *, rounds: int = 3, quiet_limit_s: float = 3.0,
                         log: Callable[[str], None] = print) -> dict[str, Any]:
    """Per handler (the baseline first): the median import time from each variant, and the ratios."""
    from infra import bundling
    from infra.declaration import FUNCTIONS

    python = bundling.runtime_python()
    functions = [baseline_function(), *FUNCTIONS]
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {
        fn.name: {variant: [] for variant in VARIANTS} for fn in functions}
    with staged_assets(functions, log) as variants:
        for round_index in range(rounds):
            order = VARIANTS if round_index % 2 == 0 else tuple(reversed(VARIANTS))
            for fn in functions:
                for variant in order:
                    if STOP.is_set():
                        break
                    wait_cpu_quiet(limit_s=quiet_limit_s)
                    samples[fn.name][variant].append(import_once(python, fn, variants[variant], env))
        # the tracers' cold-start cost, from the layer as bundled (the baseline's folder has X-Ray)
        staged = variants["bytecode"]
        traced = tracers.measure(python, staged.opt, staged.task[BASELINE], dict(env), rounds=max(rounds, 3),
                                 quiet_limit_s=quiet_limit_s)
    results = {name: _aggregate(runs) for name, runs in samples.items()}
    base = results[BASELINE]
    for name, result in results.items():
        for variant in VARIANTS:
            ms, base_ms = result[variant]["import_ms"], base[variant]["import_ms"]
            result[variant]["baseline_ratio"] = round(ms / base_ms, 2) if ms and base_ms else None
        with_pyc, without = result["bytecode"]["import_ms"], result["source"]["import_ms"]
        result["source_over_bytecode"] = round(without / with_pyc, 2) if with_pyc and without else None
        result["baseline"] = name == BASELINE
    return {"python": python, "rounds": rounds, "handlers": results, "tracers": traced}


def _aggregate(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for variant, samples in runs.items():
        ok = [s for s in samples if "import_ms" in s]
        times = [s["import_ms"] for s in ok]
        errors = [s["error"] for s in samples if "error" in s]
        last = ok[-1] if ok else {}
        out[variant] = {"import_ms": round(statistics.median(times), 1) if times else None,
                        "samples_ms": [round(t, 1) for t in times], "errors": errors,
                        "staged_modules": last.get("staged_modules"), "with_pyc": last.get("with_pyc")}
    return out


def report_lines(result: dict[str, Any]) -> list[list[str]]:
    """The table ``make bench`` prints: one row per handler."""
    rows = [["handler", "with .pyc", "without", "without / with", "with / baseline", "without / baseline",
             "modules with .pyc (with | without)"]]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}x"

    for name, r in result["handlers"].items():
        with_pyc, source = r["bytecode"], r["source"]
        rows.append([name, ms(with_pyc["import_ms"]), ms(source["import_ms"]),
                     ratio(r["source_over_bytecode"]), ratio(with_pyc["baseline_ratio"]),
                     ratio(source["baseline_ratio"]),
                     f"{with_pyc['with_pyc']}/{with_pyc['staged_modules']} | "
                     f"{source['with_pyc']}/{source['staged_modules']}"
                     + (f"  ERROR {(with_pyc['errors'] or source['errors'])[0]}"
                        if with_pyc["errors"] or source["errors"] else "")])
    return rows


def broken(result: dict[str, Any]) -> list[str]:
    """A handler that could not be imported breaks the flow (timings never do)."""
    return [f"cold import {name} ({variant}): {r[variant]['errors'][0]}"
            for name, r in result.get("handlers", {}).items() for variant in VARIANTS if r[variant]["errors"]
            ] + tracers.broken(result.get("tracers", {}))

