"""CloudWatch dashboard (from ``infra.panels``) and the alarms, all notifying the SNS on-call topic.

Three kinds of alarm: thresholds on AWS service metrics (``alarm_specs``), multi-window burn-rate
alarms for each SLO of ``infra.slos`` (a composite per window pair notifies; its two window alarms
do not), and thresholds on the functions' own metrics that mean work is lost or delayed
(``infra.slos.LOST_WORK``). Every alarm's description ends with its runbook, ``docs/runbooks/*.md``.
"""

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
from infra.panels import consumer_queues, dead_letter_queues, kafka_consumers, panels
from infra.slos import (
    BURN_WINDOWS,
    LOST_WORK,
    RUNBOOK_DIR,
    SLOS,
    LatencySlo,
    LostWorkAlarm,
    MetricSpec,
    Slo,
    budget_threshold,
    fill,
)

PERIOD = Duration.minutes(5)


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: a metric, a threshold, how many 5-minute periods must breach."""

    name: str
    metric: MetricSpec
    threshold: float
    evaluation_periods: int = 1
    description: str = ""
    runbook: str = ""  # docs/runbooks/<runbook>.md


def with_runbook(description: str, runbook: str) -> str:
    return f"{description}. Runbook: {RUNBOOK_DIR}/{runbook}.md"


MATH_METRICS_MAX = 10  # metrics one alarm's math expression may use


def throttle_alarms(functions: Sequence[Function]) -> list[LostWorkAlarm]:
    """Throttles of every function, summed, in as few alarms as metric math allows (one alarm per
    function would cost a resource each, and CloudFormation allows 500 per template)."""
    names = [fn.name for fn in functions]
    groups = [names[i : i + MATH_METRICS_MAX] for i in range(0, len(names), MATH_METRICS_MAX)]
    return [
        LostWorkAlarm(
            "lambda-throttles" if len(groups) == 1 else f"lambda-throttles-{index + 1}",
            f"Lambda throttled {', '.join(group)} (see the Lambda throttles panel for which)",
            tuple(MetricSpec("AWS/Lambda", "Throttles", (("FunctionName", f"{{prefix}}-{n}"),), "Sum", n)
                  for n in group),
            1,
            page="lambda-throttles",
        )
        for index, group in enumerate(groups)
    ]


def alarm_specs(functions: Sequence[Function]) -> list[AlarmSpec]:
    api = (("ApiName", "{prefix}"), ("Stage", "v1"))
    specs = [
        AlarmSpec(
            "api-5xx",
            MetricSpec("AWS/ApiGateway", "5XXError", api, "Sum", "5xx"),
            5,
            description="API returned 5xx responses",
            runbook="api-5xx",
        ),
        AlarmSpec(
            "api-latency-p99",
            MetricSpec("AWS/ApiGateway", "Latency", api, "p99", "p99"),
            3000,
            3,
            description="API p99 latency above 3 s for 15 minutes",
            runbook="api-latency",
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
            runbook="opensearch-health",
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
            runbook="opensearch-health",
        ),
        AlarmSpec(
            "aurora-acu-high",
            MetricSpec(
                "AWS/RDS", "ACUUtilization", (("DBClusterIdentifier", "{prefix}"),), "Average", "ACU %"
            ),
            90,
            3,
            description="Aurora near its maximum capacity for 15 minutes",
            runbook="aurora-capacity",
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
                runbook="lambda-errors",
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
                runbook="queue-oldest-message",
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
                runbook="dead-letters",
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
                runbook="kafka-lag",
            )
        )
    return specs


class OnCall(Construct):
    """The KMS-encrypted SNS on-call topic every alarm notifies (and its key). The stack keeps it in
    its root under the id ``Observability``, so the key's and the topic's logical ids do not change
    while the alarms and the dashboard live in a nested stack (``infra.layout``)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self, "OnCallKey", enable_key_rotation=True, description=f"{config.prefix} on-call topic",
            removal_policy=config.removal_policy,  # dev: scheduled for deletion with the stage
            pending_window=None if config.retainData else Duration.days(7),
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


