"""Per-stage settings (sizes, retention, origins), read from CDK context.

``cdk.json`` holds the defaults under the ``fileshare`` context key; any value can be overridden on
the command line, e.g. ``cdk synth -c stage=prod -c fileshare:prod:webOrigin=https://files.example.org``.
"""

from __future__ import annotations

import os
import re
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
    account: str  # empty in cdk.json: CDK_DEFAULT_ACCOUNT (the CLI sets it from the credentials)
    region: str  # empty in cdk.json: CDK_DEFAULT_REGION
    availabilityZones: tuple[str, ...]  # noqa: N815 - the VPC's AZs (no lookup at synth), 2 or more
    webOrigin: str  # noqa: N815 - mirrors the cdk.json key
    publicBaseUrl: str  # noqa: N815
    alarmEmail: str  # noqa: N815 - empty: no e-mail subscription on the on-call topic
    emailSender: str  # noqa: N815 - empty: Cognito's default email, no notification emails
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


class SettingError(ValueError):
    """A stage setting is missing or unusable; the message names it and how to set it."""

    def __init__(self, stage: str, name: str, problem: str) -> None:
        super().__init__(
            f"stage {stage!r}: setting {name!r} {problem}. Set it with -c fileshare:{stage}:{name}=<value> "
            f"or in cdk.json under context.fileshare.stages.{stage} (infra/README.md, \"Settings\")")
        self.setting = name


#: Domains reserved for documentation and tests (RFC 2606, RFC 6761): nobody can verify them in SES
#: or receive mail or traffic there.
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
PLACEHOLDER_TLDS = ("example", "test", "invalid", "localhost")


def is_placeholder_domain(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    return (domain == "localhost" or labels[-1] in PLACEHOLDER_TLDS
            or any(domain == d or domain.endswith("." + d) for d in PLACEHOLDER_DOMAINS))


def check_email_sender(stage: str, sender: str) -> None:
    """An empty sender is allowed (Cognito's own email, no notification emails); a configured one
    must be an address on a real domain, which must be a verified SES identity before the deploy."""
    if not sender:
        return
    local, at, domain = sender.rpartition("@")
    if not at or not local or ("." not in domain and domain != "localhost"):
        raise SettingError(stage, "emailSender", f"is {sender!r}, not an email address")
    if is_placeholder_domain(domain):
        raise SettingError(
            stage, "emailSender",
            f"is {sender!r} on the placeholder domain {domain!r}, which SES can never verify (Cognito "
            "would refuse the user pool). Use an address on a domain verified in SES in this account "
            "and region, or leave it empty for Cognito's default email and no notification emails")


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
    for name, variable in (("account", "CDK_DEFAULT_ACCOUNT"), ("region", "CDK_DEFAULT_REGION")):
        if not merged[name]:
            merged[name] = os.environ.get(variable, "")
    typed: dict[str, Any] = {}
    for f in fields(StageConfig):
        if f.name == "stage":
            continue
        value = merged[f.name]
        try:
            if f.type == "bool" and isinstance(value, str):
                value = value.lower() in ("true", "1", "yes")
            elif f.type in ("int", "float") and isinstance(value, str):
                value = float(value) if f.type == "float" else int(value)
            elif f.type.startswith("tuple"):
                items = value.split(",") if isinstance(value, str) else list(value or [])
                value = tuple(str(item).strip() for item in items if str(item).strip())
        except ValueError:
            raise SettingError(stage, f.name, f"is {value!r}, not a {f.type}") from None
        typed[f.name] = value
    config = StageConfig(stage=stage, **typed)
    validate(config)
    return config


_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d")
_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+)(:\d{1,5})?")
_EMAIL = re.compile(r"[^@\s]+@([a-z0-9-]+(\.[a-z0-9-]+)+)", re.IGNORECASE)


def validate(config: StageConfig) -> None:
    """Refuse at synth what would fail or break the deploy, naming the setting and how to set it."""
    stage = config.stage

    def require(name: str, value: str, what: str) -> None:
        if not value:
            raise SettingError(stage, name, f"is not set ({what})")

    require("account", config.account, "the AWS account id; the CDK CLI sets CDK_DEFAULT_ACCOUNT from "
            "your credentials, or pass it")
    if not _ACCOUNT.fullmatch(config.account):
        raise SettingError(stage, "account", f"is {config.account!r}, not a 12-digit AWS account id")
    require("region", config.region, "the AWS region; the CDK CLI sets CDK_DEFAULT_REGION, or pass it")
    if not _REGION.fullmatch(config.region):
        raise SettingError(stage, "region", f"is {config.region!r}, not an AWS region name")
    zones = config.availabilityZones
    require("availabilityZones", ",".join(zones),
            f"the VPC's availability zones, comma-separated, e.g. {config.region}a,{config.region}b")
    wrong = [z for z in zones if not re.fullmatch(re.escape(config.region) + r"[a-z]", z)]
    if wrong or len(set(zones)) != len(zones) or len(zones) < 2:
        raise SettingError(stage, "availabilityZones",
                           f"is {','.join(zones)!r}: give 2 or more distinct zone names of {config.region} "
                           f"(e.g. {config.region}a,{config.region}b; Aurora and RDS Proxy need 2)")
    for name in ("webOrigin", "publicBaseUrl"):
        value = getattr(config, name)
        require(name, value, "the https origin the web app is served from" if name == "webOrigin"
                else "the base URL of public links and email links")
        match = _ORIGIN.fullmatch(value.rstrip("/") if name == "publicBaseUrl" else value)
        if match is None:
            raise SettingError(stage, name, f"is {value!r}, not an origin like https://files.example.org "
                               "(scheme and host, no path)")
        if config.is_prod and (match.group(1) != "https" or is_placeholder_domain(match.group(2))):
            raise SettingError(stage, name, f"is {value!r}: prod needs https on a real domain")
    if config.is_prod:
        require("alarmEmail", config.alarmEmail, "prod alarms must reach someone: the on-call address")
    if config.alarmEmail:
        match = _EMAIL.fullmatch(config.alarmEmail)
        if match is None or is_placeholder_domain(match.group(1)):
            raise SettingError(stage, "alarmEmail", f"is {config.alarmEmail!r}, not a deliverable address")
    check_email_sender(stage, config.emailSender)
    try:
        config.log_retention  # noqa: B018 - raises for an unsupported number of days
    except ValueError as error:
        raise SettingError(stage, "logRetentionDays", str(error)) from None
    if not 0.5 <= config.auroraMinAcu <= config.auroraMaxAcu:
        raise SettingError(stage, "auroraMinAcu", f"is {config.auroraMinAcu}: 0.5 up to auroraMaxAcu")
