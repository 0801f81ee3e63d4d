"""The VPC: isolated private subnets only, the S3 gateway endpoint, the interface endpoints the
functions need, and one security group per data store."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from infra import nag
from infra.config import StageConfig
from infra.declaration import Uses

# AWS APIs reached from inside the VPC, by what a function uses; there is no NAT and no internet route.
ENDPOINTS_BY_USE: dict[Uses, tuple[str, ...]] = {
    Uses.DATABASE: ("SECRETS_MANAGER",),
    Uses.USER_POOL: ("COGNITO_IDP",),
    Uses.EMAIL: ("EMAIL",),
}
# Secret rotation (Aurora) always needs Secrets Manager.
BASE_ENDPOINTS = ("SECRETS_MANAGER",)
# Lambda's MSK event source mapping and the topics custom resource need these without a NAT; SQS:
# the mappings' pollers send records that exhausted their retries to the on-failure queues.
KAFKA_ENDPOINTS = ("LAMBDA_", "STS", "KAFKA", "SECRETS_MANAGER", "SQS")


VPC_CIDR = "10.40.0.0/16"  # a literal, so rules and cdk-nag can read it (the VPC has no peers)


class Network(Construct):
    """VPC, endpoints and the security groups of the data stores (attributes, no wiring)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, uses: Iterable[Uses], kafka: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self._ingress: dict[str, list[IConstruct]] = {}  # function SG path -> the rules allow() made
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=config.prefix,
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            availability_zones=list(config.availabilityZones),  # from the settings: no lookup at synth
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                )
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        nag.skip_log_group_kms(flow_log_group)
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

        self.endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointsSg",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from the VPC",
            allow_all_outbound=False,
        )
        self.endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "HTTPS from the VPC")
        wanted = {name for use in uses for name in ENDPOINTS_BY_USE.get(use, ())} | set(BASE_ENDPOINTS)
        if kafka:
            wanted |= set(KAFKA_ENDPOINTS)
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        for name in sorted(wanted):
            service: ec2.InterfaceVpcEndpointAwsService = getattr(ec2.InterfaceVpcEndpointAwsService, name)
            self.interface_endpoints[name] = self.vpc.add_interface_endpoint(
                name.strip("_").title().replace("_", ""),
                service=service,
                subnets=self.subnets,
                security_groups=[self.endpoint_sg],
                private_dns_enabled=True,
                open=False,  # the endpoint SG already allows HTTPS from the VPC CIDR
            )

        def store_sg(construct_id: str, what: str) -> ec2.SecurityGroup:
            return ec2.SecurityGroup(
                self,
                construct_id,
                vpc=self.vpc,
                description=f"{what}: ingress only from the functions that use it",
                allow_all_outbound=False,
            )

        self.database_sg = store_sg("DatabaseSg", "Aurora PostgreSQL cluster")
        self.proxy_sg = store_sg("ProxySg", "RDS Proxy")
        self.cache_sg = store_sg("CacheSg", "ElastiCache Serverless")
        self.search_sg = store_sg("SearchSg", "OpenSearch domain")
        self.kafka_sg = store_sg("KafkaSg", "MSK Serverless")
        self.database_sg.add_ingress_rule(self.proxy_sg, ec2.Port.tcp(5432), "RDS Proxy to Aurora")
        #: The proxy's path to Aurora: both groups with their rules (CDK's proxy adds its own rules to
        #: them later, as children of the groups).
        self.proxy_to_database: list[IConstruct] = [self.proxy_sg, self.database_sg]
        self.proxy_sg.add_egress_rule(self.database_sg, ec2.Port.tcp(5432), "RDS Proxy to Aurora")
        self.proxy_sg.add_egress_rule(
            ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "RDS Proxy to Secrets Manager"
        )
        # Lambda's MSK pollers run in the cluster's subnets with the cluster's security group.
        self.kafka_sg.add_ingress_rule(self.kafka_sg, ec2.Port.tcp(9098), "MSK IAM: event source pollers")
        self.kafka_sg.add_egress_rule(self.kafka_sg, ec2.Port.tcp(9098), "MSK IAM: event source pollers")
        self.kafka_sg.add_egress_rule(
            ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "pollers to STS/Lambda endpoints"
        )

    def function_sg(self, scope: Construct, construct_id: str, name: str) -> ec2.SecurityGroup:
        """A function's own security group: HTTPS to AWS APIs (endpoints, S3 gateway) only, to start."""
        sg = ec2.SecurityGroup(
            scope, construct_id, vpc=self.vpc, description=f"Lambda {name}", allow_all_outbound=False
        )
        sg.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs via endpoints; no internet route"
        )
        return sg

    def allow(
        self, function_sg: ec2.SecurityGroup, store_sg: ec2.SecurityGroup, port: int, what: str
    ) -> None:
        """Open ``port`` from one function to one data store, both directions' rules explicit."""
        function_sg.add_egress_rule(store_sg, ec2.Port.tcp(port), f"to {what}")
        before = {child.node.path for child in store_sg.node.children}
        store_sg.add_ingress_rule(function_sg, ec2.Port.tcp(port), f"from {function_sg.node.id}")
        self._ingress.setdefault(function_sg.node.path, []).extend(
            child for child in store_sg.node.children if child.node.path not in before)

    def ingress_rules(self, function_sg: ec2.SecurityGroup) -> list[IConstruct]:
        """The data stores' ingress rules :meth:`allow` opened for ``function_sg`` (its egress rules
        are children of the group itself)."""
        return list(self._ingress.get(function_sg.node.path, []))
