"""Service-level objectives and the alarms that mean work is lost or delayed, declared once.

Plain data (stdlib only, like ``infra.declaration``): ``infra.observability`` turns it into CloudWatch
alarms (multi-window, multi-burn-rate for each SLO; thresholds for lost work), ``infra.panels`` into
dashboard panels, and the local ops page (``lambdarun.ops``) computes the same numbers from the local
runtime's EMF output. The metric names are the ones ``fileshare.adapters.telemetry`` (and the functions)
emit; the tests fire each through its code path and compare with the synthesized alarms.

Burn rates (Google SRE workbook, chapter 5): an SLO with objective ``o`` has an error budget of
``1 - o`` per 30 days. Its one notifying alarm (``slo-<name>-burn``, a composite) fires on a "fast"
burn, both the last hour and the last 5 minutes burning the budget 14.4 times too fast (2 % of the
month's budget in one hour), or a "slow" one, both the last 6 hours and the last 30 minutes at 6
times (5 % in six hours). The short windows make it stop soon after the burn stops. (One composite
per SLO rather than one per burn window: the stack is close to CloudFormation's 500 resources.)
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "Fileshare"  # = infra.config.METRICS_NAMESPACE (POWERTOOLS_METRICS_NAMESPACE)
API_STAGE = "v1"
RUNBOOK_BASE = "https://github.com/fileshare/fileshare/blob/main/docs/runbooks"
RUNBOOK_DIR = "docs/runbooks"


@dataclass(frozen=True)
class MetricSpec:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str  # CloudWatch statistic: Sum, Average, Maximum, p50, p99, PR(:x)
    label: str


def fill(template: str, **values: str) -> str:
    """Substitute ``{prefix}``/``{account}`` only (route names hold ``{file_id}`` literally)."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def app_metric(service: str, name: str, stat: str = "Sum", label: str = "") -> MetricSpec:
    """A metric a function emits through Powertools (dimension ``service`` = the function's name)."""
    return MetricSpec(NAMESPACE, name, (("service", service),), stat, label or f"{service} {name}")


def api_metric(name: str, stat: str = "Sum", label: str = "") -> MetricSpec:
    """The whole API's request metrics (``fileshare.adapters.telemetry.observe_api``)."""
    return MetricSpec(NAMESPACE, name, (("api", API_STAGE),), stat, label or name)


@dataclass(frozen=True)
class BurnWindow:
    name: str  # "fast" | "slow"
    long_s: int
    short_s: int
    factor: float  # how many times faster than sustainable the budget burns


BURN_WINDOWS = (BurnWindow("fast", 3600, 300, 14.4), BurnWindow("slow", 6 * 3600, 1800, 6.0))


@dataclass(frozen=True)
class LatencySlo:
    """``objective`` of the samples of ``metric`` (ms) are at most ``threshold_ms``."""

    name: str
    title: str
    metric: MetricSpec
    threshold_ms: int
    objective: float

    @property
    def runbook(self) -> str:
        return f"slo-{self.name}"


@dataclass(frozen=True)
class RatioSlo:
    """At most ``1 - objective`` of ``sum(total)`` are ``sum(bad)``."""

    name: str
    title: str
    bad: tuple[MetricSpec, ...]
    total: tuple[MetricSpec, ...]
    objective: float

    @property
    def runbook(self) -> str:
        return f"slo-{self.name}"


Slo = LatencySlo | RatioSlo


SLOS: tuple[Slo, ...] = (
    LatencySlo("upload-ready-latency",
               "99 % of uploads are ready within 30 s of S3's ObjectCreated event",
               app_metric("processor", "UploadToReadyMs", "p99"), 30_000, 0.99),
    RatioSlo("upload-rejections",
             "at most 5 % of processed uploads are rejected (type, size or quota)",
             (app_metric("processor", "FilesRejected"),),
             (app_metric("processor", "FilesReady"), app_metric("processor", "FilesRejected")), 0.95),
    LatencySlo("notification-latency",
               "99 % of notifications are in the inbox within 60 s of their event",
               app_metric("notifier", "NotificationDeliveryMs", "p99"), 60_000, 0.99),
    LatencySlo("search-latency", "99 % of searches answer within 1 s",
               app_metric("search", "SearchLatencyMs", "p99"), 1_000, 0.99),
    RatioSlo("api-availability", "99.9 % of API requests do not fail with a 5xx",
             (api_metric("Api5xx"),), (api_metric("ApiRequests"),), 0.999),
    LatencySlo("push-latency",
               "99 % of pushes reach the reader's socket within 5 s of their event",
               app_metric("pusher", "PushDeliveryMs", "p99"), 5_000, 0.99),
)


@dataclass(frozen=True)
class LostWorkAlarm:
    """Fires when ``sum(metrics)`` (per 5 minutes, with ``stat``) is at least ``threshold`` for
    ``periods`` periods in a row."""

    name: str
    description: str
    metrics: tuple[MetricSpec, ...]
    threshold: float
    periods: int = 1
    stat: str = "Sum"
    page: str = ""  # the runbook, when it is not named like the alarm

    @property
    def runbook(self) -> str:
        return self.page or self.name


LOST_WORK: tuple[LostWorkAlarm, ...] = (
    LostWorkAlarm(
        "outbox-stalled",
        "An event has waited in the outbox for more than 5 minutes in two relay runs 5 minutes apart:"
        " publishing to Kafka fails persistently, so consumers (notifications, index, deletion) wait",
        (app_metric("outbox_relay", "OutboxOldestUnpublishedAgeS", "Maximum"),), 300, 2, "Maximum"),
    LostWorkAlarm(
        "search-sync-failed",
        "Search documents could not be written or removed: search results are stale until retries"
        " (or the dead-letter redrive) repair them",
        (app_metric("indexer", "IndexSyncFailed"), app_metric("processor", "IndexSyncFailed"),
         app_metric("trash", "IndexSyncFailed"), app_metric("processor", "IndexingFailed"),
         app_metric("sharing", "SearchAclSyncFailed"), app_metric("trash", "SearchStatusSyncFailed")),
        1),
    LostWorkAlarm(
        "sweeper-failures",
        "The sweeper could not finish a stalled purge or give up an abandoned upload: storage and rows"
        " stay behind until a later run succeeds",
        (app_metric("sweeper", "StalledPurgesFailed"), app_metric("sweeper", "AbandonedUploadsFailed")),
        1),
    LostWorkAlarm(
        "push-failures",
        "Posts to connected pages failed (not a closed connection: throttling, an endpoint or permission"
        " problem) for 10 minutes: pages show changes late, from their polling fallback or on reconnect",
        (app_metric("pusher", "PushFailed"),), 20, 2),
)


def slo_alarm_names(slo: Slo) -> list[str]:
    """The alarms an SLO makes: one composite (it notifies) over two window alarms per burn window."""
    names = [f"slo-{slo.name}-burn"]
    for window in BURN_WINDOWS:
        names += [f"slo-{slo.name}-{window.long_s}s", f"slo-{slo.name}-{window.short_s}s"]
    return names


def budget_threshold(slo: Slo, window: BurnWindow) -> float:
    """The bad fraction above which ``window`` burns the budget too fast."""
    return window.factor * (1 - slo.objective)
