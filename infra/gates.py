"""CloudFormation's own linters as gates on the synthesized templates (``make synth`` runs this).

``python -m infra.gates cdk.out --tools .local/iac-tools/bin`` runs, offline, on every template in
``cdk.out``: each stage's root ``<stack>.template.json`` and its nested stacks'
``*.nested.template.json`` (the API and the alarms live there, see ``infra/stack.py``):

* cfn-lint: zero findings except the rules in :data:`CFN_LINT_IGNORES` (CDK artefacts, each with
  its reason);
* checkov (CloudFormation framework): zero failed checks; a check that does not apply to a resource
  is skipped next to that resource in code (``infra.nag.skip_checkov``), with its reason, which
  checkov reports as the skip's comment.

It prints one line per tool and template and exits 1 when either finds anything. No CDK import:
it reads the cloud assembly only. The tools live in their own venv (uv.lock's ``iac`` group),
installed by ``infra/synth.mk``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.templates import read_assembly

MIN_REASON_LENGTH = 40  # as infra.nag's acknowledgments

# cfn-lint rules that only flag how CDK writes templates, never a deployment problem.
CFN_LINT_IGNORES: dict[str, str] = {
    "W3005": (
        "CDK emits an explicit DependsOn for node.add_dependency() and for its own ordering (roles "
        "before functions, log groups before the cluster) even where a Ref/GetAtt already implies it; "
        "the duplicate is harmless and CloudFormation honours either."
    ),
}


@dataclass(frozen=True)
class Finding:
    tool: str
    template: str
    rule: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"{self.tool} {self.template}: {self.rule} {self.resource}: {self.message}"


def templates(assembly: Path) -> list[Path]:
    """Every template file, root and nested (``*.template.json`` matches ``*.nested.template.json``);
    with a manifest, every stack's nested templates must be among them."""
    found = sorted(assembly.glob("*.template.json"))
    if not found:
        raise SystemExit(f"no *.template.json in {assembly}: run cdk synth first")
    if (assembly / "manifest.json").exists():
        expected = {path for stage in read_assembly(assembly).values() for path in stage.files()}
        missing = expected - {p.name for p in found}
        if missing:
            raise SystemExit(f"templates of the assembly not found in {assembly}: {sorted(missing)}")
    return found


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_UPDATE_CHECK": "1"}  # offline checkov
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)  # noqa: S603


def cfn_lint(tools: Path, paths: list[Path]) -> list[Finding]:
    argv = [str(tools / "cfn-lint"), "--format", "json", "--ignore-checks", *CFN_LINT_IGNORES, "--",
            *map(str, paths)]
    result = _run(argv)
    if result.returncode & 1 or not result.stdout.strip():  # exit code bits: 2 error, 4 warning, 8 info
        raise RuntimeError(f"cfn-lint failed to run ({result.returncode}): {result.stderr[-2000:]}")
    matches: list[dict[str, Any]] = json.loads(result.stdout)
    return [
        Finding("cfn-lint", Path(m["Filename"]).name, m["Rule"]["Id"],
                "/".join(str(p) for p in m["Location"]["Path"][:2]), m["Message"])
        for m in matches
    ]


def checkov_results(tools: Path, paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """checkov's failed and skipped checks (with ``file_path``), one run over all templates."""
    argv = [str(tools / "checkov"), "--framework", "cloudformation", "--output", "json", "--compact",
            "--skip-download", "--soft-fail"]
    for path in paths:
        argv += ["--file", str(path)]
    result = _run(argv)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"checkov failed to run ({result.returncode}): {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    merged: dict[str, list[dict[str, Any]]] = {key: [] for key in
                                               ("failed_checks", "skipped_checks", "parsing_errors")}
    for item in reports:
        results = item.get("results", {})
        for key in merged:
            merged[key] += results.get(key, [])
    return merged


def checkov(tools: Path, paths: list[Path]) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Failed checks, and skips without a real reason, as findings; and the skipped checks."""
    results = checkov_results(tools, paths)
    findings = [
        Finding("checkov", Path(c["file_path"]).name, c["check_id"], c["resource"], c["check_name"])
        for c in results["failed_checks"]
    ]
    for skipped in results["skipped_checks"]:
        comment = (skipped.get("check_result") or {}).get("suppress_comment") or ""
        if len(comment) < MIN_REASON_LENGTH:
            findings.append(Finding("checkov", Path(skipped["file_path"]).name, skipped["check_id"],
                                    skipped["resource"], f"skipped without a specific reason: {comment!r}"))
    findings += [Finding("checkov", Path(str(p)).name, "parse", "-", "could not be parsed")
                 for p in results["parsing_errors"]]
    return findings, results["skipped_checks"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("assembly", nargs="?", default="cdk.out")
    parser.add_argument("--tools", default=".local/iac-tools/bin", help="folder with cfn-lint and checkov")
    args = parser.parse_args(argv)
    tools = Path(args.tools)
    paths = templates(Path(args.assembly))
    lint = cfn_lint(tools, paths)
    found, skipped = checkov(tools, paths)
    for path in paths:
        print(f"cfn-lint {path.name}: {sum(f.template == path.name for f in lint)} findings "
              f"(ignored rules: {', '.join(CFN_LINT_IGNORES)})")
        print(f"checkov  {path.name}: {sum(f.template == path.name for f in found)} failed, "
              f"{sum(Path(s['file_path']).name == path.name for s in skipped)} skipped with reasons")
    failed = lint + found
    for finding in failed:
        print(f"  {finding}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
