"""The Lambda functions, generated from ``infra.declaration``: one least-privilege role, log group
and (when it reaches a data store) security group per function, plus its triggers.

``Uses`` -> environment variables (names from ``fileshare/config.py``) + IAM statements + network
rules is all in :class:`Functions`; the API routes are wired by ``infra.api``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from infra import bundling, nag, tracing
from infra.config import METRICS_NAMESPACE, StageConfig
from infra.data import Data, add_vpc_access
from infra.declaration import (
    REQUIRED_SETTINGS_ENV,
    RESOURCES,
    DeployTrigger,
    Function,
    KafkaTrigger,
    ScheduleTrigger,
    SqsTrigger,
    Uses,
    required_settings,
)
from infra.identity import CognitoUsers
from infra.network import Network
from infra.sockets import Sockets
from infra.storage import BUCKET_ACTIONS, Storage, use_prefixes

VPC_USES = frozenset({Uses.DATABASE, Uses.CACHE, Uses.SEARCH, Uses.EVENTS_PUBLISH, Uses.EVENTS_ADMIN})
SCHEDULE_RETRIES = 2
CODE_HASH_ENV = "FILESHARE_CODE_HASH"  # functions/bootstrap/handler.py compares it with the CodeHash property
PROVIDER_FAILURES = (
    "No function-level DLQ: CDK's Provider framework is called by CloudFormation and reports every "
    "error back to it as a failed resource (the deploy rolls back)."
)


def needs_vpc(fn: Function) -> bool:
    """In the VPC only when it talks to a VPC data store or consumes Kafka."""
    return bool(fn.uses & VPC_USES) or any(isinstance(t, KafkaTrigger) for t in fn.triggers)


def schedule_rate(spec: Function, trigger: ScheduleTrigger) -> Duration:
    """EventBridge Scheduler rates are whole minutes; refuse anything else rather than round it."""
    if trigger.every_seconds < 60 or trigger.every_seconds % 60:
        raise ValueError(
            f"{spec.name}: ScheduleTrigger.every_seconds={trigger.every_seconds} must be a whole number of "
            "minutes for EventBridge Scheduler (use local_every_seconds for a faster local cadence)"
        )
    return Duration.minutes(trigger.every_seconds // 60)


def failures_reason(spec: Function) -> str:
    """Where a function's failed invocations go, per trigger kind: the reason it needs no function DLQ
    (a function-level DLQ only catches asynchronous invocations)."""
    kinds = []
    if spec.routes:
        kinds.append("API Gateway invokes it synchronously, so every error goes back to the caller")
    if any(isinstance(t, SqsTrigger) for t in spec.triggers):
        kinds.append("SQS batches fail per message into the source queue's redrive DLQ")
    if any(isinstance(t, KafkaTrigger) for t in spec.triggers):
        kinds.append("Kafka records that exhaust their retries go to the on-failure queue")
    if any(isinstance(t, ScheduleTrigger) for t in spec.triggers):
        kinds.append("scheduled (async) invocations go to the on-failure destination and Scheduler DLQ")
    if any(isinstance(t, DeployTrigger) for t in spec.triggers):
        kinds.append("the deploy's Provider framework invokes it synchronously and fails the deploy on error")
    if not kinds:
        kinds.append("nothing invokes it asynchronously")
    return "No function-level DLQ: " + "; ".join(kinds) + "."


@dataclass
class BuiltFunction:
    spec: Function
    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup
    failure_queue: sqs.Queue | None
    #: What invokers target: the ``live`` alias of the published version with SnapStart, else the
    #: function itself ($LATEST).
    target: lambda_.IFunction


class Functions(Construct):
    """Every function in the declaration; ``self.built[name]`` exposes its resources."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: Sequence[Function],
        code_root: Path,
        layers: Sequence[lambda_.ILayerVersion],
        compiled: bool,
        network: Network,
        data: Data,
        storage: Storage,
        identity: CognitoUsers,
        sockets: Sockets | None = None,
    ) -> None:
        """``sockets``: the WebSocket API, for the functions that use ``Uses.SOCKETS``."""
        super().__init__(scope, construct_id)
        self._sockets = sockets
        self._config = config
        self._network = network
        self._data = data
        self._storage = storage
        self._identity = identity
        self._layers = list(layers)
        self._compiled = compiled  # the code asset carries its bytecode (False: fast synth for tests)
        self.built: dict[str, BuiltFunction] = {}
        self.deploy_resources: list[CustomResource] = []  # the API deployment waits for these
        self.deploy_resources_of: dict[CustomResource, str] = {}  # -> the function it runs
        self._kafka_mappings: list[IConstruct] = []  # they wait for the bootstrap (topics first)
        self._security_groups: dict[str, ec2.SecurityGroup] = {}
        for spec in functions:
            self.built[spec.name] = self._build(spec, code_root / spec.name)
        self._order_deploy()

    # --- one function ----------------------------------------------------------------------------------
    def _build(self, spec: Function, code_dir: Path) -> BuiltFunction:
        config = self._config
        scope = Construct(self, spec.name)
        log_group = logs.LogGroup(
            scope,
            "Logs",
            log_group_name=f"/aws/lambda/{config.prefix}-{spec.name}",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        nag.skip_log_group_kms(log_group)
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Least-privilege execution role of {config.prefix}-{spec.name}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        environment = self._base_environment(spec)
        security_group: ec2.SecurityGroup | None = None
        if needs_vpc(spec):
            security_group = self._network.function_sg(scope, "Sg", spec.name)
            self._security_groups[spec.name] = security_group
            add_vpc_access(role)
        for use in sorted(spec.uses, key=lambda u: u.value):
            granted = self._grant(use, spec, role, security_group)
            if set(granted) != set(RESOURCES[use].env):  # the table says what each use sets
                raise ValueError(f"{spec.name}: the {use} grant sets {sorted(granted)}, "
                                 f"infra.declaration.RESOURCES says {sorted(RESOURCES[use].env)}")
            environment.update(granted)
        environment[REQUIRED_SETTINGS_ENV] = required_settings(spec.uses)
        environment.update(dict(spec.environment))

        function = lambda_.Function(
            scope,
            "Function",
            function_name=f"{config.prefix}-{spec.name}",
            description=spec.description,
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler=spec.handler,
            code=bundling.function_code(code_dir, compiled=self._compiled),
            layers=self._layers,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            role=role,
            environment=environment,
            vpc=self._network.vpc if security_group else None,
            vpc_subnets=self._network.subnets if security_group else None,
            security_groups=[security_group] if security_group else None,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None,
            # a replaced version is deleted: each version with SnapStart keeps a cached snapshot
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY)
            if spec.snap_start else None,
        )
        target: lambda_.IFunction = function
        if spec.snap_start:  # SnapStart restores published versions only: invokers use the alias
            target = lambda_.Alias(scope, "Live", alias_name="live", version=function.current_version)
        nag.ack_runtime(function)
        nag.skip_function_checks(function, failures_reason(spec))
        failure_queue = self._triggers(spec, scope, function, role, code_dir)
        self._ack_role(role, spec)
        return BuiltFunction(spec, function, role, log_group, failure_queue, target)

    def _base_environment(self, spec: Function) -> dict[str, str]:
        config = self._config
        return {
            "FILESHARE_STAGE": config.stage,
            "POWERTOOLS_SERVICE_NAME": spec.name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_LOGGER_LOG_EVENT": "false",
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            **tracing.ENVIRONMENT,  # OpenTelemetry to the ADOT collector layer, on to X-Ray
            "WEB_ORIGIN": config.webOrigin,
            # empty without a custom domain: the functions read it from the web bucket (infra/hosting.py)
            **({"PUBLIC_BASE_URL": config.publicBaseUrl} if config.publicBaseUrl else {}),
            # CloudFront (infra/hosting.py) is in front of every route: CloudFront-* headers are its own
            "BEHIND_CLOUDFRONT": "true",
        }

    # --- Uses -> env + IAM + network: each resource's construct grants access to itself ----------------
    def _grant(
        self, use: Uses, spec: Function, role: iam.Role, sg: ec2.SecurityGroup | None
    ) -> dict[str, str]:
        if use in VPC_USES:  # the VPC data stores
            if sg is None:
                raise ValueError(f"{spec.name}: {use} needs the VPC (see needs_vpc)")
            return self._data.grant(use, role, sg)
        if use in BUCKET_ACTIONS:
            return self._storage.grant(use, role)
        if use in (Uses.USER_POOL, Uses.EMAIL):
            return self._identity.grant(use, role)
        if use is Uses.SOCKETS and self._sockets is not None:
            return self._sockets.grant(role, self._identity.user_pool.user_pool_id,
                                       self._identity.client.user_pool_client_id)
        raise ValueError(f"{spec.name}: no grant for {use!r}")

    # --- triggers --------------------------------------------------------------------------------------
    def _triggers(
        self, spec: Function, scope: Construct, function: lambda_.Function, role: iam.Role, code_dir: Path
    ) -> sqs.Queue | None:
        """SQS (redrive DLQ on the queue), Kafka (on-failure queue) and schedules (DLQ + on-failure)."""
        config, data = self._config, self._data
        failure_queue: sqs.Queue | None = None
        if spec.failure_queue:  # named in the declaration, so the local stack creates the same queue
            failure_queue = sqs.Queue(
                scope,
                "Failures",
                queue_name=f"{config.prefix}-{spec.failure_queue}",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            nag.ack(
                failure_queue,
                "AwsSolutions-SQS3",
                "This queue is itself the on-failure destination (dead letters) of the function's triggers.",
            )
            nag.skip_sqs_kms(failure_queue)
        for index, trigger in enumerate(spec.triggers):
            if isinstance(trigger, SqsTrigger):
                queue = self._storage.queues[trigger.queue].queue
                function.add_event_source(
                    sources.SqsEventSource(
                        queue,
                        batch_size=trigger.batch_size,
                        max_batching_window=Duration.seconds(trigger.max_batching_window_s)
                        if trigger.max_batching_window_s
                        else None,
                        report_batch_item_failures=True,
                    )
                )
            elif isinstance(trigger, KafkaTrigger):
                assert failure_queue is not None
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=[
                            "kafka-cluster:Connect",
                            "kafka-cluster:DescribeCluster",
                            "kafka-cluster:DescribeClusterDynamicConfiguration",
                        ],
                        resources=[data.kafka_cluster_arn],
                    )
                )
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                        resources=[data.topic_arn(trigger.topic)],
                    )
                )
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                        resources=[data.group_arn(trigger.consumer_group)],
                    )
                )
                before = {child.node.path for child in function.node.children}
                function.add_event_source(
                    sources.ManagedKafkaEventSource(
                        cluster_arn=data.kafka_cluster_arn,
                        topic=trigger.topic,
                        consumer_group_id=trigger.consumer_group,
                        batch_size=trigger.batch_size,
                        starting_position=lambda_.StartingPosition(trigger.starting_position),
                        on_failure=sources.SqsDlq(failure_queue),
                        report_batch_item_failures=True,
                        retry_attempts=trigger.max_retries,
                        provisioned_poller_config=sources.ProvisionedPollerConfig(
                            minimum_pollers=1, maximum_pollers=2
                        ),
                    )
                )
                self._kafka_mappings += [child for child in function.node.children
                                         if child.node.path not in before]
                # CDK attaches AWSLambdaMSKExecutionRole (kafka:Describe*/GetBootstrapBrokers and ENI
                # actions on "*"); replace it with the same actions scoped to this cluster.
                cfn_role = role.node.default_child
                assert isinstance(cfn_role, iam.CfnRole)
                cfn_role.managed_policy_arns = None
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=[
                            "kafka:DescribeCluster",
                            "kafka:DescribeClusterV2",
                            "kafka:GetBootstrapBrokers",
                        ],
                        resources=[data.kafka_cluster_arn],
                    )
                )
            elif isinstance(trigger, DeployTrigger):
                resource = self._deploy_resource(spec, scope, function, code_dir)
                self.deploy_resources.append(resource)
                self.deploy_resources_of[resource] = spec.name
            elif isinstance(trigger, ScheduleTrigger):
                assert failure_queue is not None
                function.configure_async_invoke(
                    on_failure=destinations.SqsDestination(failure_queue), retry_attempts=SCHEDULE_RETRIES
                )
                schedule_role = iam.Role(
                    scope,
                    f"Schedule{index}Role",
                    assumed_by=iam.ServicePrincipal(
                        "scheduler.amazonaws.com",
                        conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
                    ),
                    description=f"EventBridge Scheduler: invoke {config.prefix}-{spec.name}",
                )
                scheduler.Schedule(
                    scope,
                    f"Schedule{index}",
                    schedule_name=f"{config.prefix}-{spec.name}-{index}",
                    description=f"{spec.name} every {trigger.every_seconds}s",
                    schedule=scheduler.ScheduleExpression.rate(schedule_rate(spec, trigger)),
                    target=targets.LambdaInvoke(
                        function,
                        role=schedule_role,
                        dead_letter_queue=failure_queue,
                        retry_attempts=SCHEDULE_RETRIES,
                        max_event_age=Duration.hours(1),
                    ),
                )
                nag.ack(
                    schedule_role.node.find_child("DefaultPolicy"),
                    f"AwsSolutions-IAM5[Resource::{nag.resolved(function.function_arn, self)}:*]",
                    "CDK's grantInvoke adds the function's qualified ARNs (<arn>:*, versions/aliases) next "
                    "to the function ARN; the role can invoke this one function only.",
                )
        return failure_queue

    def _deploy_resource(
        self, spec: Function, scope: Construct, function: lambda_.Function, code_dir: Path
    ) -> CustomResource:
        """A custom resource whose Provider invokes ``function`` on every deploy that changes its code
        or the shared layer (the migrations, the index mapping and the topics live there): the
        property is their content hash, so an unchanged deploy does not re-run it needlessly, and a
        re-run would change nothing anyway (the bootstrap is idempotent)."""
        provider_logs = logs.LogGroup(
            scope,
            "ProviderLogs",
            retention=self._config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        nag.skip_log_group_kms(provider_logs)
        provider = cr.Provider(scope, "Provider", on_event_handler=function, log_group=provider_logs)
        framework = provider.node.find_child("framework-onEvent")
        nag.skip_function_checks(framework, PROVIDER_FAILURES)
        nag.skip_checkov(
            framework,
            "CKV_AWS_117",
            "Outside the VPC on purpose: the framework only calls the Lambda API (to invoke the bootstrap "
            "function, which runs in the VPC) and CloudFormation's presigned response URL.",
        )
        nag.ack(
            framework,
            "AwsSolutions-L1",
            "The Provider framework's own function: CDK chooses and updates its Node.js runtime.",
        )
        nag.ack(
            framework.node.find_child("ServiceRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "The Provider framework's role, made by CDK: basic execution (its own log group) only.",
        )
        nag.ack(
            framework.node.find_child("ServiceRole").node.find_child("DefaultPolicy"),
            f"AwsSolutions-IAM5[Resource::{nag.resolved(function.function_arn, self)}:*]",
            "CDK's grantInvoke on the bootstrap function adds its qualified ARNs (<arn>:*); the "
            "framework can invoke this one function only.",
        )
        data = self._data
        code_hash = bundling.content_hash(code_dir, bundling.SHARED_LAYER_DIR)
        function.add_environment(CODE_HASH_ENV, code_hash)  # the handler's own hash (a rollback's differs)
        return CustomResource(
            scope,
            "Deploy",
            service_token=provider.service_token,
            resource_type="Custom::FileshareBootstrap",
            properties={
                "CodeHash": code_hash,
                # A replaced store has a new identifier, so the bootstrap provisions the new one.
                "DatabaseEndpoint": data.cluster.cluster_endpoint.hostname,
                "ProxyEndpoint": data.proxy.endpoint,
                "SearchEndpoint": data.search_domain.domain_endpoint,
                "KafkaClusterArn": data.kafka_cluster_arn,
            },
        )

    def _order_deploy(self) -> None:
        """Deploy order CloudFormation cannot infer from references: the bootstrap runs once what it
        reaches serves (the writer instance, the proxy's target, the endpoints, its network rules),
        and the Kafka mappings start once it has created the topics."""
        for resource, name in self.deploy_resources_of.items():
            resource.node.add_dependency(
                self._data.database_writer,
                self._data.proxy_target_group,
                *self._network.proxy_to_database,
                *self._network.interface_endpoints.values(),
            )
            sg = self._security_groups.get(name)
            if sg is not None:  # its own group (and egress rules), and the stores' ingress from it
                resource.node.add_dependency(sg, *self._network.ingress_rules(sg))
            for mapping in self._kafka_mappings:
                mapping.node.add_dependency(resource)

    # --- cdk-nag acknowledgments on the role -----------------------------------------------------------
    def _ack_role(self, role: iam.Role, spec: Function) -> None:
        policy = role.node.try_find_child("DefaultPolicy")
        if policy is None:
            return
        nag.skip_checkov(policy, "CKV_AWS_111", nag.UNCONSTRAINED_WRITE)
        nag.ack(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Only actions without resource-level permissions use '*': X-Ray PutTraceSegments/"
            "PutTelemetryRecords (active tracing) and, in the VPC, the ENI actions Lambda needs.",
        )
        if Uses.SEARCH in spec.uses:
            nag.ack(
                policy,
                f"AwsSolutions-IAM5[Resource::{nag.resolved(self._data.search_domain_arn, self)}/*]",
                "es:ESHttp* on the paths (indices, documents) of this one domain; index names are "
                "managed by the application (aliases), so the path is a wildcard under the domain.",
            )
        if Uses.SOCKETS in spec.uses and self._sockets is not None:
            nag.ack(policy, f"AwsSolutions-IAM5[Resource::{self._sockets.connections_pattern(self)}]",
                    "execute-api:ManageConnections on this one stage's @connections: connection ids are "
                    "made by API Gateway at each connect, unknowable at deploy time.")
        bucket_uses = [u for u in spec.uses if u in BUCKET_ACTIONS]
        if bucket_uses:
            for prefix in sorted({p for use in bucket_uses for p in use_prefixes(use)}):
                nag.ack(
                    policy,
                    f"AwsSolutions-IAM5[Resource::{nag.resolved(self._storage.bucket_arn, self)}/{prefix}*]",
                    f"Object actions are scoped to the {prefix} prefix; keys are server-chosen per owner and "
                    "file (u/<owner>/<file_id>/...), unknowable at deploy time.",
                )
