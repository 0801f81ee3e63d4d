"""The REST API generated from the declaration: methods, authorizer, throttling, logs, CORS, WAF."""

from __future__ import annotations

import json

import pytest

from .conftest import FULL_FUNCTIONS, PROD_ORIGIN, Assembly
from .helpers import STAGES, logical_id, resources, stack
from .parity import template_routes


@pytest.mark.parametrize("stage", STAGES)
def test_stage_throttling_access_logs_and_tracing(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    (api_stage,) = resources(template, "AWS::ApiGateway::Stage").values()
    props = api_stage["Properties"]
    assert props["StageName"] == "v1"
    assert props["TracingEnabled"] is False  # its URLs would hold link tokens (tests/infra/test_tracing.py)
    assert props["AccessLogSetting"]["DestinationArn"]
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == (50 if stage == "dev" else 500)
    assert settings["ThrottlingBurstLimit"] == (100 if stage == "dev" else 1000)
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False


def test_waf_only_in_prod(assembly: Assembly) -> None:
    assert not resources(assembly.templates[stack("dev")], "AWS::WAFv2::WebACL")
    prod = assembly.templates[stack("prod")]
    (acl,) = resources(prod, "AWS::WAFv2::WebACL").values()
    names = {rule["Name"] for rule in acl["Properties"]["Rules"]}
    assert {"RateLimitPerIp", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= names
    (association,) = resources(prod, "AWS::WAFv2::WebACLAssociation").values()
    arn = association["Properties"]["ResourceArn"]["Fn::Join"][1]
    expected = ["arn:aws:apigateway:us-east-1::/restapis/", "/stages/v1"]  # the stage's explicit env
    assert [p for p in arn if isinstance(p, str)] == expected


def test_authorizer_on_protected_routes_only(full_assembly: Assembly) -> None:
    template = full_assembly.templates[stack("dev")]
    (authorizer_lid,) = resources(template, "AWS::ApiGateway::Authorizer")
    declared = {(r.method, r.path): r.auth for fn in FULL_FUNCTIONS for r in fn.routes}
    routes = template_routes(template)
    assert {(m, p) for m, p, _ in routes} == set(declared)
    for (method, path, _fn), props in routes.items():
        if declared[(method, path)]:
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS", (method, path)
            assert logical_id(props["AuthorizerId"]) == authorizer_lid
        else:
            assert props["AuthorizationType"] == "NONE", (method, path)
        assert props["Integration"]["Type"] == "AWS_PROXY"


@pytest.mark.parametrize("stage", STAGES)
def test_cors_preflight_and_gateway_errors_allow_only_the_web_origin(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    origin = "http://localhost:8080" if stage == "dev" else PROD_ORIGIN
    preflights = [  # the ANY mock on each declared resource answers OPTIONS with 204
        m
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "ANY"
    ]
    assert preflights
    for method in preflights:
        integration = method["Properties"]["Integration"]
        assert '$context.httpMethod == "OPTIONS"' in integration["RequestTemplates"]["application/json"]
        (response,) = [r for r in integration["IntegrationResponses"] if r["StatusCode"] == "204"]
        params = response["ResponseParameters"]
        assert params["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"
        assert "Authorization" in params["method.response.header.Access-Control-Allow-Headers"]
        assert params["method.response.header.Access-Control-Allow-Methods"].endswith(",OPTIONS'")
    for response in resources(template, "AWS::ApiGateway::GatewayResponse").values():
        assert (
            response["Properties"]["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
            == f"'{origin}'"
        )
    throttled = [r["Properties"] for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()
                 if r["Properties"]["ResponseType"] == "THROTTLED"]
    assert [t["ResponseParameters"]["gatewayresponse.header.Retry-After"] for t in throttled] == ["'1'"]


def test_undeclared_methods_answer_405_with_allow_from_a_mock(full_assembly: Assembly) -> None:
    """Every declared resource has an ANY method backed by a mock integration: TRACE, PUT, QUERY...
    get 405 with the resource's Allow header and the error envelope, and no Lambda runs; no other
    method is a mock (CDK's per-resource OPTIONS is folded into it)."""
    template = full_assembly.templates[stack("dev")]
    declared: dict[str, set[str]] = {}
    for fn in FULL_FUNCTIONS:
        for route in fn.routes:
            declared.setdefault(route.path, set()).add(route.method)
    api_resources = resources(template, "AWS::ApiGateway::Resource")

    def path_of(ref: object) -> str:
        lid = logical_id(ref)
        if lid not in api_resources:
            return ""
        props = api_resources[lid]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    any_methods = {path_of(m["Properties"]["ResourceId"]) or "/": m["Properties"]
                   for m in resources(template, "AWS::ApiGateway::Method").values()
                   if m["Properties"]["HttpMethod"] == "ANY"}
    assert set(any_methods) == set(declared)
    methods = resources(template, "AWS::ApiGateway::Method").values()
    assert not [m for m in methods if m["Properties"]["HttpMethod"] == "OPTIONS"]
    for path, props in any_methods.items():
        integration = props["Integration"]
        assert integration["Type"] == "MOCK" and props["AuthorizationType"] == "NONE"
        (response,) = [r for r in integration["IntegrationResponses"] if r["StatusCode"] == "405"]
        assert "SelectionPattern" not in response  # the default: every method that is not OPTIONS
        allow = response["ResponseParameters"]["method.response.header.Allow"]
        assert allow == "'" + ",".join(sorted(declared[path])) + "'"
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert body["error"]["code"] == "method_not_allowed"
