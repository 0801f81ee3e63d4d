"""The dashboard panels, declared once: rendered as a CloudWatch dashboard (``infra.observability``)
and as a Grafana dashboard with a CloudWatch data source (``infra.grafana``).

Dimension values are templates: ``{prefix}`` (``fileshare-<stage>``) and ``{account}``; each renderer
substitutes its own (CDK: the stage and ``AWS::AccountId``; Grafana: ``fileshare-$stage``, ``$account``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra.declaration import Function, KafkaTrigger, Route, SqsTrigger
from infra.slos import API_STAGE, LOST_WORK, NAMESPACE, MetricSpec, api_metric, app_metric


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


def _route(route: Route, metric: str) -> MetricSpec:
    name = f"{route.method} {route.path}"
    return MetricSpec(NAMESPACE, metric, (("api", API_STAGE), ("route", name)), "Sum", name)


def slo_panels(functions: Sequence[Function]) -> list[PanelSpec]:
    """The functions' own metrics: the SLOs of ``infra.slos`` and what means lost work."""
    routes = sorted({r for fn in functions for r in fn.routes}, key=lambda r: (r.path, r.method))
    lost = [m for alarm in LOST_WORK for m in alarm.metrics if m.stat == "Sum"]
    return [
        PanelSpec("Upload -> ready (S3 event to ready commit)", (
            app_metric("processor", "UploadToReadyMs", "p50", "p50"),
            app_metric("processor", "UploadToReadyMs", "p99", "p99")), "ms"),
        PanelSpec("Uploads ready / rejected", (
            app_metric("processor", "FilesReady", label="ready"),
            app_metric("processor", "FilesRejected", label="rejected")), "short"),
        PanelSpec("Outbox backlog (unpublished events)", (
            app_metric("outbox_relay", "OutboxBacklog", "Maximum", "unpublished"),), "short"),
        PanelSpec("Outbox oldest unpublished event age", (
            app_metric("outbox_relay", "OutboxOldestUnpublishedAgeS", "Maximum", "age"),), "s"),
        PanelSpec("Notification delivery (event to inbox)", (
            app_metric("notifier", "NotificationDeliveryMs", "p50", "p50"),
            app_metric("notifier", "NotificationDeliveryMs", "p99", "p99")), "ms"),
        PanelSpec("Push delivery (event to the reader's socket)", (
            app_metric("pusher", "PushDeliveryMs", "p50", "p50"),
            app_metric("pusher", "PushDeliveryMs", "p99", "p99")), "ms"),
        PanelSpec("Push: connects, messages sent, gone connections, failures", (
            app_metric("pusher", "PushConnects", label="connects"),
            app_metric("pusher", "PushSent", label="sent"),
            app_metric("pusher", "PushGone", label="gone (410)"),
            app_metric("pusher", "PushFailed", label="failed")), "short"),
        PanelSpec("Search latency", (
            app_metric("search", "SearchLatencyMs", "p50", "p50"),
            app_metric("search", "SearchLatencyMs", "p99", "p99")), "ms"),
        PanelSpec("API requests (as the functions saw them)", (
            api_metric("ApiRequests", label="requests"), api_metric("Api4xx", label="4xx"),
            api_metric("Api5xx", label="5xx")), "short"),
        PanelSpec("API 5xx by route", tuple(_route(r, "Api5xx") for r in routes), "short"),
        PanelSpec("API 4xx by route", tuple(_route(r, "Api4xx") for r in routes), "short"),
        PanelSpec("Work lost or delayed", tuple(lost), "short"),
    ]


def panels(functions: Sequence[Function]) -> list[PanelSpec]:
    api = (("ApiName", "{prefix}"), ("Stage", API_STAGE))
    names = [fn.name for fn in functions]
    result = [
        *slo_panels(functions),
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
