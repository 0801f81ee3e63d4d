"""The web origin (infra/hosting.py): a private bucket behind CloudFront with origin access control, the
deployment of web/ and config.json, one behavior per declared route prefix (and /s/*) to the API stage,
and one response headers policy built by infra/web_headers.py, in both stages."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_apigateway as apigw

from infra import web_headers
from infra.config import stage_config
from infra.declaration import SOCKET_API, Route, all_routes
from infra.hosting import MAX_BEHAVIORS, Hosting, api_path_patterns

from .conftest import TEST_SETTINGS, Assembly
from .helpers import STAGES, as_list, ref_id, resources, role_statements, stack

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # managed cache policy
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # managed origin request policy
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def render(value: Any) -> str:
    """A template value as text, references as ``<Ref>`` / ``<Id.Attr>`` (enough to compare strings)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(render(part) for part in parts)
    raise AssertionError(f"cannot render {value!r}")


def distribution(assembly: Assembly, stage: str) -> tuple[str, dict[str, Any]]:
    (lid, res), = assembly.resources(stack(stage), "AWS::CloudFront::Distribution").items()
    return lid, res["Properties"]["DistributionConfig"]


def test_api_path_patterns_cover_each_route_prefix_exactly() -> None:
    routes = [Route("GET", "/files"), Route("GET", "/files/{file_id}"),
              Route("GET", "/s/{token}", auth=False),
              Route("GET", "/me")]
    assert api_path_patterns(routes) == ["/files", "/files/*", "/me", "/s/*"]
    with pytest.raises(ValueError, match="literal first segment"):
        api_path_patterns([Route("GET", "/{anything}")])


