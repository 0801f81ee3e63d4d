"""The cold-import bench (``tests/bench/coldimport.py``) stages what it claims: the ``source`` variant
has no bytecode left anywhere, the ``bytecode`` variant has every module's ``.pyc`` from the runtime's
Python; a fresh ``-B`` interpreter reports which modules it loaded from bytecode; a failed import
breaks the flow. No timing is asserted. The dependency layer is replaced by a tiny stand-in (no pip)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from infra import bundling
from infra.declaration import by_name
from tests.bench import coldimport
from tests.bench.coldstart import baseline_function


@pytest.fixture
def tiny_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    layer = tmp_path / "deps"
    (layer / "python" / "tinydep").mkdir(parents=True)
    (layer / "python" / "tinydep" / "__init__.py").write_text("VALUE = 1\n")
    bundling.compile_bytecode(layer / "python")
    monkeypatch.setattr(bundling, "build_dependency_layer", lambda **_: layer)
    return layer


def test_the_variants_differ_only_in_bytecode(tiny_layer: Path) -> None:
    functions: list[Any] = [baseline_function(), by_name("meta")]
    with coldimport.staged_assets(functions, log=lambda _: None) as variants:
        with_pyc, source = variants["bytecode"], variants["source"]
        assert not list(source.opt.rglob("*.pyc")) and not list(source.task["meta"].rglob("*.pyc"))
        assert (with_pyc.opt / "python" / "tinydep" / "__pycache__").is_dir()
        assert (with_pyc.task["meta"] / "__pycache__" / "handler.cpython-313.pyc").is_file()
        assert (with_pyc.task["baseline"] / "handler.py").is_file()
        for variant in (with_pyc, source):
            sources = sorted(p.relative_to(variant.opt) for p in variant.opt.rglob("*.py"))
            assert {Path("python/fileshare/config.py"), Path("python/tinydep/__init__.py")} <= set(sources)
        staged_root = with_pyc.opt.parents[1]
    assert not staged_root.exists()  # removed afterwards


def test_an_import_reports_its_bytecode_and_a_failure_breaks_the_flow(tiny_layer: Path,
                                                                      tmp_path: Path) -> None:
    python = bundling.runtime_python()
    task = tmp_path / "task"
    task.mkdir()
    (task / "handler.py").write_text("import tinydep\n")
    bundling.compile_bytecode(task)
    staged = coldimport.Staged(opt=tiny_layer, task={"probe": task})
    fn = by_name("meta").__class__(name="probe", description="probe")
    result = coldimport.import_once(python, fn, staged, {})
    assert result["with_pyc"] == result["staged_modules"] == 2  # the handler and tinydep

    (task / "handler.py").write_text("import not_a_module\n")
    # unchecked-hash: the old .pyc would still be used as is (what the bundled assets rely on)
    shutil.rmtree(task / "__pycache__")
    failed = coldimport.import_once(python, fn, coldimport.Staged(opt=tiny_layer, task={"probe": task}), {})
    assert "ModuleNotFoundError" in failed["error"]
    handlers = {"probe": coldimport._aggregate({"bytecode": [failed], "source": [result]})}
    assert coldimport.broken({"handlers": handlers}) == [f"cold import probe (bytecode): {failed['error']}"]
