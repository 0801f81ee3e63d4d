"""The dashboard panels, declared once: rendered as a CloudWatch dashboard (``infra.observability``)
and as a Grafana dashboard with a CloudWatch data source (``infra.grafana``).

Dimension values are templates: ``{prefix}`` (``fileshare-<stage>``) and ``{account}``; each renderer
substitutes its own (CDK: the stage and ``AWS::AccountId``; Grafana: ``fileshare-$stage``, ``$account``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra.declaration import Function, KafkaTrigger, SqsTrigger

API_STAGE = "v1"


@dataclass(frozen=True)
class MetricSpec:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str  # CloudWatch statistic: Sum, Average, Maximum, p50, p99
    label: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    metrics: tuple[MetricSpec, ...]
    unit: str = "none"  # Grafana unit id: ms, s, short, none, percent


def _fn(name: str) -> tuple[tuple[str, str], ...]:
    return (("FunctionName", f"{{prefix}}-{name}"),)


def _queue(name: str) -> tuple[tuple[str, str], ...]:
    return (("QueueName", f"{{prefix}}-{name}"),)


def consumer_queues(functions: Sequence[Function]) -> list[str]:
    return sorted({t.queue for fn in functions for t in fn.triggers if isinstance(t, SqsTrigger)})


def dead_letter_queues(functions: Sequence[Function]) -> list[str]:
    """Logical names of every DLQ / on-failure queue (``<queue>-dlq`` and ``<function>-failures``)."""
    dlqs = [f"{queue}-dlq" for queue in consumer_queues(functions)]
    dlqs += [fn.failure_queue for fn in functions if fn.failure_queue]
    return sorted(dlqs)


def kafka_consumers(functions: Sequence[Function]) -> list[tuple[str, str]]:
    return sorted(
        {(t.topic, t.consumer_group) for fn in functions for t in fn.triggers if isinstance(t, KafkaTrigger)}
    )


def panels(functions: Sequence[Function]) -> list[PanelSpec]:
    api = (("ApiName", "{prefix}"), ("Stage", API_STAGE))
    names = [fn.name for fn in functions]
    result = [
        PanelSpec(
            "API latency",
            (
                MetricSpec("AWS/ApiGateway", "Latency", api, "p50", "p50"),
                MetricSpec("AWS/ApiGateway", "Latency", api, "p99", "p99"),
            ),
            "ms",
        ),
        PanelSpec(
            "API errors",
            (
                MetricSpec("AWS/ApiGateway", "4XXError", api, "Sum", "4xx"),
                MetricSpec("AWS/ApiGateway", "5XXError", api, "Sum", "5xx"),
                MetricSpec("AWS/ApiGateway", "Count", api, "Sum", "requests"),
            ),
            "short",
        ),
        PanelSpec(
            "Lambda errors",
            tuple(MetricSpec("AWS/Lambda", "Errors", _fn(n), "Sum", n) for n in names),
            "short",
        ),
        PanelSpec(
            "Lambda duration p99",
            tuple(MetricSpec("AWS/Lambda", "Duration", _fn(n), "p99", n) for n in names),
            "ms",
        ),
        PanelSpec(
            "Lambda throttles",
            tuple(MetricSpec("AWS/Lambda", "Throttles", _fn(n), "Sum", n) for n in names),
            "short",
        ),
        PanelSpec(
            "Lambda concurrency",
            tuple(MetricSpec("AWS/Lambda", "ConcurrentExecutions", _fn(n), "Maximum", n) for n in names),
            "short",
        ),
        PanelSpec(
            "SQS age of oldest message",
            tuple(
                MetricSpec("AWS/SQS", "ApproximateAgeOfOldestMessage", _queue(q), "Maximum", q)
                for q in consumer_queues(functions)
            ),
            "s",
        ),
        PanelSpec(
            "Dead-letter queue depth",
            tuple(
                MetricSpec("AWS/SQS", "ApproximateNumberOfMessagesVisible", _queue(q), "Maximum", q)
                for q in dead_letter_queues(functions)
            ),
            "short",
        ),
        PanelSpec(
            "MSK consumer lag (max offset lag)",
            tuple(
                MetricSpec(
                    "AWS/Kafka",
                    "MaxOffsetLag",
                    (("Cluster Name", "{prefix}"), ("Consumer Group", group), ("Topic", topic)),
                    "Maximum",
                    group,
                )
                for topic, group in kafka_consumers(functions)
            ),
            "short",
        ),
        PanelSpec(
            "OpenSearch health",
            tuple(
                MetricSpec(
                    "AWS/ES",
                    metric,
                    (("DomainName", "{prefix}"), ("ClientId", "{account}")),
                    "Maximum",
                    label,
                )
                for metric, label in (
                    ("ClusterStatus.red", "red"),
                    ("ClusterStatus.yellow", "yellow"),
                    ("ClusterIndexWritesBlocked", "writes blocked"),
                )
            ),
            "short",
        ),
        PanelSpec(
            "Aurora capacity (ACU)",
            (
                MetricSpec(
                    "AWS/RDS",
                    "ServerlessDatabaseCapacity",
                    (("DBClusterIdentifier", "{prefix}"),),
                    "Average",
                    "ACU",
                ),
                MetricSpec(
                    "AWS/RDS", "ACUUtilization", (("DBClusterIdentifier", "{prefix}"),), "Average", "ACU %"
                ),
            ),
            "short",
        ),
        PanelSpec(
            "Aurora connections",
            (
                MetricSpec(
                    "AWS/RDS",
                    "DatabaseConnections",
                    (("DBClusterIdentifier", "{prefix}"),),
                    "Maximum",
                    "database",
                ),
                MetricSpec(
                    "AWS/RDS", "ClientConnections", (("ProxyName", "{prefix}"),), "Maximum", "proxy clients"
                ),
            ),
            "short",
        ),
        PanelSpec(
            "Redis hits",
            (
                MetricSpec("AWS/ElastiCache", "CacheHits", (("clusterId", "{prefix}"),), "Sum", "hits"),
                MetricSpec("AWS/ElastiCache", "CacheMisses", (("clusterId", "{prefix}"),), "Sum", "misses"),
            ),
            "short",
        ),
    ]
    return [panel for panel in result if panel.metrics]
