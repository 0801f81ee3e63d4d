"""Per-stage settings (sizes, retention, origins), read from CDK context.

``cdk.json`` holds the defaults under the ``fileshare`` context key; any value can be overridden on
the command line, e.g. ``cdk synth -c stage=prod -c fileshare:prod:webOrigin=https://files.example.org``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

STAGES = ("dev", "prod")
SERVICE = "fileshare"
METRICS_NAMESPACE = "Fileshare"

# Context flags shared by app.py, synth.mk and the tests.
CTX_STAGE = "stage"  # dev | prod | all (default: all)
CTX_BUNDLE = "fileshare:bundle"  # "false": plain folders instead of pip bundling (tests)
CTX_NAG = "fileshare:nag"  # "false": do not register the cdk-nag plugin

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between dev and prod; names follow the cdk.json keys (camelCase)."""

    stage: str
    webOrigin: str  # noqa: N815 - mirrors the cdk.json key
    publicBaseUrl: str  # noqa: N815
    alarmEmail: str  # noqa: N815 - empty: no e-mail subscription on the on-call topic
    emailSender: str  # noqa: N815
    logRetentionDays: int  # noqa: N815
    retainData: bool  # noqa: N815 - RETAIN/SNAPSHOT data stores instead of DESTROY
    auroraMinAcu: float  # noqa: N815
    auroraMaxAcu: float  # noqa: N815
    auroraReaders: int  # noqa: N815
    backupRetentionDays: int  # noqa: N815
    cacheMaxGb: int  # noqa: N815
    cacheMaxEcpuPerSecond: int  # noqa: N815
    searchInstanceType: str  # noqa: N815
    searchDataNodes: int  # noqa: N815
    searchMasterNodes: int  # noqa: N815 - 0: no dedicated masters
    searchVolumeGb: int  # noqa: N815
    apiRateLimit: int  # noqa: N815 - steady requests per second for the stage
    apiBurstLimit: int  # noqa: N815
    waf: bool
    wafRateLimitPer5Min: int  # noqa: N815
    maxAzs: int  # noqa: N815
    # The web origin's custom domain and its ACM certificate (us-east-1, for CloudFront); both empty:
    # the distribution's own *.cloudfront.net domain (infra/hosting.py).
    domainName: str  # noqa: N815
    certificateArn: str  # noqa: N815

    @property
    def prefix(self) -> str:
        """Physical-name prefix, e.g. ``fileshare-dev``."""
        return f"{SERVICE}-{self.stage}"

    @property
    def log_retention(self) -> logs.RetentionDays:
        try:
            return _RETENTION[self.logRetentionDays]
        except KeyError:
            raise ValueError(
                f"logRetentionDays must be one of {sorted(_RETENTION)}, got {self.logRetentionDays}"
            ) from None

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.retainData else RemovalPolicy.DESTROY

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"


def _flag(scope: Construct, key: str, default: bool) -> bool:
    value = scope.node.try_get_context(key)
    if value is None:
        return default
    return str(value).lower() not in ("false", "0", "no", "off")


def bundling_enabled(scope: Construct) -> bool:
    return _flag(scope, CTX_BUNDLE, True)


def nag_enabled(scope: Construct) -> bool:
    return _flag(scope, CTX_NAG, True)


def selected_stages(scope: Construct) -> list[str]:
    raw = str(scope.node.try_get_context(CTX_STAGE) or "all")
    stages = list(STAGES) if raw == "all" else [s.strip() for s in raw.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise ValueError(f"unknown stage(s) {unknown or raw!r}; use one of {STAGES} or 'all'")
    return stages


def stage_config(scope: Construct, stage: str) -> StageConfig:
    """Merge ``fileshare.defaults``, ``fileshare.stages.<stage>`` and ``fileshare:<stage>:<key>`` flags."""
    root: dict[str, Any] = scope.node.try_get_context("fileshare") or {}
    merged: dict[str, Any] = {**root.get("defaults", {}), **root.get("stages", {}).get(stage, {})}
    names = {f.name for f in fields(StageConfig)} - {"stage"}
    for name in names:
        override = scope.node.try_get_context(f"fileshare:{stage}:{name}")
        if override is not None:
            merged[name] = override
    missing = sorted(names - merged.keys())
    if missing:
        raise ValueError(f"stage {stage!r}: missing context keys {missing} (see cdk.json 'fileshare')")
    extra = sorted(merged.keys() - names)
    if extra:
        raise ValueError(f"stage {stage!r}: unknown context keys {extra}")
    typed: dict[str, Any] = {}
    for f in fields(StageConfig):
        if f.name == "stage":
            continue
        value = merged[f.name]
        if f.type == "bool" and isinstance(value, str):
            value = value.lower() in ("true", "1", "yes")
        elif f.type in ("int", "float") and isinstance(value, str):
            value = float(value) if f.type == "float" else int(value)
        typed[f.name] = value
    return StageConfig(stage=stage, **typed)
