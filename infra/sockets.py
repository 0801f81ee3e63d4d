"""The WebSocket API the page keeps open for pushes (``infra.declaration.SOCKET_API``).

Built in two steps because the push function is on both sides of it: the API and its stage first
(the function's environment names the stage's ``@connections`` endpoint, and its role is granted
``execute-api:ManageConnections`` on that stage's connections only), then the routes, each
integrated with the function the declaration names. Both live in the stage's root stack, next to the
function: across a nested stack the two references would be a cycle.

No authorizer on ``$connect``: WebSocket APIs take only Lambda or IAM authorizers, and the function
that serves ``$connect`` checks the id token itself (``fileshare.push.tokens``). The access log format
leaves the query string out: the id token travels there (``SOCKET_API.token_parameter``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration
from constructs import Construct

from infra import nag
from infra.config import StageConfig
from infra.declaration import SOCKET_API, SocketApi

#: Access log fields: who, which route, what status and how long; never the query string (the token).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId", "connectionId": "$context.connectionId",
    "ip": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey", "eventType": "$context.eventType", "status": "$context.status",
    "requestTime": "$context.requestTime", "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message", "integrationError": "$context.integrationErrorMessage",
}


class Sockets(Construct):
    """The WebSocket API and its stage; ``grant`` and ``add_routes`` wire the push function."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig,
                 api: SocketApi = SOCKET_API) -> None:
        super().__init__(scope, construct_id)
        self.spec = api
        self.api = apigwv2.WebSocketApi(
            self, "Api", api_name=f"{config.prefix}-push",
            description="Fileshare push: the page's socket for changes (routes in infra/declaration.py)",
            route_selection_expression="$request.body.action",
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", log_group_name=f"/aws/apigateway/{config.prefix}/push-access",
            retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY,
        )
        nag.skip_log_group_kms(self.access_logs)
        self.stage = apigwv2.WebSocketStage(
            self, "Stage", web_socket_api=self.api, stage_name=api.stage, auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=api.throttle_rate, burst_limit=api.throttle_burst),
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT))
        cfn_stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            throttling_rate_limit=api.throttle_rate, throttling_burst_limit=api.throttle_burst,
            data_trace_enabled=False,  # never log message bodies
            detailed_metrics_enabled=True,
        )
        CfnOutput(scope, "SocketUrl", value=self.stage.url, key="SocketUrl",
                  description="The page's push socket (wss://...); the id token goes in ?token=")
        CfnOutput(scope, "SocketCallbackUrl", value=self.stage.callback_url, key="SocketCallbackUrl",
                  description="The @connections endpoint (PUSH_ENDPOINT)")

    def grant(self, role: iam.IRole, user_pool_id: str, user_pool_client_id: str) -> dict[str, str]:
        """Post to, read and close this stage's connections (``execute-api:ManageConnections`` on
        ``<api>/<stage>/*/@connections/*``); returns the variables the function gets."""
        self.stage.grant_management_api_access(role)
        return {"PUSH_ENDPOINT": self.stage.callback_url, "USER_POOL_ID": user_pool_id,
                "USER_POOL_CLIENT_ID": user_pool_client_id}

    def connections_pattern(self, scope: Construct) -> str:
        """The granted resource as cdk-nag prints it in its finding ids."""
        api = nag.resolved(self.api.api_id, scope)
        return f"arn:aws:execute-api:{nag.resolved(Stack.of(scope).region, scope)}:" \
               f"{nag.resolved(Stack.of(scope).account, scope)}:{api}/{self.spec.stage}/*/@connections/*"

    def add_routes(self, routes: Mapping[str, lambda_.IFunction]) -> None:
        """Each route key -> its function (Lambda proxy): one integration per function; CDK gives each
        route its own invoke permission (source ARN ``<api>/*<route key>``)."""
        integrations: dict[str, WebSocketLambdaIntegration] = {}  # one per function, shared by its routes
        for route_key, function in sorted(routes.items()):
            key = function.node.path
            if key not in integrations:
                integrations[key] = WebSocketLambdaIntegration(f"Integration{len(integrations)}", function)
            route = self.api.add_route(route_key, integration=integrations[key])
            nag.ack(route, "AwsSolutions-APIG4",
                    "WebSocket APIs take no Cognito authorizer: $connect's function verifies the id token "
                    "(fileshare.push.tokens) and refuses the handshake without one; the other routes "
                    "exist only on a connection $connect accepted.")
