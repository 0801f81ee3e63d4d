"""The SLOs of ``infra/slos.py`` as synthesized: per SLO and burn window, two window alarms (the long and
the short window, each over its whole window, above ``factor x (1 - objective)``), and per SLO one
composite, (long AND short) OR (long AND short), the only one that notifies; lost-work alarms as
declared."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.slos import BURN_WINDOWS, LOST_WORK, SLOS, LatencySlo, budget_threshold

from .conftest import Assembly
from .helpers import resources


def _by_name(template: dict[str, Any], type_: str) -> dict[str, tuple[str, dict[str, Any]]]:
    return {r["Properties"]["AlarmName"]: (lid, r["Properties"])
            for lid, r in resources(template, type_).items()}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_slo_has_fast_and_slow_multi_window_burn_rate_alarms(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[f"Fileshare-{stage}"]
    alarms = _by_name(template, "AWS::CloudWatch::Alarm")
    composites = {r["Properties"]["AlarmName"]: r["Properties"]
                  for r in resources(template, "AWS::CloudWatch::CompositeAlarm").values()}
    prefix = f"fileshare-{stage}-slo-"
    for slo in SLOS:
        composite = composites[f"{prefix}{slo.name}-burn"]
        rule = json.dumps(composite["AlarmRule"])
        assert composite["AlarmActions"] and composite["OKActions"]
        assert rule.count(" OR ") == len(BURN_WINDOWS) - 1
        for window in BURN_WINDOWS:
            lids = []
            for seconds in (window.long_s, window.short_s):
                lid, alarm = alarms[f"{prefix}{slo.name}-{seconds}s"]
                lids.append(lid)
                assert alarm["Threshold"] == pytest.approx(budget_threshold(slo, window))
                assert alarm["EvaluationPeriods"] == 1 and "AlarmActions" not in alarm
                stats = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
                assert stats and {s["Period"] for s in stats} == {seconds}
                if isinstance(slo, LatencySlo):
                    assert [s["Stat"] for s in stats] == [f"PR(:{slo.threshold_ms})"]
            assert all(f'"{lid}"' in rule for lid in lids) and " AND " in rule


def test_lost_work_alarms_watch_every_declared_metric(assembly: Assembly) -> None:
    alarms = _by_name(assembly.templates["Fileshare-dev"], "AWS::CloudWatch::Alarm")
    for lost in LOST_WORK:
        _, alarm = alarms[f"fileshare-dev-{lost.name}"]
        assert alarm["Threshold"] == lost.threshold and alarm["EvaluationPeriods"] == lost.periods
        watched = [alarm] if "MetricName" in alarm else [
            m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
        assert sorted((m["MetricName"], json.dumps(m["Dimensions"])) for m in watched) == sorted(
            (m.name, json.dumps([{"Name": k, "Value": v} for k, v in m.dimensions])) for m in lost.metrics)
        assert alarm["AlarmActions"]
