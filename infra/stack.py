"""One Fileshare stack per stage: composes the constructs and wires them; builds nothing itself.

The stage's root stack holds everything stateful (network, data stores, bucket, user pool, keys, the
on-call topic) and the functions; the REST API and the alarms/dashboard are nested stacks (CloudFormation
allows 500 resources per template, and those two grow with every route and function). See
infra/README.md, "Stack layout", for the trade-off; ``tests/infra/test_stack_limits.py`` for the
budget."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import CfnOutput, Duration, NestedStack, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import bundling, tracing
from infra.api import Api
from infra.config import SERVICE, StageConfig
from infra.data import Data
from infra.declaration import FUNCTIONS_DIR, Function, KafkaTrigger, SqsTrigger, socket_routes
from infra.functions import Functions, needs_vpc
from infra.hosting import Hosting
from infra.identity import CognitoUsers
from infra.network import Network
from infra.observability import Observability, OnCall
from infra.sockets import Sockets
from infra.storage import Storage

SQS_VISIBILITY_FACTOR = 6  # AWS guidance: queue visibility >= 6 x function timeout
API_STACK = "ApiStack"  # nested stack construct ids (their templates: cdk.out/*.nested.template.json)
OBSERVABILITY_STACK = "ObservabilityStack"


def sqs_queue_timeouts(functions: Sequence[Function]) -> list[tuple[str, Duration]]:
    """Each SQS trigger's queue with a visibility timeout fitting its slowest consumer."""
    timeouts: dict[str, int] = {}
    for fn in functions:
        for trigger in fn.triggers:
            if isinstance(trigger, SqsTrigger):
                timeouts[trigger.queue] = max(
                    timeouts.get(trigger.queue, 30), fn.timeout_s * SQS_VISIBILITY_FACTOR
                )
    return [(queue, Duration.seconds(seconds)) for queue, seconds in sorted(timeouts.items())]


class FileshareStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: Sequence[Function],
        bundle: bool,
        code_root: Path = FUNCTIONS_DIR,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, description=f"Fileshare ({config.stage})", **kwargs)  # type: ignore[arg-type]
        untaggable = ["AWS::RDS::DBProxyTargetGroup"]  # CloudFormation rejects Tags there
        Tags.of(self).add("service", SERVICE, exclude_resource_types=untaggable)
        Tags.of(self).add("stage", config.stage, exclude_resource_types=untaggable)
        # The web origin (infra/hosting.py) decides where links point: the custom domain, whose name every
        # origin setting takes; else the distribution's domain, which the functions read from the web
        # bucket's config.json (in their environment it would be a cycle: distribution -> API -> functions).
        if config.domainName:
            origin = f"https://{config.domainName}"
            config = dataclasses.replace(config, webOrigin=origin, publicBaseUrl=origin)
        else:
            config = dataclasses.replace(config, publicBaseUrl="")
        self.config = config

        dependency_layer = lambda_.LayerVersion(
            self,
            "DependencyLayer",
            layer_version_name=f"{config.prefix}-dependencies",
            description="Third-party packages from requirements.lock (pip, hashes, manylinux aarch64, cp313)",
            code=bundling.dependency_layer_code(real=bundle),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64],
        )
        shared_layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            layer_version_name=f"{config.prefix}-shared",
            description="The fileshare domain package (layers/shared/python)",
            code=bundling.shared_layer_code(compiled=bundle),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64],
        )
        vpc_uses = {use for fn in functions if needs_vpc(fn) for use in fn.uses}
        kafka = any(isinstance(t, KafkaTrigger) for fn in functions for t in fn.triggers)
        self.network = Network(self, "Network", config=config, uses=vpc_uses, kafka=kafka)
        self.data = Data(
            self,
            "Data",
            config=config,
            network=self.network,
        )
        self.storage = Storage(self, "Storage", config=config, queues=sqs_queue_timeouts(functions))
        self.identity = CognitoUsers(self, "Identity", config=config)
        # The push socket: in the root next to its function (infra/sockets.py says why); the routes
        # are added once the functions exist.
        self.sockets = Sockets(self, "Sockets", config=config)
        self.functions = Functions(
            self,
            "Functions",
            config=config,
            functions=functions,
            code_root=code_root,
            layers=[dependency_layer, shared_layer, tracing.collector_layer(self)],
            compiled=bundle,
            network=self.network,
            data=self.data,
            storage=self.storage,
            identity=self.identity,
            sockets=self.sockets,
        )
        self.sockets.add_routes({key: self.functions.built[fn.name].target
                                 for key, fn in socket_routes(functions).items()})
        # The REST API in its own nested stack (it grows with every route); its access log group and
        # WAF web ACL, whose names are unique in the account, stay in the root under the same ids.
        api_stack = NestedStack(self, API_STACK, description=f"Fileshare ({config.stage}) REST API")
        self.api = Api(
            api_stack,
            "Api",
            config=config,
            user_pool=self.identity.user_pool,
            routes=[
                (route, built.target)
                for built in self.functions.built.values()
                for route in built.spec.routes
            ],
            retained=Construct(self, "Api"),
        )
        # The API takes traffic only once the bootstrap (schema, index, topics) has run: CDK lifts
        # this to a DependsOn of the whole nested API stack on the bootstrap custom resource.
        for resource in self.functions.deploy_resources:
            self.api.api.deployment_stage.node.add_dependency(resource)
        # The web origin: CloudFront in front of the web bucket, the API's routes and /s/* (the root:
        # the web bucket is stateful and named types stay here; it references the nested API's outputs).
        self.hosting = Hosting(
            self,
            "Hosting",
            config=config,
            api=self.api.api,
            routes=[route for built in self.functions.built.values() for route in built.spec.routes],
            upload_bucket_name=self.storage.bucket_name,
            user_pool_id=self.identity.user_pool.user_pool_id,
            user_pool_client_id=self.identity.client.user_pool_client_id,
            access_logs=self.storage.access_logs,
            bundle=bundle,
            socket_url=self.sockets.stage.url,
        )
        self.storage.allow_web_origin(self.hosting.origin)
        if not config.domainName:
            for built in self.functions.built.values():
                self.hosting.grant_config_read(built.function, built.role)
        # The on-call topic (and its KMS key) stay in the root; alarms and dashboard are nested.
        self.oncall = OnCall(self, "Observability", config=config)
        observability_stack = NestedStack(
            self, OBSERVABILITY_STACK, description=f"Fileshare ({config.stage}) alarms and dashboard"
        )
        self.observability = Observability(
            observability_stack, "Observability", config=config, functions=functions, topic=self.oncall.topic
        )

        CfnOutput(self, "WebUrl", value=f"{self.hosting.origin}/", key="WebUrl",
                  description="Open this: the web app, its API and public links on one origin")
        CfnOutput(self, "DistributionDomain", value=self.hosting.distribution.distribution_domain_name,
                  key="DistributionDomain", description="Point the custom domain's DNS (CNAME/alias) here")
        CfnOutput(self, "ApiUrl", value=self.api.api.url, key="ApiUrl")
        CfnOutput(self, "UserPoolId", value=self.identity.user_pool.user_pool_id, key="UserPoolId")
        CfnOutput(
            self, "UserPoolClientId", value=self.identity.client.user_pool_client_id, key="UserPoolClientId"
        )
        CfnOutput(self, "UploadBucket", value=self.storage.bucket_name, key="UploadBucket")
        CfnOutput(self, "OnCallTopic", value=self.oncall.topic.topic_arn, key="OnCallTopic")
        CfnOutput(self, "Dashboard", value=config.prefix, key="Dashboard")
