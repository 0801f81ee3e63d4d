"""cdk-nag runs during synthesis (a violation fails it), every acknowledgment has a specific reason,
and the dashboards (CloudWatch and the committed Grafana JSON) show the same panels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from infra import grafana, nag
from infra.declaration import FUNCTIONS
from infra.panels import panels
from infra.report import build_report

from .conftest import FULL_FUNCTIONS, Assembly
from .helpers import STAGES, resources, stack


def test_nag_fails_synthesis_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Bad"), "NoTlsNoLogs")
    nag.add_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_an_acknowledgment_needs_a_specific_reason() -> None:
    app = App()
    with pytest.raises(ValueError, match="specific reason"):
        nag.ack(Stack(app, "S"), "AwsSolutions-S1", "not needed")


@pytest.mark.parametrize("which", ["real", "full"])
def test_every_acknowledgment_is_an_awssolutions_rule_with_a_reason(
    assembly: Assembly, full_assembly: Assembly, which: str
) -> None:
    source = assembly if which == "real" else full_assembly
    acks = build_report(source.outdir)["acknowledgments"]
    assert acks
    for ack in acks:
        assert ack["rule"].startswith("AwsSolutions-"), ack
        assert len(ack["reason"]) >= nag.MIN_REASON_LENGTH, ack


def test_report_counts_stacks_and_sizes(assembly: Assembly) -> None:
    report = build_report(assembly.outdir)
    assert set(report["stacks"]) == {stack(s) for s in STAGES}
    for name, info in report["stacks"].items():
        stage = assembly.stages[name]
        assert info["resources"] == len(stage.root["Resources"])
        assert {path: t["resources"] for path, t in info["templates"].items()} == {
            path: len(t["Resources"]) for path, t in stage.files().items()
        }
        assert len(info["templates"]) == 1 + len(stage.nested) >= 3  # root, API, observability
    names = {fn["function"] for fn in report["functions"]}
    assert {f"fileshare-dev-{fn.name}" for fn in FUNCTIONS} <= names
    assert all(fn["code_bytes"] > 0 and len(fn["layer_bytes"]) >= 1 for fn in report["functions"])


@pytest.mark.parametrize("which", ["real", "full"])
def test_cloudwatch_dashboard_has_every_panel(
    assembly: Assembly, full_assembly: Assembly, which: str
) -> None:
    source, functions = (assembly, FUNCTIONS) if which == "real" else (full_assembly, FULL_FUNCTIONS)
    expected = panels(functions)
    titles = {p.title for p in expected}
    if which == "full":
        assert {
            "API latency",
            "Lambda errors",
            "SQS age of oldest message",
            "Dead-letter queue depth",
            "MSK consumer lag (max offset lag)",
            "OpenSearch health",
            "Aurora capacity (ACU)",
            "Aurora connections",
            "Redis hits",
        } <= titles
    for name, template in source.templates.items():
        (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        for title in titles:
            assert f'\\"title\\":\\"{title}\\"' in body, f"{name}: panel {title!r} missing"
        for function in functions:
            assert f"fileshare-{name.split('-', 1)[1]}-{function.name}" in body


def test_committed_grafana_dashboard_is_current() -> None:
    assert grafana.DASHBOARD_PATH.read_text() == grafana.render(), (
        "run `python -m infra.grafana` (make grafana)"
    )


def test_grafana_dashboard_mirrors_the_panels() -> None:
    board = grafana.dashboard(FULL_FUNCTIONS)
    expected = panels(FULL_FUNCTIONS)
    assert [p["title"] for p in board["panels"]] == [p.title for p in expected]
    for panel, spec in zip(board["panels"], expected, strict=True):
        assert panel["datasource"]["type"] == "cloudwatch"
        assert [(t["namespace"], t["metricName"], t["statistic"]) for t in panel["targets"]] == [
            (m.namespace, m.name, m.stat) for m in spec.metrics
        ]
        for target in panel["targets"]:
            assert all("{prefix}" not in v for v in target["dimensions"].values())
