"""tools/audit.py: a finding fails unless a reasoned ignore covers it, and nothing looked up is not clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import audit

LS = "localstack/requirements.lock"
IGNORE = audit.Ignore(LS, "cryptography", "44", "LocalStack 4.14 needs pyopenssl<24.3; loopback only")


def pip_json(name: str, version: str, *ids: str) -> dict:
    return {"dependencies": [{"name": name, "version": version,
                              "vulns": [{"id": i, "fix_versions": ["44.0.1"]} for i in ids]}], "fixes": []}


def test_a_finding_without_an_ignore_fails() -> None:
    report = audit.pip_report("uv.lock", pip_json("cryptography", "43.0.3", "GHSA-79v4-65xg-pq4g"))
    status, lines = audit.judge([report], [IGNORE], "fail")
    assert status == 1
    assert lines == ["FINDING  uv.lock: cryptography 43.0.3 GHSA-79v4-65xg-pq4g (fixed in 44.0.1)"]


def test_an_ignore_covers_its_lock_and_package_below_its_bound_only() -> None:
    below = audit.pip_report(LS, pip_json("Cryptography", "43.0.3", "GHSA-1"))
    assert audit.judge([below], [IGNORE], "fail")[0] == 0
    lifted = audit.pip_report(LS, pip_json("cryptography", "44.0.0", "GHSA-2"))
    assert audit.judge([lifted], [IGNORE], "fail")[0] == 1
    other = audit.pip_report(LS, pip_json("pyopenssl", "24.2.1", "GHSA-3"))
    assert audit.judge([other], [IGNORE], "fail")[0] == 1


def test_a_package_the_service_could_not_look_up_is_not_audited() -> None:
    skipped = {"dependencies": [{"name": "boto3", "skip_reason": "Dependency not found on PyPI"}]}
    report = audit.pip_report("uv.lock", skipped)
    status, lines = audit.judge([report], [], "fail")
    assert status == 2
    assert "NOT AUDITED (1)" in lines[0]
    status, lines = audit.judge([report], [], "warn")
    assert status == 0
    assert lines[-1].startswith("WARNING")


def test_npm_findings_and_an_unreachable_registry() -> None:
    advisory = "https://github.com/advisories/GHSA-67mh-4wv8-2f99"
    found = audit.npm_report({"vulnerabilities": {
        "esbuild": {"fixAvailable": True, "via": [{"source": 1102341, "url": advisory, "range": "<=0.24.2"}]},
        "vite": {"via": ["esbuild"]}}})
    assert [(f.package, f.advisory) for f in found.findings] == [("esbuild", advisory)]
    refused = audit.npm_report({"message": "405 Method Not Allowed"})
    assert refused.findings == [] and "405" in refused.unaudited[0]


def test_an_ignore_without_a_reason_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[[tool.fileshare.audit-ignore]]\nlock = "x"\npackage = "y"\nbelow = "2"\n'
                         'reason = " "\n')
    with pytest.raises(ValueError, match="reason"):
        audit.load_ignores(pyproject)


def test_the_repository_ignores_are_reasoned_and_name_a_lock_that_exists() -> None:
    ignores = audit.load_ignores(audit.REPO_ROOT / "pyproject.toml")
    assert ignores
    for ignore in ignores:
        assert (audit.REPO_ROOT / ignore.lock).is_file()
        assert len(ignore.reason) > 80
