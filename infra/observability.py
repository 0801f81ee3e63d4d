"""CloudWatch dashboard (from ``infra.panels``) and the alarms, all notifying the SNS on-call topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import StageConfig
from infra.declaration import Function
from infra.panels import MetricSpec, consumer_queues, dead_letter_queues, kafka_consumers, panels

PERIOD = Duration.minutes(5)


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: a metric, a threshold, how many 5-minute periods must breach."""

    name: str
    metric: MetricSpec
    threshold: float
    evaluation_periods: int = 1
    description: str = ""


def alarm_specs(functions: Sequence[Function]) -> list[AlarmSpec]:
    api = (("ApiName", "{prefix}"), ("Stage", "v1"))
    specs = [
        AlarmSpec(
            "api-5xx",
            MetricSpec("AWS/ApiGateway", "5XXError", api, "Sum", "5xx"),
            5,
            description="API returned 5xx responses",
        ),
        AlarmSpec(
            "api-latency-p99",
            MetricSpec("AWS/ApiGateway", "Latency", api, "p99", "p99"),
            3000,
            3,
            description="API p99 latency above 3 s for 15 minutes",
        ),
        AlarmSpec(
            "opensearch-red",
            MetricSpec(
                "AWS/ES",
                "ClusterStatus.red",
                (("DomainName", "{prefix}"), ("ClientId", "{account}")),
                "Maximum",
                "red",
            ),
            1,
            description="OpenSearch cluster status is red",
        ),
        AlarmSpec(
            "opensearch-writes-blocked",
            MetricSpec(
                "AWS/ES",
                "ClusterIndexWritesBlocked",
                (("DomainName", "{prefix}"), ("ClientId", "{account}")),
                "Maximum",
                "blocked",
            ),
            1,
            description="OpenSearch is blocking index writes",
        ),
        AlarmSpec(
            "aurora-acu-high",
            MetricSpec(
                "AWS/RDS", "ACUUtilization", (("DBClusterIdentifier", "{prefix}"),), "Average", "ACU %"
            ),
            90,
            3,
            description="Aurora near its maximum capacity for 15 minutes",
        ),
    ]
    for fn in functions:
        dims = (("FunctionName", f"{{prefix}}-{fn.name}"),)
        specs.append(
            AlarmSpec(
                f"{fn.name}-errors",
                MetricSpec("AWS/Lambda", "Errors", dims, "Sum", "errors"),
                1,
                description=f"Lambda {fn.name} reported errors",
            )
        )
        specs.append(
            AlarmSpec(
                f"{fn.name}-throttles",
                MetricSpec("AWS/Lambda", "Throttles", dims, "Sum", "throttles"),
                1,
                description=f"Lambda {fn.name} was throttled",
            )
        )
    for queue in consumer_queues(functions):
        specs.append(
            AlarmSpec(
                f"{queue}-oldest-message",
                MetricSpec(
                    "AWS/SQS",
                    "ApproximateAgeOfOldestMessage",
                    (("QueueName", f"{{prefix}}-{queue}"),),
                    "Maximum",
                    "age",
                ),
                900,
                description=f"Queue {queue} has a message older than 15 minutes",
            )
        )
    for dlq in dead_letter_queues(functions):
        specs.append(
            AlarmSpec(
                f"{dlq}-not-empty",
                MetricSpec(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", f"{{prefix}}-{dlq}"),),
                    "Maximum",
                    "depth",
                ),
                1,
                description=f"Dead-letter queue {dlq} holds failed events",
            )
        )
    for topic, group in kafka_consumers(functions):
        specs.append(
            AlarmSpec(
                f"kafka-lag-{group}",
                MetricSpec(
                    "AWS/Kafka",
                    "MaxOffsetLag",
                    (("Cluster Name", "{prefix}"), ("Consumer Group", group), ("Topic", topic)),
                    "Maximum",
                    "lag",
                ),
                1000,
                3,
                description=f"Consumer group {group} lags on {topic} for 15 minutes",
            )
        )
    return specs


class Observability(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, functions: Sequence[Function]
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        key = kms.Key(
            self, "OnCallKey", enable_key_rotation=True, description=f"{config.prefix} on-call topic"
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "OnCall",
            topic_name=f"{config.prefix}-oncall",
            master_key=key,
            enforce_ssl=True,
            display_name=f"Fileshare {config.stage} on-call",
        )
        if config.alarmEmail:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarmEmail))

        self.dashboard = cw.Dashboard(
            self, "Dashboard", dashboard_name=config.prefix, default_interval=Duration.hours(6)
        )
        widgets: list[cw.IWidget] = [
            cw.GraphWidget(
                title=panel.title,
                left=[self.metric(m) for m in panel.metrics],
                width=12,
                height=6,
            )
            for panel in panels(functions)
        ]
        for i in range(0, len(widgets), 2):
            self.dashboard.add_widgets(*widgets[i : i + 2])

        self.alarms: dict[str, cw.Alarm] = {}
        action = cw_actions.SnsAction(self.topic)
        for spec in alarm_specs(functions):
            alarm = cw.Alarm(
                self,
                f"Alarm-{spec.name}",
                alarm_name=f"{config.prefix}-{spec.name}",
                alarm_description=spec.description,
                metric=self.metric(spec.metric),
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[spec.name] = alarm

    def metric(self, spec: MetricSpec) -> cw.Metric:
        account = Stack.of(self).account
        return cw.Metric(
            namespace=spec.namespace,
            metric_name=spec.name,
            dimensions_map={
                k: v.format(prefix=self._config.prefix, account=account) for k, v in spec.dimensions
            },
            statistic=spec.stat,
            label=spec.label,
            period=PERIOD,
        )
