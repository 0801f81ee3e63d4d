"""No trace records a public link's token (``GET /s/{token}``): API Gateway's stage tracing, whose
segments carry the request URL, is off, and the public_link function's tracer records neither its
responses (the link page names the token) nor its errors. ``tests/unit/test_public_link_tracing.py``
runs the handler under a recording tracer with this environment."""

from __future__ import annotations

import pytest

from infra import tracing
from infra.declaration import FUNCTIONS

from .conftest import TEST_SETTINGS, Assembly
from .helpers import STAGES, function_by_name, resources, stack


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_traces_request_urls(assembly: Assembly, stage: str) -> None:
    stages = resources(assembly.templates[stack(stage)], "AWS::ApiGateway::Stage").values()
    assert stages and all(s["Properties"].get("TracingEnabled", False) is False for s in stages)


@pytest.mark.parametrize("stage", STAGES)
def test_the_public_link_tracer_records_no_payloads(assembly: Assembly, stage: str) -> None:
    _, function = function_by_name(assembly.templates[stack(stage)], "public_link")
    env = function["Properties"]["Environment"]["Variables"]
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert env["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}  # the function still traces


@pytest.mark.parametrize("stage", STAGES)
def test_checkov_is_told_why_the_stage_is_untraced(assembly: Assembly, stage: str) -> None:
    (api_stage,) = resources(assembly.templates[stack(stage)], "AWS::ApiGateway::Stage").values()
    skips = {s["id"]: s["comment"] for s in api_stage["Metadata"]["checkov"]["skip"]}
    assert "/s/{token}" in skips["CKV_AWS_73"]


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_sends_its_spans_to_xray_through_the_adot_collector(assembly: Assembly,
                                                                            stage: str) -> None:
    template = assembly.templates[stack(stage)]
    region = TEST_SETTINGS[f"fileshare:{stage}:region"]
    for fn in FUNCTIONS:
        _, function = function_by_name(template, fn.name)
        props = function["Properties"]
        assert tracing.collector_layer_arn(region) in props["Layers"], fn.name  # the collector extension
        env = props["Environment"]["Variables"]
        assert {k: env.get(k) for k in tracing.ENVIRONMENT} == tracing.ENVIRONMENT, fn.name
        assert props["TracingConfig"] == {"Mode": "Active"}  # xray:PutTraceSegments, PutTelemetryRecords
