"""Data stores: Aurora PostgreSQL Serverless v2 behind RDS Proxy, ElastiCache Serverless (Valkey),
an OpenSearch domain in the VPC and MSK Serverless with its topics."""

from __future__ import annotations

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_msk as msk
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_rds as rds
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra import nag
from infra.config import StageConfig
from infra.declaration import EVENTS_TOPIC, Uses
from infra.network import Network

DATABASE_NAME = "fileshare"
DATABASE_USER = "fileshare_admin"


AWS_CUSTOM_RESOURCE_SINGLETON = "AWS679f53fac002430cb0da5b7982bd2287"  # CDK's fixed construct id


class Data(Construct):
    """The stateful stores; exposes endpoints, ARNs and security groups for the functions' wiring."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        network: Network,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._network = network
        self._build_database()
        self._build_cache()
        self._build_search()
        self._build_kafka()

    # --- Aurora PostgreSQL Serverless v2 + RDS Proxy -------------------------------------------------
    def _build_database(self) -> None:
        config, network = self._config, self._network
        readers = [
            rds.ClusterInstance.serverless_v2(f"reader{i}", scale_with_writer=True)
            for i in range(1, config.auroraReaders + 1)
        ]
        self.cluster = rds.DatabaseCluster(
            self,
            "Aurora",
            cluster_identifier=config.prefix,
            engine=rds.DatabaseClusterEngine.aurora_postgres(
                version=rds.AuroraPostgresEngineVersion.VER_16_13
            ),
            writer=rds.ClusterInstance.serverless_v2("writer", enable_performance_insights=True),
            readers=readers,
            serverless_v2_min_capacity=config.auroraMinAcu,
            serverless_v2_max_capacity=config.auroraMaxAcu,
            credentials=rds.Credentials.from_generated_secret(
                DATABASE_USER, secret_name=f"{config.prefix}/database"
            ),
            default_database_name=DATABASE_NAME,
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            security_groups=[network.database_sg],
            storage_encrypted=True,
            iam_authentication=True,
            deletion_protection=config.retainData,
            backup=rds.BackupProps(retention=Duration.days(config.backupRetentionDays)),
            cloudwatch_logs_exports=["postgresql"],
            monitoring_interval=Duration.seconds(60),  # enhanced monitoring (OS metrics per instance)
            # prod keeps the cluster itself (deletion protection is on too), dev deletes it
            removal_policy=config.removal_policy,
        )
        # The export's log group, created here with retention (instead of CDK's Lambda-backed LogRetention).
        aurora_logs = logs.LogGroup(
            self,
            "AuroraLogs",
            log_group_name=f"/aws/rds/cluster/{config.prefix}/postgresql",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        self.cluster.node.add_dependency(aurora_logs)
        nag.skip_log_group_kms(aurora_logs)
        if not config.retainData:
            nag.ack(
                self.cluster,
                "AwsSolutions-RDS10",
                f"{config.stage}: deletion protection is off so the stage can be torn down; prod has it on.",
            )
        nag.ack(
            self.cluster.node.find_child("MonitoringRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonRDSEnhancedMonitoringRole]",
            "RDS enhanced monitoring requires this AWS-managed service-role policy; it only lets RDS "
            "write OS metrics to its own RDSOSMetrics log group.",
        )
        secret = self.cluster.node.find_child("Secret")  # the DatabaseSecret (cluster.secret: its attachment)
        assert isinstance(secret, rds.DatabaseSecret)
        # The data's credentials go (and stay) with the data: a retained cluster without them is locked.
        secret.apply_removal_policy(config.removal_policy)
        nag.skip_checkov(
            secret,
            "CKV_AWS_149",
            "Encrypted with Secrets Manager's AWS-managed key; reads are limited by identity policies "
            "scoped to this secret's ARN, and a customer key would have to be shared with the rotation "
            "function and RDS Proxy for no added protection.",
        )
        # The instance that serves the cluster's endpoint; the cluster resource alone is no server.
        self.database_writer = self.cluster.node.find_child("writer")
        assert self.cluster.secret is not None
        self.database_secret = self.cluster.secret
        rotation_sg = network.function_sg(self, "RotationSg", "secret rotation")
        network.allow(rotation_sg, network.database_sg, 5432, "Aurora")
        self.rotation = self.cluster.add_rotation_single_user(
            automatically_after=Duration.days(30), security_group=rotation_sg, vpc_subnets=network.subnets
        )
        self.proxy = self.cluster.add_proxy(
            "Proxy",
            db_proxy_name=config.prefix,
            secrets=[self.database_secret],
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            security_groups=[network.proxy_sg],
            require_tls=True,
            iam_auth=False,
            idle_client_timeout=Duration.minutes(30),
        )
        # The proxy serves the database only once its target group (the cluster) is registered.
        self.proxy_target_group = self.proxy.node.find_child("ProxyTargetGroup")
        self.database_url = f"postgresql://{self.proxy.endpoint}:5432/{DATABASE_NAME}?sslmode=require"
        nag.ack(
            self.cluster,
            "AwsSolutions-RDS11",
            "The cluster is reachable only through RDS Proxy from the database security group; "
            "a non-default port adds no protection and the proxy always listens on 5432.",
        )

    # --- ElastiCache Serverless (Valkey, TLS always on) ----------------------------------------------
    def _build_cache(self) -> None:
        config, network = self._config, self._network
        self.cache = elasticache.CfnServerlessCache(
            self,
            "Cache",
            serverless_cache_name=config.prefix,
            engine="valkey",
            major_engine_version="8",
            description="Fileshare metadata cache and idempotency store",
            security_group_ids=[network.cache_sg.security_group_id],
            subnet_ids=network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
            cache_usage_limits=elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                data_storage=elasticache.CfnServerlessCache.DataStorageProperty(
                    maximum=config.cacheMaxGb, unit="GB"
                ),
                ecpu_per_second=elasticache.CfnServerlessCache.ECPUPerSecondProperty(
                    maximum=config.cacheMaxEcpuPerSecond
                ),
            ),
            snapshot_retention_limit=config.backupRetentionDays if config.retainData else 0,
        )
        self.cache.apply_removal_policy(config.removal_policy)
        # ElastiCache Serverless only accepts TLS connections: rediss://
        self.redis_url = f"rediss://{self.cache.attr_endpoint_address}:{self.cache.attr_endpoint_port}"

    # --- OpenSearch domain in the VPC ----------------------------------------------------------------
    def _build_search(self) -> None:
        config, network = self._config, self._network
        stack = Stack.of(self)
        domain_name = config.prefix
        log_groups = {
            kind: logs.LogGroup(
                self,
                f"Search{kind}Logs",
                log_group_name=f"/aws/opensearch/{domain_name}/{kind.lower()}",
                retention=config.log_retention,
                removal_policy=config.removal_policy,
            )
            for kind in ("App", "SlowSearch", "SlowIndex")
        }
        for group in log_groups.values():
            nag.skip_log_group_kms(group)
        # Written by the service; created here (not by CDK's Lambda-backed helper) and scoped to these groups.
        logs_policy = logs.CfnResourcePolicy(
            self,
            "SearchLogsPolicy",
            policy_name=f"{domain_name}-opensearch-logs",
            policy_document=stack.to_json_string(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "es.amazonaws.com"},
                            "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                            "Resource": [group.log_group_arn for group in log_groups.values()],
                            "Condition": {"StringEquals": {"aws:SourceAccount": stack.account}},
                        }
                    ],
                }
            ),
        )
        multi_az = config.searchDataNodes > 1
        self.search_domain = opensearch.Domain(
            self,
            "Search",
            domain_name=domain_name,
            version=opensearch.EngineVersion.OPENSEARCH_2_19,
            vpc=network.vpc,
            # two zones (availability_zone_count below), whatever the VPC has
            vpc_subnets=[ec2.SubnetSelection(subnets=network.vpc.isolated_subnets[:2])]
            if multi_az
            else [ec2.SubnetSelection(subnets=[network.vpc.isolated_subnets[0]])],
            security_groups=[network.search_sg],
            capacity=opensearch.CapacityConfig(
                data_nodes=config.searchDataNodes,
                data_node_instance_type=config.searchInstanceType,
                master_nodes=config.searchMasterNodes or None,
                master_node_instance_type=config.searchInstanceType if config.searchMasterNodes else None,
                multi_az_with_standby_enabled=False,
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(enabled=multi_az, availability_zone_count=2)
            if multi_az
            else opensearch.ZoneAwarenessConfig(enabled=False),
            ebs=opensearch.EbsOptions(
                volume_size=config.searchVolumeGb, volume_type=ec2.EbsDeviceVolumeType.GP3
            ),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2,
            logging=opensearch.LoggingOptions(
                app_log_enabled=True,
                app_log_group=log_groups["App"],
                slow_search_log_enabled=True,
                slow_search_log_group=log_groups["SlowSearch"],
                slow_index_log_enabled=True,
                slow_index_log_group=log_groups["SlowIndex"],
            ),
            suppress_logs_resource_policy=True,
            removal_policy=config.removal_policy,
        )
        # IAM access: the domain trusts signed requests from this account's principals, and only the
        # roles whose identity policy grants es:ESHttp* on this domain (the functions using SEARCH) get in.
        domain_arn = stack.format_arn(service="es", resource="domain", resource_name=domain_name)
        cfn_domain = self.search_domain.node.default_child
        assert isinstance(cfn_domain, opensearch.CfnDomain)
        # The domain checks at creation that it may write its logs: the policy must exist first.
        cfn_domain.node.add_dependency(logs_policy)
        nag.skip_checkov(
            cfn_domain,
            "CKV_AWS_317",
            "Audit logs need fine-grained access control (an internal user database), which this domain "
            "does not use: access is IAM-only (domain policy plus per-function identity policies); the "
            "application and slow logs are on.",
        )
        cfn_domain.access_policies = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{stack.partition}:iam::{stack.account}:root"},
                    "Action": [
                        "es:ESHttpGet",
                        "es:ESHttpHead",
                        "es:ESHttpPost",
                        "es:ESHttpPut",
                        "es:ESHttpDelete",
                    ],
                    "Resource": f"{domain_arn}/*",
                }
            ],
        }
        self.search_domain_arn = domain_arn
        nag.ack(
            self.search_domain,
            "AwsSolutions-OS3",
            "VPC-only domain: IP-based conditions cannot be used with VPC access; access is IAM-signed "
            "and limited by the search security group to the functions that use search.",
        )
        self.opensearch_url = f"https://{self.search_domain.domain_endpoint}"
        if not config.searchMasterNodes:
            nag.ack(
                self.search_domain,
                "AwsSolutions-OS4",
                f"{config.stage}: a single small data node; dedicated masters are used in prod.",
            )
        if not multi_az:
            nag.ack(
                self.search_domain,
                "AwsSolutions-OS7",
                f"{config.stage}: one node in one AZ to keep the stage cheap; prod uses zone awareness.",
            )

    # --- MSK Serverless + topics ---------------------------------------------------------------------
    def _build_kafka(self) -> None:
        config, network = self._config, self._network
        stack = Stack.of(self)
        self.kafka_cluster_name = config.prefix
        self.kafka = msk.CfnServerlessCluster(
            self,
            "Kafka",
            cluster_name=self.kafka_cluster_name,
            client_authentication=msk.CfnServerlessCluster.ClientAuthenticationProperty(
                sasl=msk.CfnServerlessCluster.SaslProperty(
                    iam=msk.CfnServerlessCluster.IamProperty(enabled=True)
                )
            ),
            vpc_configs=[
                msk.CfnServerlessCluster.VpcConfigProperty(
                    subnet_ids=network.vpc.select_subnets(
                        subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
                    ).subnet_ids,
                    security_groups=[network.kafka_sg.security_group_id],
                )
            ],
        )
        self.kafka.apply_removal_policy(config.removal_policy)  # topics hold undelivered events
        self.kafka_cluster_arn = self.kafka.attr_arn
        # Topic and group ARNs: arn:...:topic/<cluster name>/<cluster uuid>/<topic>
        cluster_uuid = Fn.select(2, Fn.split("/", self.kafka_cluster_arn))
        self._kafka_arn_prefix = f"arn:{stack.partition}:kafka:{stack.region}:{stack.account}"
        self._kafka_cluster_uuid = cluster_uuid

        # The IAM bootstrap string exists only once the cluster does: read it with one SDK call at
        # deploy time (a control-plane API, so the lookup needs no VPC access). The topics themselves
        # are created by the bootstrap function (fileshare.bootstrap), the one Kafka client config.
        lookup_logs = logs.LogGroup(self, "KafkaBootstrapBrokersLogs", retention=config.log_retention,
                                    removal_policy=RemovalPolicy.DESTROY)
        nag.skip_log_group_kms(lookup_logs)
        lookup = cr.AwsCustomResource(
            self,
            "KafkaBootstrapBrokers",
            on_create=self._bootstrap_brokers_call(),
            on_update=self._bootstrap_brokers_call(),
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(actions=["kafka:GetBootstrapBrokers"], resources=[self.kafka_cluster_arn])
            ]),
            install_latest_aws_sdk=False,
            log_group=lookup_logs,
        )
        singleton = stack.node.find_child(AWS_CUSTOM_RESOURCE_SINGLETON)
        nag.skip_function_checks(
            singleton,
            "No function-level DLQ: CDK's AwsCustomResource function answers CloudFormation itself "
            "(SUCCESS, or FAILED with the SDK error), so a failure fails the deploy.",
        )
        nag.skip_checkov(
            singleton,
            "CKV_AWS_117",
            "Outside the VPC on purpose: it makes one control-plane call (kafka:GetBootstrapBrokers) and "
            "answers CloudFormation's presigned URL; the isolated VPC has no route to either.",
        )
        nag.ack(singleton, "AwsSolutions-L1",
                "CDK's AwsCustomResource function: CDK chooses and updates its Node.js runtime.")
        nag.ack(singleton.node.find_child("ServiceRole"),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "CDK's AwsCustomResource role: basic execution (its log group) only; its one SDK call "
                "(kafka:GetBootstrapBrokers on this cluster) is a separate scoped policy.")
        self.kafka_bootstrap_servers = lookup.get_response_field("BootstrapBrokerStringSaslIam")

    def _bootstrap_brokers_call(self) -> cr.AwsSdkCall:
        return cr.AwsSdkCall(
            service="Kafka",
            action="getBootstrapBrokers",
            parameters={"ClusterArn": self.kafka_cluster_arn},
            physical_resource_id=cr.PhysicalResourceId.of(f"{self.kafka_cluster_name}-bootstrap-brokers"),
            output_paths=["BootstrapBrokerStringSaslIam"],
        )

    # --- access: what a function that uses one of these stores is granted, and its environment ----------
    def _kafka_client(self, role: iam.Role, sg: ec2.SecurityGroup, topic_actions: list[str],
                      cluster_actions: tuple[str, ...] = ()) -> dict[str, str]:
        """MSK IAM access for one kind of Kafka client: connect to the cluster (and ``cluster_actions``
        on it), ``topic_actions`` on the events topic; the env the shared layer's Kafka client config
        reads."""
        self._network.allow(sg, self._network.kafka_sg, 9098, "MSK (IAM)")
        connect = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", *cluster_actions]
        role.add_to_policy(iam.PolicyStatement(actions=connect, resources=[self.kafka_cluster_arn]))
        role.add_to_policy(iam.PolicyStatement(actions=topic_actions,
                                               resources=[self.topic_arn(EVENTS_TOPIC)]))
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers, "KAFKA_SECURITY": "iam",
                "EVENTS_TOPIC": EVENTS_TOPIC}

    def grant(self, use: Uses, role: iam.Role, sg: ec2.SecurityGroup) -> dict[str, str]:
        """Grant ``role`` (in ``sg``) access to the store behind ``use``; returns the variables the
        function gets (``infra.declaration.RESOURCES`` lists them)."""
        network = self._network
        if use is Uses.DATABASE:
            network.allow(sg, network.proxy_sg, 5432, "RDS Proxy")
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    resources=[self.database_secret.secret_arn],
                )
            )
            return {"DATABASE_URL": self.database_url, "DATABASE_SECRET_ARN": self.database_secret.secret_arn}
        if use is Uses.CACHE:
            network.allow(sg, network.cache_sg, 6379, "ElastiCache (primary)")
            network.allow(sg, network.cache_sg, 6380, "ElastiCache (reader)")
            return {"REDIS_URL": self.redis_url}
        if use is Uses.SEARCH:
            network.allow(sg, network.search_sg, 443, "OpenSearch")
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "es:ESHttpGet",
                        "es:ESHttpHead",
                        "es:ESHttpPost",
                        "es:ESHttpPut",
                        "es:ESHttpDelete",
                    ],
                    resources=[self.search_domain_arn, f"{self.search_domain_arn}/*"],
                )
            )
            return {"OPENSEARCH_URL": self.opensearch_url, "OPENSEARCH_AUTH": "sigv4"}
        if use is Uses.EVENTS_PUBLISH:
            # kafka-python 3's producers are idempotent by default (InitProducerId), which MSK IAM
            # allows only with WriteDataIdempotently on the cluster, not the topic.
            return self._kafka_client(role, sg, ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
                                      cluster_actions=("kafka-cluster:WriteDataIdempotently",))
        if use is Uses.EVENTS_ADMIN:  # the bootstrap: create the topics, grow their partitions
            return self._kafka_client(role, sg, [
                "kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:AlterTopic",
                "kafka-cluster:DescribeTopicDynamicConfiguration"])
        raise ValueError(f"the data stores do not grant {use!r}")

    def topic_arn(self, topic: str) -> str:
        return f"{self._kafka_arn_prefix}:topic/{self.kafka_cluster_name}/{self._kafka_cluster_uuid}/{topic}"

    def group_arn(self, group: str) -> str:
        return f"{self._kafka_arn_prefix}:group/{self.kafka_cluster_name}/{self._kafka_cluster_uuid}/{group}"


def add_vpc_access(role: iam.Role) -> None:
    """What AWSLambdaVPCAccessExecutionRole grants, inline: ENI management has no resource-level scope."""
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            resources=["*"],
        )
    )
