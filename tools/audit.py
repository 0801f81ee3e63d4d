"""Known-vulnerability audits of every lock: pip-audit over the Python ones, npm audit over web/.

``make audit`` runs it (and ``make lint`` runs that).

Each Python lock (an export of uv.lock, or LocalStack's) goes to ``pip-audit --disable-pip
--require-hashes`` (PyPI's advisory API: pip-audit's default service), web/package-lock.json to
``npm audit --package-lock-only``. A finding passes only when an entry of pyproject.toml's
``[tool.fileshare.audit-ignore]`` covers it: the same lock, the same package, an installed version
below the entry's ``below``, and a reason that is not empty. Anything else fails.

A dependency the service could not look up is not "clean": it makes the run *unaudited*. On these
machines neither advisory source answers (PyPI's per-version JSON, which pip-audit reads, is 404
through the registry proxy, api.osv.dev does not resolve, and npm's bulk advisory endpoint answers
405), so ``--unreachable fail`` (the default) exits 2 there, and ``--unreachable warn`` passes with a
warning that names what was not audited. Exit status: 0 clean, 1 findings, 2 not audited.

    python tools/audit.py --lock uv.lock=.local/audit/app.txt --npm web [--unreachable warn]
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

REPO_ROOT = Path(__file__).resolve().parents[1]
NPM_LOCK = "web/package-lock.json"
IGNORE_KEYS = ("lock", "package", "below", "reason")


@dataclass(frozen=True)
class Finding:
    lock: str
    package: str
    version: str
    advisory: str
    fix: str = ""


@dataclass(frozen=True)
class Ignore:
    lock: str
    package: str
    below: str
    reason: str

    def covers(self, finding: Finding) -> bool:
        if finding.lock != self.lock or normalize(finding.package) != normalize(self.package):
            return False
        try:
            return Version(finding.version) < Version(self.below)
        except InvalidVersion:
            return False


@dataclass
class Report:
    findings: list[Finding]
    unaudited: list[str]  # what could not be looked up, with why


def normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def load_ignores(pyproject: Path) -> list[Ignore]:
    """The reasoned ignores; an entry without a reason, lock, package or bound is refused."""
    tool = tomllib.loads(pyproject.read_text()).get("tool", {})
    ignores = []
    for entry in tool.get("fileshare", {}).get("audit-ignore", []):
        missing = [key for key in IGNORE_KEYS if not str(entry.get(key, "")).strip()]
        if missing:
            raise ValueError(f"audit-ignore entry {entry!r} lacks {', '.join(missing)}")
        reason = " ".join(entry["reason"].split())
        ignores.append(Ignore(entry["lock"], entry["package"], entry["below"], reason))
    return ignores


def pip_report(lock: str, report: dict[str, Any]) -> Report:
    """Findings and unaudited packages from ``pip-audit --format json``."""
    findings, unaudited = [], []
    for dependency in report.get("dependencies", []):
        if dependency.get("skip_reason"):
            unaudited.append(f"{lock}: {dependency['skip_reason']}")
            continue
        for vuln in dependency.get("vulns", []):
            findings.append(Finding(lock, dependency["name"], dependency["version"], vuln["id"],
                                    ", ".join(vuln.get("fix_versions", []))))
    return Report(findings, unaudited)


def npm_report(report: dict[str, Any], lock: str = NPM_LOCK) -> Report:
    """Findings from ``npm audit --json``, or the whole lock unaudited when npm could not ask."""
    if "vulnerabilities" not in report:
        why = report.get("message", report)
        return Report([], [f"{lock}: npm audit could not query the registry: {why}"])
    findings = []
    for name, entry in sorted(report["vulnerabilities"].items()):
        for via in entry.get("via", []):
            if isinstance(via, dict):  # a string names another package of the list (the path to it)
                advisory = str(via.get("url") or via.get("source"))
                findings.append(Finding(lock, name, str(via.get("range", "")), advisory,
                                        str(entry.get("fixAvailable", ""))))
    return Report(findings, [])


def system_ca_env() -> dict[str, str]:
    """The environment with the system's CA bundle for requests (pip-audit's HTTP client), which
    otherwise trusts certifi's roots only; a TLS-inspecting proxy's CA is in the system store."""
    env = dict(os.environ)
    cafile = ssl.get_default_verify_paths().cafile
    if cafile and "REQUESTS_CA_BUNDLE" not in env:
        env["REQUESTS_CA_BUNDLE"] = cafile
    return env


def run_pip_audit(lock: str, requirements: Path) -> Report:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes", "--requirement",
             str(requirements), "--format", "json", "--output", out.name, "--progress-spinner", "off"],
            capture_output=True, text=True, check=False, env=system_ca_env())
        text = Path(out.name).read_text()
    if not text.strip():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return Report([], [f"{lock}: pip-audit did not run to the end: {last}"])
    return pip_report(lock, json.loads(text))


def run_npm_audit(folder: Path) -> Report:
    result = subprocess.run(["npm", "audit", "--json", "--package-lock-only"],  # noqa: S607 - npm on PATH
                            cwd=folder, capture_output=True, text=True, check=False)
    try:
        return npm_report(json.loads(result.stdout))
    except ValueError:
        return Report([], [f"{NPM_LOCK}: npm audit gave no JSON: {result.stderr.strip()[-300:]}"])


def judge(reports: list[Report], ignores: list[Ignore], unreachable: str) -> tuple[int, list[str]]:
    """Exit status and the lines to print."""
    lines, status = [], 0
    for finding in (f for report in reports for f in report.findings):
        ignore = next((i for i in ignores if i.covers(finding)), None)
        where = f"{finding.lock}: {finding.package} {finding.version} {finding.advisory}"
        if ignore:
            lines.append(f"ignored  {where} ({ignore.reason})")
        else:
            lines.append(f"FINDING  {where}" + (f" (fixed in {finding.fix})" if finding.fix else ""))
            status = 1
    unaudited = [line for report in reports for line in report.unaudited]
    if unaudited:
        lines.append(f"NOT AUDITED ({len(unaudited)}): the advisory service did not answer for:")
        lines += [f"  {line}" for line in unaudited[:10]]
        if len(unaudited) > 10:
            lines.append(f"  ... and {len(unaudited) - 10} more")
        if unreachable == "fail":
            status = max(status, 2)
        else:
            lines.append("WARNING: passing anyway (--unreachable warn): these locks were NOT audited")
    if status == 0 and not unaudited:
        lines.append("no known vulnerabilities without a reasoned ignore")
    return status, lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", action="append", default=[], metavar="NAME=REQUIREMENTS",
                        help="a hashed requirements file to audit, under the name ignores refer to")
    parser.add_argument("--npm", type=Path, help="a folder with a package-lock.json")
    parser.add_argument("--unreachable", choices=("fail", "warn"), default="fail")
    args = parser.parse_args(argv)
    ignores = load_ignores(REPO_ROOT / "pyproject.toml")
    reports = []
    for spec in args.lock:
        name, _, path = spec.partition("=")
        reports.append(run_pip_audit(name, Path(path)))
    if args.npm:
        reports.append(run_npm_audit(args.npm))
    status, lines = judge(reports, ignores, args.unreachable)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
