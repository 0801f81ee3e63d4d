"""The REST API: one method per declared route (Lambda proxy), a Cognito authorizer on protected
routes, stage throttling, JSON access logs, CORS for the web origin and, in prod, a WAF web ACL."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra import nag
from infra.config import StageConfig
from infra.declaration import Route

API_STAGE = "v1"
# WAF: bodies above the Common Rule Set's 8 KB limit are blocked, except on the multipart complete
# route (the stage prefix is optional: a custom domain's base path mapping drops it).
MAX_BODY_BYTES = 8 * 1024
COMPLETE_PATH_REGEX = r"^(/[^/]+)?/files/[^/]+/complete$"
NO_TRANSFORMATION = wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
CORS_HEADERS = ["Content-Type", "Authorization", "X-Link-Password"]
PUBLIC_ROUTE_REASON = (
    "{method} {path} is declared public (auth=False in infra/declaration.py): it serves callers that "
    "have no user-pool token yet (health/docs, register/login/refresh, public share links); it is "
    "throttled at the stage and, in prod, behind WAF."
)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        user_pool: cognito.IUserPool,
        routes: Iterable[tuple[Route, lambda_.IFunction]],
        retained: Construct | None = None,
    ) -> None:
        """``retained``: where the access log group and the WAF web ACL live (default: here). The
        stack puts the API in a nested stack and these two, whose names are unique in the account,
        in a construct of the same id in the root stack, so their logical ids never change."""
        super().__init__(scope, construct_id)
        self.api_name = config.prefix
        self._retained = retained or self
        access_logs = logs.LogGroup(
            self._retained,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{config.prefix}/access",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        nag.skip_log_group_kms(access_logs)
        self.api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=self.api_name,
            description="Fileshare public API (v1)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=API_STAGE,
                throttling_rate_limit=config.apiRateLimit,
                throttling_burst_limit=config.apiBurstLimit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # never log request/response bodies (tokens, passwords)
                metrics_enabled=True,
                # Off: API Gateway's X-Ray segment records the request URL, and for GET /s/{token}
                # that is the public link's secret. Tracing is per stage, not per method, so the whole
                # stage is untraced; every function still traces itself (Lambda active tracing starts
                # the trace, and its segments name the function, never the URL).
                tracing_enabled=False,
            ),
        )
        # Errors produced by API Gateway itself (401 from the authorizer, 429 throttling) carry CORS too;
        # the stage's own 429 says when to come back, as the functions' 429s do (the page waits that long).
        for response_type, name, extra in (
            (apigw.ResponseType.DEFAULT_4_XX, "Default4xx", {}),
            (apigw.ResponseType.DEFAULT_5_XX, "Default5xx", {}),
            (apigw.ResponseType.THROTTLED, "Throttled", {"Retry-After": "'1'"}),
        ):
            self.api.add_gateway_response(
                name,
                type=response_type,
                response_headers={"Access-Control-Allow-Origin": f"'{config.webOrigin}'", **extra},
            )
        self.validator = self.api.add_request_validator(
            "Params",
            request_validator_name="params",
            validate_request_parameters=True,
            validate_request_body=True,
        )
        routes = list(routes)
        self.authorizer = (
            apigw.CognitoUserPoolsAuthorizer(
                self, "Authorizer", cognito_user_pools=[user_pool], authorizer_name=f"{config.prefix}-users"
            )
            if any(route.auth for route, _ in routes)
            else None
        )
        self.methods: list[tuple[Route, apigw.Method]] = []
        for route, function in routes:
            resource = self.api.root.resource_for_path(route.path)
            # One invoke permission per function for this API (not one per method): CloudFormation's
            # 500-resource ceiling; the integration, not the permission, binds a route to its function.
            # (allow_test_invoke is moot then: CDK warns on every method if it is passed.)
            integration = apigw.LambdaIntegration(function, scope_permission_to_method=False)
            if route.auth:
                method = resource.add_method(
                    route.method,
                    integration,
                    authorizer=self.authorizer,
                    authorization_type=apigw.AuthorizationType.COGNITO,
                    request_validator=self.validator,
                )
            else:
                method = resource.add_method(route.method, integration, request_validator=self.validator)
                for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                    nag.ack(
                        method,
                        rule,
                        PUBLIC_ROUTE_REASON.format(method=route.method, path=route.path),
                    )
                nag.skip_checkov(method, "CKV_AWS_59", PUBLIC_ROUTE_REASON.format(method=route.method,
                                                                                  path=route.path))
            self.methods.append((route, method))
        self._add_method_not_allowed(routes, config)
        self._ack_preflight(self.api.root)
        nag.skip_checkov(
            self.api.deployment_stage,
            "CKV_AWS_120",
            "No stage cache: responses are per caller (authorized, ACL-filtered) or one-time presigned "
            "URLs; the read path is cached in Redis per file, where invalidation is explicit.",
        )
        nag.skip_checkov(
            self.api.deployment_stage,
            "CKV_AWS_73",
            "Stage tracing is off on purpose: API Gateway's X-Ray segments record the request URL, which "
            "for GET /s/{token} is the public link's secret; every function still traces (Lambda active).",
        )
        nag.ack(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level API Gateway logging role must carry this AWS-managed service-role policy; "
            "it only lets API Gateway write its own logs.",
        )
        stack = Stack.of(self)
        # The form WAF expects: arn:<partition>:apigateway:<region>::/restapis/<id>/stages/<stage>
        api_path = f"/restapis/{self.api.rest_api_id}/stages/{API_STAGE}"
        self.stage_arn = f"arn:{stack.partition}:apigateway:{stack.region}::{api_path}"
        if config.waf:
            self._build_waf(config)
            nag.ack(
                self.api.deployment_stage,
                "AwsSolutions-APIG3",
                f"{config.stage}: the WAF web ACL and its association to this stage live in the root "
                "stack (infra/stack.py keeps them there), which cdk-nag cannot see from this nested one.",
            )
        else:
            nag.ack(
                self.api.deployment_stage,
                "AwsSolutions-APIG3",
                f"{config.stage}: WAF is attached in prod only (cost); dev is throttled at the stage.",
            )

    def _add_method_not_allowed(self, routes: list[tuple[Route, lambda_.IFunction]],
                                config: StageConfig) -> None:
        """One ``ANY`` method with a mock integration on every declared resource (no function runs):

        - OPTIONS (CORS preflight) answers 204 with the web origin, the resource's methods and the
          allowed headers;
        - any method nobody declared (TRACE, PUT, QUERY, ...) answers 405 with ``Allow`` and the
          error envelope.

        API Gateway prefers the explicit methods over ``ANY``. One method per resource for both
        answers (instead of CDK's OPTIONS per resource plus an ANY) keeps the stack under
        CloudFormation's 500 resources.
        """
        declared: dict[str, set[str]] = defaultdict(set)
        for route, _ in routes:
            declared[route.path].add(route.method)
        origin = f"'{config.webOrigin}'"
        for path, methods in sorted(declared.items()):
            allow = ",".join(sorted(methods))  # as documented
            message = f"the method is not allowed on {path}; allowed: {allow}"
            error = {"code": "method_not_allowed", "message": message}
            body = json.dumps({"message": message, "error": error})
            integration = apigw.MockIntegration(
                request_templates={"application/json": '#if($context.httpMethod == "OPTIONS")'
                                                       '{"statusCode": 204}#else{"statusCode": 405}#end'},
                passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_MATCH,
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="204",
                        selection_pattern="204",
                        response_parameters={
                            "method.response.header.Access-Control-Allow-Origin": origin,
                            "method.response.header.Access-Control-Allow-Methods": f"'{allow},OPTIONS'",
                            "method.response.header.Access-Control-Allow-Headers":
                                f"'{','.join(CORS_HEADERS)}'",
                            "method.response.header.Vary": "'Origin'",
                        },
                        response_templates={"application/json": ""},
                    ),
                    apigw.IntegrationResponse(
                        status_code="405",
                        response_parameters={"method.response.header.Allow": f"'{allow}'",
                                             "method.response.header.Access-Control-Allow-Origin": origin},
                        response_templates={"application/json": body},
                    ),
                ],
            )
            method = self.api.root.resource_for_path(path).add_method(
                "ANY", integration, authorization_type=apigw.AuthorizationType.NONE,
                method_responses=[
                    apigw.MethodResponse(status_code="204", response_parameters={
                        f"method.response.header.{name}": True
                        for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                                     "Access-Control-Allow-Headers", "Vary")}),
                    apigw.MethodResponse(status_code="405", response_parameters={
                        "method.response.header.Allow": True,
                        "method.response.header.Access-Control-Allow-Origin": True}),
                ],
            )
            reason = ("CORS preflight (browsers send no credentials) and the 405 for undeclared methods: "
                      "a mock integration (no function runs) with fixed answers; nothing to authorize.")
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                nag.ack(method, rule, reason)
            nag.skip_checkov(method, "CKV_AWS_59", reason)

    def _ack_preflight(self, resource: apigw.IResource) -> None:
        """CORS preflight (OPTIONS) must answer without credentials: browsers send none."""
        options = resource.node.try_find_child("OPTIONS")
        if options is not None:
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                nag.ack(
                    options,
                    rule,
                    "CORS preflight (OPTIONS, mock integration) is unauthenticated by the "
                    "CORS protocol; it returns headers only.",
                )
        for child in resource.node.children:
            if isinstance(child, apigw.Resource):
                self._ack_preflight(child)

    @staticmethod
    def _body_size_rule(priority: int) -> wafv2.CfnWebACL.RuleProperty:
        """Block bodies over :data:`MAX_BODY_BYTES` (the Common Rule Set's limit), except on
        ``POST /files/{id}/complete``, whose body lists up to 10,000 parts (~0.5-2.4 MB, far above what
        WAF can inspect); API Gateway's 10 MB limit and the handler's validation bound that one."""
        complete_route = wafv2.CfnWebACL.StatementProperty(
            and_statement=wafv2.CfnWebACL.AndStatementProperty(
                statements=[
                    wafv2.CfnWebACL.StatementProperty(
                        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(method={}),
                            positional_constraint="EXACTLY",
                            search_string="POST",
                            text_transformations=[NO_TRANSFORMATION],
                        )
                    ),
                    wafv2.CfnWebACL.StatementProperty(
                        regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
                            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                            regex_string=COMPLETE_PATH_REGEX,
                            text_transformations=[NO_TRANSFORMATION],
                        )
                    ),
                ]
            )
        )
        too_big = wafv2.CfnWebACL.StatementProperty(
            size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                # A body beyond what WAF inspects (16 KB for API Gateway) counts as too big.
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                ),
                comparison_operator="GT",
                size=MAX_BODY_BYTES,
                text_transformations=[NO_TRANSFORMATION],
            )
        )
        return wafv2.CfnWebACL.RuleProperty(
            name="BodySizeLimit",
            priority=priority,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                and_statement=wafv2.CfnWebACL.AndStatementProperty(
                    statements=[
                        too_big,
                        wafv2.CfnWebACL.StatementProperty(
                            not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=complete_route)
                        ),
                    ]
                )
            ),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name="BodySizeLimit", sampled_requests_enabled=True
            ),
        )

    def _build_waf(self, config: StageConfig) -> None:
        def managed(name: str, priority: int, *, count: Sequence[str] = ()) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=name,
                        rule_action_overrides=[
                            wafv2.CfnWebACL.RuleActionOverrideProperty(
                                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                            )
                            for rule in count
                        ]
                        or None,
                    )
                ),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
                ),
            )

        rate_limit = wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=config.wafRateLimitPer5Min, aggregate_key_type="IP"
                )
            ),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name="RateLimitPerIp", sampled_requests_enabled=True
            ),
        )
        self.web_acl = wafv2.CfnWebACL(
            self._retained,
            "WebAcl",
            name=f"{config.prefix}-api",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{config.prefix}-api",
                sampled_requests_enabled=True,
            ),
            rules=[
                rate_limit,
                managed("AWSManagedRulesAmazonIpReputationList", 1),
                # The rule set's SizeRestrictions_BODY blocks any body over 8 KB, which is ~120 parts
                # of POST /files/{id}/complete; it only counts, and BodySizeLimit below enforces the
                # same limit everywhere except on that route.
                managed("AWSManagedRulesCommonRuleSet", 2, count=["SizeRestrictions_BODY"]),
                managed("AWSManagedRulesKnownBadInputsRuleSet", 3),
                self._body_size_rule(4),
            ],
        )
        association = wafv2.CfnWebACLAssociation(
            self._retained,
            "WebAclAssociation",
            resource_arn=self.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        association.node.add_dependency(self.api.deployment_stage)
