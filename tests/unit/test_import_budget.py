"""What each function's handler imports at cold start stays what it was: every
``functions/<name>/handler.py`` is imported in a fresh interpreter (a dummy AWS environment, no local
service) and the third-party top-level packages that land in ``sys.modules`` are compared with the
committed budget (``import_budget.json``).

A handler that pulls in a package it did not before (a module-level import of the OpenSearch client
into the files API, say) fails here; so does one that no longer imports a package, so that the budget
stays exact. After a deliberate change, rewrite the budget and commit it with the reason:
``.venv/bin/python -m tests.unit.test_import_budget --write``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"
LAYER = REPO / "layers" / "shared" / "python"
BUDGET = Path(__file__).with_name("import_budget.json")

# No local settings: the import alone must not need the stack (the unit tests' own dummy values).
DUMMY_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "fileshare",
    "PYTHONDONTWRITEBYTECODE": "1",
}

# Imports the handler as the runtime does (its folder and the layer on the path, module ``handler``)
# and prints the top-level names of the third-party packages loaded: modules whose file lives outside
# the standard library and outside the function and layer folders.
PROBE = """
import importlib.util, json, sys, sysconfig
from pathlib import Path
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
stdlib = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib")}
ours = {Path(p).resolve() for p in sys.argv[2:]}
found = set()
for name, mod in list(sys.modules.items()):
    top = name.split(".")[0]
    origin = getattr(mod, "__file__", None)
    if top in sys.stdlib_module_names or top.startswith("_") or not origin:
        continue
    path = Path(origin).resolve()
    if any(path.is_relative_to(root) for root in stdlib | ours) and "site-packages" not in path.parts:
        continue
    found.add(top)
print(json.dumps(sorted(found)))
"""


def handlers() -> list[str]:
    return sorted(p.parent.name for p in FUNCTIONS.glob("*/handler.py"))


def _start(folder: Path) -> subprocess.Popen[str]:
    env = {**DUMMY_ENV, "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{folder}:{LAYER}"}
    command = [sys.executable, "-c", PROBE, str(folder / "handler.py"), str(folder), str(LAYER)]
    return subprocess.Popen(command, env=env, cwd=folder, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(name: str, process: subprocess.Popen[str]) -> list[str]:
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, f"{name}: the handler failed to import\n{stderr[-3000:]}"
    packages: list[str] = json.loads(stdout.strip().splitlines()[-1])
    return packages


def imported(names: list[str]) -> dict[str, list[str]]:
    """The third-party top-level packages each ``functions/<name>/handler.py`` imports at cold start
    (each in its own fresh interpreter; started together, so the wait is the slowest, not the sum)."""
    started = {name: _start(FUNCTIONS / name) for name in names}
    return {name: _finish(name, process) for name, process in started.items()}


@pytest.fixture(scope="module")
def cold_imports() -> dict[str, list[str]]:
    return imported(handlers())


def test_every_handler_has_a_budget() -> None:
    assert sorted(json.loads(BUDGET.read_text())) == handlers(), (
        "a function was added or removed: rewrite the budget (see this module's docstring)")


@pytest.mark.parametrize("name", handlers())
def test_a_handler_imports_what_its_budget_allows(name: str, cold_imports: dict[str, list[str]]) -> None:
    budget = set(json.loads(BUDGET.read_text()).get(name, []))
    actual = set(cold_imports[name])
    assert not actual - budget, (
        f"{name}'s handler now imports {sorted(actual - budget)} at cold start: make the import lazy "
        "(with a '# cold start:' comment) or, if deliberate, rewrite the budget")
    assert not budget - actual, (
        f"{name}'s handler no longer imports {sorted(budget - actual)}: rewrite the budget to keep it exact")


def test_the_probe_sees_a_third_party_import(tmp_path: Path) -> None:
    """The probe is not blind: a handler importing a third-party package reports it; the standard
    library and the handler's own folder are not counted."""
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / "handler.py").write_text("import json, helper\nimport jmespath\n")
    (folder / "helper.py").write_text("VALUE = 1\n")
    assert _finish("probe", _start(folder)) == ["jmespath"]


def write() -> None:
    budget = imported(handlers())
    BUDGET.write_text(json.dumps(budget, indent=1, sort_keys=True) + "\n")
    print(f"wrote {BUDGET.relative_to(REPO)} ({len(budget)} handlers)")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.unit.test_import_budget --write")
    write()
