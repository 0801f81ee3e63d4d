"""The cfn-lint / checkov gates of ``make synth``: every ignore and skip carries a reason, skips sit on
the resources they excuse, and the gate fails on a finding (driven here by stand-in tools that print
what the real ones print, so the test needs neither installed)."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from infra import gates, nag

from .conftest import Assembly

CFN_LINT_RULE = re.compile(r"^[EWI]\d{4}$")


def test_every_cfn_lint_ignore_is_a_rule_with_a_reason() -> None:
    assert gates.CFN_LINT_IGNORES, "the ignore list is expected to hold the CDK artefact W3005"
    for rule, reason in gates.CFN_LINT_IGNORES.items():
        assert CFN_LINT_RULE.match(rule), rule
        assert len(reason) >= gates.MIN_REASON_LENGTH, (rule, reason)


def checkov_skips(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(logical id, check id, comment) of every checkov skip declared in a template."""
    found = []
    for logical, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            found.append((logical, skip["id"], skip.get("comment", "")))
    return found


@pytest.mark.parametrize("which", ["real", "full"])
def test_every_checkov_skip_names_a_check_and_gives_a_reason(
    assembly: Assembly, full_assembly: Assembly, which: str
) -> None:
    source = assembly if which == "real" else full_assembly
    for name, template in source.templates.items():
        skips = checkov_skips(template)
        assert skips, f"{name}: no checkov skips found: is the metadata still written?"
        for logical, check, comment in skips:
            assert nag.CHECKOV_ID.match(check), (name, logical, check)
            assert len(comment) >= nag.MIN_REASON_LENGTH, (name, logical, check, comment)


def test_function_dlq_skip_says_where_failures_go(assembly: Assembly) -> None:
    template = assembly.templates["Fileshare-prod"]
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
    reasons = {
        k: {s["id"]: s["comment"] for s in v["Metadata"]["checkov"]["skip"]}
        for k, v in functions.items()
        if "checkov" in v.get("Metadata", {})
    }
    processor = next(r for k, r in reasons.items() if k.startswith("Functionsprocessor"))
    assert "redrive DLQ" in processor["CKV_AWS_116"]
    files = next(r for k, r in reasons.items() if k.startswith("Functionsfiles"))
    assert "synchronously" in files["CKV_AWS_116"]


def test_skip_checkov_refuses_a_vague_reason_or_unknown_id_and_merges_skips() -> None:
    stack = Stack(App(), "S")
    queue = sqs.Queue(stack, "Q")
    with pytest.raises(ValueError, match="specific reason"):
        nag.skip_checkov(queue, "CKV_AWS_27", "not needed")
    with pytest.raises(ValueError, match="checkov AWS check id"):
        nag.skip_checkov(queue, "AwsSolutions-SQS3", "x" * 50)
    nag.skip_checkov(queue, "CKV_AWS_27", "a" * 50)
    nag.skip_checkov(queue, "CKV_AWS_99", "b" * 50)
    nag.skip_checkov(queue, "CKV_AWS_27", "c" * 50)  # the same check again replaces its reason
    (resource,) = Template.from_stack(stack).find_resources("AWS::SQS::Queue").values()
    assert resource["Metadata"]["checkov"]["skip"] == [
        {"id": "CKV_AWS_99", "comment": "b" * 50},
        {"id": "CKV_AWS_27", "comment": "c" * 50},
    ]


# --- the gate itself, with stand-in tools -----------------------------------------------------------


def fake_tools(tmp_path: Path, lint: list[dict[str, Any]], checkov: dict[str, Any]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, output, code in (("cfn-lint", lint, 4 if lint else 0), ("checkov", checkov, 0)):
        data = tmp_path / f"{name}.json"
        data.write_text(json.dumps(output))
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\ncat '{data}'\nexit {code}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def checkov_report(failed: list[dict[str, Any]], skipped: list[dict[str, Any]]) -> dict[str, Any]:
    return {"check_type": "cloudformation",
            "results": {"failed_checks": failed, "skipped_checks": skipped, "parsing_errors": []},
            "summary": {"failed": len(failed), "skipped": len(skipped)}}


def run_gate(tmp_path: Path, lint: list[dict[str, Any]], checkov: dict[str, Any],
             capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    (assembly / "Fileshare-dev.template.json").write_text("{}")
    code = gates.main([str(assembly), "--tools", str(fake_tools(tmp_path, lint, checkov))])
    out = capsys.readouterr()
    return code, out.out + out.err


TEMPLATE = "/x/cdk.out/Fileshare-dev.template.json"
REASON = "encrypted at rest by SQS-managed SSE, no KMS"
SKIP = {"check_id": "CKV_AWS_27", "resource": "AWS::SQS::Queue.Q", "file_path": TEMPLATE,
        "check_result": {"result": "SKIPPED", "suppress_comment": REASON}}


def test_gate_passes_with_no_findings_and_reasoned_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_gate(tmp_path, [], checkov_report([], [SKIP]), capsys)
    assert code == 0, out
    assert "0 failed, 1 skipped with reasons" in out


def test_gate_fails_on_a_cfn_lint_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    match = {"Rule": {"Id": "W3690"}, "Filename": TEMPLATE, "Message": "Engine version '16.6' is deprecated",
             "Location": {"Path": ["Resources", "DataAurora", "Properties"]}}
    code, out = run_gate(tmp_path, [match], checkov_report([], []), capsys)
    assert code == 1
    assert "W3690 Resources/DataAurora" in out


def test_gate_fails_on_a_failed_check_or_an_unreasoned_skip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = {"check_id": "CKV_AWS_158", "resource": "AWS::Logs::LogGroup.L", "file_path": TEMPLATE,
              "check_name": "Ensure that CloudWatch Log Group is encrypted by KMS"}
    lazy = {**SKIP, "check_result": {"result": "SKIPPED", "suppress_comment": "fine"}}
    code, out = run_gate(tmp_path, [], checkov_report([failed], [lazy]), capsys)
    assert code == 1
    assert "CKV_AWS_158 AWS::Logs::LogGroup.L" in out
    assert "skipped without a specific reason: 'fine'" in out


def test_the_gate_reads_every_nested_template_of_the_assembly(assembly: Assembly) -> None:
    found = {p.name for p in gates.templates(assembly.outdir)}
    nested = {path for stage in assembly.stages.values() for path, _ in stage.nested.values()}
    assert len(nested) == 4 and nested <= found  # API and observability, both stages
    assert {f"{name}.template.json" for name in assembly.stages} <= found


def test_the_gate_refuses_an_assembly_missing_a_nested_template(assembly: Assembly, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "cdk.out"
    shutil.copytree(assembly.outdir, copy)
    victim = next(path for stage in assembly.stages.values() for path, _ in stage.nested.values())
    (copy / victim).rename(copy / f"{victim}.moved")
    with pytest.raises((SystemExit, FileNotFoundError)):
        gates.templates(copy)