class Observability(Construct):
    """The dashboard and every alarm, notifying ``topic``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: Sequence[Function],
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.topic = topic

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

        self.alarms: dict[str, cw.AlarmBase] = {}
        self._action = cw_actions.SnsAction(self.topic)
        for spec in alarm_specs(functions):
            alarm = cw.Alarm(
                self,
                f"Alarm-{spec.name}",
                alarm_name=f"{config.prefix}-{spec.name}",
                alarm_description=with_runbook(spec.description, spec.runbook),
                metric=self.metric(spec.metric),
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            self._notify(spec.name, alarm)
        for slo in SLOS:
            self._burn_rate_alarm(slo)
        for lost in (*LOST_WORK, *throttle_alarms(functions)):
            self._lost_work_alarm(lost)

    def _notify(self, name: str, alarm: cw.AlarmBase) -> None:
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[name] = alarm

    def _burn_rate_alarm(self, slo: Slo) -> None:
        """One composite per SLO: for some burn window, both its long and its short window alarm."""
        name = f"slo-{slo.name}-burn"
        rules = []
        for window in BURN_WINDOWS:
            threshold = budget_threshold(slo, window)
            windows = []
            for seconds in (window.long_s, window.short_s):
                window_name = f"slo-{slo.name}-{seconds}s"
                windows.append(cw.Alarm(
                    self,
                    f"Alarm-{window_name}",
                    alarm_name=f"{self._config.prefix}-{window_name}",
                    alarm_description=with_runbook(
                        f"Bad fraction of '{slo.title}' over {seconds // 60} min above {threshold:.4g}"
                        f" ({window.factor}x the budget, {window.name} burn); notifies through {name}",
                        slo.runbook),
                    metric=self.bad_fraction(slo, Duration.seconds(seconds)),
                    threshold=threshold,
                    evaluation_periods=1,
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                ))
                self.alarms[window_name] = windows[-1]
            rules.append(cw.AlarmRule.all_of(
                *(cw.AlarmRule.from_alarm(a, cw.AlarmState.ALARM) for a in windows)))
        burns = " or ".join(f"{w.factor}x over both {w.long_s // 60} and {w.short_s // 60} min"
                            for w in BURN_WINDOWS)
        composite = cw.CompositeAlarm(
            self,
            f"Alarm-{name}",
            composite_alarm_name=f"{self._config.prefix}-{name}",
            alarm_description=with_runbook(
                f"SLO '{slo.title}': the error budget burns too fast ({burns})", slo.runbook),
            alarm_rule=cw.AlarmRule.any_of(*rules),
        )
        self._notify(name, composite)

    def bad_fraction(self, slo: Slo, period: Duration) -> cw.MathExpression:
        """The SLO's bad fraction (0..1) over ``period``."""
        if isinstance(slo, LatencySlo):
            good = self.metric(slo.metric, stat=f"PR(:{slo.threshold_ms})", period=period)
            return cw.MathExpression(expression="(100 - good) / 100", using_metrics={"good": good},
                                     period=period, label=f"{slo.name} bad fraction")
        using = {f"b{i}": self.metric(m, period=period) for i, m in enumerate(slo.bad)}
        using |= {f"t{i}": self.metric(m, period=period) for i, m in enumerate(slo.total)}
        bad = " + ".join(f"FILL(b{i}, 0)" for i in range(len(slo.bad)))
        total = " + ".join(f"FILL(t{i}, 0)" for i in range(len(slo.total)))
        return cw.MathExpression(expression=f"IF(({total}) > 0, ({bad}) / ({total}), 0)",
                                 using_metrics=using, period=period, label=f"{slo.name} bad fraction")

    def _lost_work_alarm(self, lost: LostWorkAlarm) -> None:
        if len(lost.metrics) == 1:
            metric: cw.IMetric = self.metric(lost.metrics[0], stat=lost.stat)
        else:
            using = {f"m{i}": self.metric(m, stat=lost.stat) for i, m in enumerate(lost.metrics)}
            metric = cw.MathExpression(expression=" + ".join(f"FILL(m{i}, 0)" for i in range(len(using))),
                                       using_metrics=using, period=PERIOD, label=lost.name)
        alarm = cw.Alarm(
            self,
            f"Alarm-{lost.name}",
            alarm_name=f"{self._config.prefix}-{lost.name}",
            alarm_description=with_runbook(lost.description, lost.runbook),
            metric=metric,
            threshold=lost.threshold,
            evaluation_periods=lost.periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self._notify(lost.name, alarm)

    def metric(self, spec: MetricSpec, *, stat: str | None = None, period: Duration = PERIOD) -> cw.Metric:
        account = Stack.of(self).account
        return cw.Metric(
            namespace=spec.namespace,
            metric_name=spec.name,
            dimensions_map={
                k: fill(v, prefix=self._config.prefix, account=account) for k, v in spec.dimensions
            },
            statistic=stat or spec.stat,
            label=spec.label,
            period=period,
        )