@pytest.mark.parametrize("stage", STAGES)
def test_the_web_bucket_is_private_and_read_by_the_distribution_through_oac(assembly: Assembly,
                                                                             stage: str) -> None:
    template = assembly.templates[stack(stage)]
    dist_lid, config = distribution(assembly, stage)
    assert config["DefaultRootObject"] == "index.html" and config["Enabled"] is True
    web_origin = next(o for o in config["Origins"] if "S3OriginConfig" in o)
    assert web_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac = template["Resources"][ref_id(web_origin["OriginAccessControlId"])]
    assert oac["Type"] == "AWS::CloudFront::OriginAccessControl"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    bucket_lid = ref_id(web_origin["DomainName"])
    bucket = template["Resources"][bucket_lid]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True}
    assert "WebsiteConfiguration" not in bucket
    (policy,) = [p for p in resources(template, "AWS::S3::BucketPolicy").values()
                 if ref_id(p["Properties"]["Bucket"]) == bucket_lid]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    # besides the distribution, only CDK's auto-delete provider (it empties the bucket on stack deletion)
    emptier = [s for s in statements if "CustomS3AutoDeleteObjects" in json.dumps(s.get("Principal"))]
    assert [s["Action"] for s in emptier] == [["s3:DeleteObject*", "s3:GetBucket*", "s3:List*",
                                              "s3:PutBucketPolicy"]]
    allows = [s for s in statements if s["Effect"] == "Allow" and s not in emptier]
    assert len(allows) == 1 and allows[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allows[0]["Action"] == "s3:GetObject"
    source = render(allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert source.endswith(f":distribution/<{dist_lid}>")
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == web_origin["Id"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"


@pytest.mark.parametrize("stage", STAGES)
def test_every_declared_route_prefix_and_public_links_go_to_the_api_stage_uncached(
        assembly: Assembly, stage: str) -> None:
    _, config = distribution(assembly, stage)
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    expected = api_path_patterns(route for route, _ in all_routes())
    assert sorted(behaviors) == expected and "/s/*" in expected
    assert len(behaviors) + 1 <= MAX_BEHAVIORS
    (api_origin,) = [o for o in config["Origins"] if "CustomOriginConfig" in o]
    assert ".execute-api." in json.dumps(api_origin["DomainName"])
    assert "DeploymentStage" in json.dumps(api_origin["OriginPath"])  # the stage, from the API's URL
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    for pattern, behavior in behaviors.items():
        assert behavior["TargetOriginId"] == api_origin["Id"], pattern
        assert behavior["CachePolicyId"] == CACHING_DISABLED, pattern
        assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER, pattern
        assert set(behavior["AllowedMethods"]) == ALL_METHODS, pattern
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https", pattern


@pytest.mark.parametrize("stage", STAGES)
def test_one_headers_policy_from_web_headers_on_every_behavior(assembly: Assembly, stage: str) -> None:
    (policy_lid, policy), = assembly.resources(stack(stage), "AWS::CloudFront::ResponseHeadersPolicy").items()
    _, config = distribution(assembly, stage)
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert ref_id(behavior["ResponseHeadersPolicyId"]) == policy_lid
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    account, region = TEST_SETTINGS[f"fileshare:{stage}:account"], TEST_SETTINGS[f"fileshare:{stage}:region"]
    bucket = f"fileshare-{stage}-uploads-{account}-{region}"  # the stage's account and region are given
    csp_value = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    socket = re.search(r"wss://[^;\s]+", render(csp_value))  # the push socket's stage URL (infra/sockets.py)
    assert socket is not None and socket.group(0).endswith(f"/{SOCKET_API.stage}"), render(csp_value)
    expected = web_headers.security_headers(web_headers.s3_regional_origin(bucket, region), socket.group(0))
    assert render(csp_value) == expected["Content-Security-Policy"]
    csp = expected["Content-Security-Policy"]
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "default-src 'none'"):
        assert directive in csp
    assert security["FrameOptions"]["FrameOption"] == expected["X-Frame-Options"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == expected["Referrer-Policy"]
    assert security["ContentTypeOptions"] == {"Override": True}
    hsts = security["StrictTransportSecurity"]
    assert expected["Strict-Transport-Security"] == (
        f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains") and hsts["IncludeSubdomains"]
    assert all(header["Override"] for header in security.values())


@pytest.mark.parametrize("stage", STAGES)
def test_web_and_config_are_deployed_from_the_stack_and_origins_follow_the_distribution(
        assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    dist_lid, _ = distribution(assembly, stage)
    (deployment,) = assembly.resources(stack(stage), "Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    web_bucket = ref_id(props["DestinationBucketName"])
    assert len(props["SourceObjectKeys"]) == 2  # web/ and config.json
    assert ref_id(props["DistributionId"]) == dist_lid and props["DistributionPaths"] == ["/*"]
    assert props["RetainOnDelete"] is False
    config_markers = [render(value) for value in props["SourceMarkers"][1].values()]
    origin = f"https://<{dist_lid}.DomainName>"
    user_pool = next(iter(resources(template, "AWS::Cognito::UserPool")))
    client = next(iter(resources(template, "AWS::Cognito::UserPoolClient")))
    # the region is the stage's literal setting; the pool, its client and the origin are deploy-time values
    socket_api = next(iter(resources(template, "AWS::ApiGatewayV2::Api")))
    region = TEST_SETTINGS[f"fileshare:{stage}:region"]
    socket = f"wss://<{socket_api}>.execute-api.{region}.<AWS::URLSuffix>/{SOCKET_API.stage}"
    assert config_markers == [f'"{socket}"', f'"<{user_pool}>"', f'"<{client}>"', f'"{origin}"']
    uploads = next(r for lid, r in resources(template, "AWS::S3::Bucket").items()
                   if lid.startswith("StorageUploads"))
    rules = uploads["Properties"]["CorsConfiguration"]["CorsRules"]
    assert [render(o) for rule in rules for o in rule["AllowedOrigins"]] == [origin]
    functions = resources(template, "AWS::Lambda::Function")
    ours = [f for f in functions.values()
            if str(f["Properties"].get("FunctionName", "")).startswith(f"fileshare-{stage}-")]
    for function in ours:
        env = function["Properties"]["Environment"]["Variables"]
        assert env["BEHIND_CLOUDFRONT"] == "true" and "PUBLIC_BASE_URL" not in env
        # no custom domain: links point where the deployed config.json says (the distribution's domain)
        assert render(env["WEB_CONFIG_BUCKET"]) == f"<{web_bucket}>"
        statements = role_statements(template, ref_id(function["Properties"]["Role"]), web_config=True)
        reads = [render(r) for s in statements if as_list(s["Action"]) == ["s3:GetObject"]
                 for r in as_list(s["Resource"]) if "config.json" in json.dumps(r)]
        assert reads == [f"<{web_bucket}.Arn>/config.json"], function["Properties"]["FunctionName"]
    assert ours
    assert render(template["Outputs"]["WebUrl"]["Value"]) == origin + "/"


def test_a_custom_domain_gets_its_certificate_and_every_origin_setting() -> None:
    """A small stack: the custom-domain branch without synthesizing the whole app again."""
    from infra.app import _with_cdk_json

    certificate = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"
    app = App(context=_with_cdk_json({**TEST_SETTINGS, "fileshare:dev:domainName": "files.example.org",
                                      "fileshare:dev:certificateArn": certificate}))
    config = stage_config(app, "dev")
    test_stack = Stack(app, "HostingTest")
    api = apigw.RestApi(test_stack, "Api", deploy_options=apigw.StageOptions(stage_name="v1"))
    api.root.add_resource("me").add_method("GET", apigw.MockIntegration())
    hosting = Hosting(test_stack, "Hosting", config=config, api=api, routes=[Route("GET", "/me")],
                      upload_bucket_name="uploads", user_pool_id="pool", user_pool_client_id="client",
                      access_logs=_bucket(test_stack), bundle=False)
    assert hosting.origin == "https://files.example.org"
    template = app.synth().get_stack_by_name("HostingTest").template
    (dist,) = resources(template, "AWS::CloudFront::Distribution").values()
    config_ = dist["Properties"]["DistributionConfig"]
    assert config_["Aliases"] == ["files.example.org"]
    assert config_["ViewerCertificate"]["AcmCertificateArn"] == config.certificateArn
    assert config_["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"

    half = App(context=_with_cdk_json({**TEST_SETTINGS, "fileshare:dev:domainName": "files.example.org"}))
    broken = Stack(half, "Broken")
    with pytest.raises(ValueError, match="go together"):
        Hosting(broken, "Hosting", config=stage_config(half, "dev"), api=api, routes=[],
                upload_bucket_name="u", user_pool_id="p", user_pool_client_id="c",
                access_logs=_bucket(broken), bundle=False)


def _bucket(scope: Stack) -> Any:
    from aws_cdk import aws_s3 as s3

    return s3.Bucket(scope, "Logs")
