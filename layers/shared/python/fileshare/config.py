"""Settings read from environment variables, with AWS SDK conventions for endpoints.

Local and cloud differ only in these variables. Parsed once per process (cold start); a missing
required setting fails loudly there rather than on some later request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


def env(*names: str, default: Any) -> Any:
    """A setting read from ``names`` (the first set and not empty), else ``default``."""
    return Field(default=default, validation_alias=AliasChoices(*names))


#: Where the Cognito endpoint is read from, first set wins: the project's name, then the SDK's own
#: service-specific one (what someone pointing the stack at their own moto would set).
COGNITO_ENDPOINT_ENV = ("AWS_ENDPOINT_URL_COGNITO_IDP", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")


def cognito_endpoint(environ: Mapping[str, str]) -> str:
    """The Cognito endpoint ``environ`` names under either variable (empty: none, i.e. AWS's)."""
    return next((environ[name] for name in COGNITO_ENDPOINT_ENV if environ.get(name)), "")


class Settings(BaseModel):
    """Every setting once: its type, its default and the environment variables it is read from
    (the first one set and not empty wins)."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    region: str = env("AWS_REGION", "AWS_DEFAULT_REGION", default="us-east-1")
    # FILESHARE_LOCAL=1: e.g. register confirms users itself
    local_mode: bool = env("FILESHARE_LOCAL", default=False)
    aws_endpoint_url: str | None = env("AWS_ENDPOINT_URL", default=None)  # LocalStack locally; unset in AWS
    cognito_endpoint_url: str | None = env(*COGNITO_ENDPOINT_ENV, default=None)  # moto locally
    database_url: str | None = env("DATABASE_URL", default=None)
    # in AWS: credentials from Secrets Manager
    database_secret_arn: str | None = env("DATABASE_SECRET_ARN", default=None)
    # Pooled connections are replaced after this long, so a rotated password is picked up in time
    # and RDS Proxy can rebalance; psycopg_pool adds up to 5 % jitter.
    database_pool_max_lifetime_s: float = env("DATABASE_POOL_MAX_LIFETIME_SECONDS", default=900.0)
    redis_url: str | None = env("REDIS_URL", default=None)
    kafka_bootstrap_servers: str | None = env("KAFKA_BOOTSTRAP_SERVERS", default=None)
    kafka_security: str = env("KAFKA_SECURITY", default="plaintext")  # plaintext | iam (MSK Serverless)
    opensearch_url: str | None = env("OPENSEARCH_URL", default=None)
    opensearch_auth: str = env("OPENSEARCH_AUTH", default="none")  # none | sigv4
    upload_bucket: str = env("UPLOAD_BUCKET", default="fileshare-uploads")
    upload_queue_url: str | None = env("UPLOAD_QUEUE_URL", default=None)
    events_topic: str = env("EVENTS_TOPIC", default="fileshare.events")
    search_alias: str = env("SEARCH_ALIAS", default="files")
    user_pool_id: str | None = env("USER_POOL_ID", default=None)
    user_pool_client_id: str | None = env("USER_POOL_CLIENT_ID", default=None)
    # EMAIL_SENDER set but empty: no emails (inbox only)
    email_sender: str = env("EMAIL_SENDER", default="no-reply@fileshare.local")
    web_origin: str = env("WEB_ORIGIN", default="http://localhost:8080")
    public_base_url: str = env("PUBLIC_BASE_URL", default="http://localhost:8080")
    # In AWS without a custom domain: the web bucket whose config.json names the distribution's domain
    # (fileshare.adapters.aws.public_base_url() reads it; CDK cannot put that domain in the environment
    # without a cycle).
    web_config_bucket: str | None = env("WEB_CONFIG_BUCKET", default=None)
    # Only CloudFront sets CloudFront-Viewer-Country; without it in front, any client could write the
    # header, so it is read only when the deployment says the API is reached through CloudFront.
    behind_cloudfront: bool = env("BEHIND_CLOUDFRONT", default=False)
    max_upload_bytes: int = env("MAX_UPLOAD_BYTES", default=5 * 1024**3)
    multipart_threshold_bytes: int = env("MULTIPART_THRESHOLD_BYTES", default=64 * 1024**2)
    multipart_part_bytes: int = env("MULTIPART_PART_BYTES", default=16 * 1024**2)
    default_quota_bytes: int = env("DEFAULT_QUOTA_BYTES", default=10 * 1024**3)
    # empty: any type allowed
    allowed_content_types: tuple[str, ...] = env("ALLOWED_CONTENT_TYPES", default=())
    rate_limit_per_minute: int = env("RATE_LIMIT_PER_MINUTE", default=100)
    # per source IP and public route (register, login, /s/, ...)
    ip_rate_limit_per_minute: int = env("IP_RATE_LIMIT_PER_MINUTE", default=60)
    # Work, not requests (fileshare.upload_budget): reads have their own budget, so status polls
    # never use up what uploads need; uploads started are counted by files and bytes per hour.
    # GET/HEAD per user and minute
    read_rate_limit_per_minute: int = env("READ_RATE_LIMIT_PER_MINUTE", default=600)
    # files started (POST /files and each batch entry)
    upload_files_per_hour: int = env("UPLOAD_FILES_PER_HOUR", default=10_000)
    # their declared sizes
    upload_bytes_per_hour: int = env("UPLOAD_BYTES_PER_HOUR", default=200 * 1024**3)
    # A burst of ready uploads is one notice and one email (fileshare.notifications.bursts): uploads
    # ready less than this apart belong together (0: one notice each), for at most the longest span.
    upload_notice_window_s: int = env("UPLOAD_NOTICE_WINDOW_SECONDS", default=60)
    upload_notice_max_s: int = env("UPLOAD_NOTICE_MAX_SECONDS", default=900)
    # users one file can be shared with (409 too_many_shares)
    max_shares_per_file: int = env("MAX_SHARES_PER_FILE", default=100)
    # links of one file not revoked (409 too_many_links)
    max_links_per_file: int = env("MAX_LINKS_PER_FILE", default=20)
    # at most one "your link was downloaded" email per link and period
    link_email_digest_s: int = env("LINK_EMAIL_DIGEST_SECONDS", default=3600)
    # emails to one recipient per UTC day; the inbox still gets everything
    email_daily_cap: int = env("EMAIL_DAILY_CAP", default=50)
    # published outbox rows are pruned after this
    outbox_retention_days: int = env("OUTBOX_RETENTION_DAYS", default=7)
    # read notifications are pruned after this
    notification_retention_days: int = env("NOTIFICATION_RETENTION_DAYS", default=90)
    # activity (feeds and the export) is pruned after this
    activity_retention_days: int = env("ACTIVITY_RETENTION_DAYS", default=365)
    # trashed files are restorable this long, then purged
    trash_retention_days: int = env("TRASH_RETENTION_DAYS", default=30)
    cache_ttl_s: int = env("CACHE_TTL_SECONDS", default=300)
    presign_ttl_s: int = env("PRESIGN_TTL_SECONDS", default=900)
    # A pending upload older than this (and than presign_ttl_s plus a margin) is abandoned: the
    # sweeper rejects it, freeing the quota it reserved.
    pending_upload_ttl_s: int = env("PENDING_UPLOAD_TTL_SECONDS", default=86_400)
    # ZIP archives of many files (fileshare.archives.jobs): limits per archive, the part size written to
    # S3, how long a ready archive stays downloadable, and how many jobs one user may have queued.
    archive_max_files: int = env("ARCHIVE_MAX_FILES", default=1000)
    archive_max_bytes: int = env("ARCHIVE_MAX_BYTES", default=16 * 1024**3)
    archive_part_bytes: int = env("ARCHIVE_PART_BYTES", default=32 * 1024**2)
    archive_ttl_s: int = env("ARCHIVE_TTL_SECONDS", default=86_400)
    archive_max_active: int = env("ARCHIVE_MAX_ACTIVE", default=3)
    # Push (fileshare.push): the WebSocket stage's @connections endpoint, and how many missed changes
    # a resuming client is sent before it is told to reload instead.
    push_endpoint: str | None = env("PUSH_ENDPOINT", default=None)
    push_replay_limit: int = env("PUSH_REPLAY_LIMIT", default=500)


def env_names() -> tuple[str, ...]:
    """Every environment variable the settings read (the local runtime passes these through)."""
    return tuple(name for names in _env_names().values() for name in names)


def _env_names() -> dict[str, tuple[str, ...]]:
    """Each field's variables, from its declaration."""
    names: dict[str, tuple[str, ...]] = {}
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices), f"{field_name}: declare it with env(...)"
        names[field_name] = tuple(str(choice) for choice in alias.choices)
    return names


def _from_env() -> dict[str, object]:
    values: dict[str, object] = {}
    for field_name, names in _env_names().items():
        raw = next((os.environ[n] for n in names if os.environ.get(n)), None)
        if raw is None:
            if field_name == "email_sender" and os.environ.get("EMAIL_SENDER") == "":
                values[field_name] = ""  # the deployment has no sender: emails are off
            continue
        if field_name == "allowed_content_types":
            values[field_name] = tuple(t.strip() for t in raw.split(",") if t.strip())
        elif field_name in ("local_mode", "behind_cloudfront"):
            values[field_name] = raw.lower() in ("1", "true", "yes")
        else:
            values[field_name] = raw
    return values


#: Set by CDK and the local runtime from infra.declaration.RESOURCES (the one resource table): the
#: variables this function's declared ``uses`` need, comma-separated.
REQUIRED_SETTINGS_ENV = "FILESHARE_REQUIRED_SETTINGS"


class MissingSettingsError(RuntimeError):
    """A required setting (from the function's declared resources) is not in the environment."""


def check_required(environ: Mapping[str, str] = os.environ) -> None:
    """Fail, naming every missing variable, when the environment lacks a setting the function's
    declared resources require. Runs when this module is imported: at cold start."""
    required = [name for name in environ.get(REQUIRED_SETTINGS_ENV, "").split(",") if name]
    missing = [name for name in required if not environ.get(name)]
    if missing:
        function = environ.get("AWS_LAMBDA_FUNCTION_NAME", "this function")
        raise MissingSettingsError(
            f"{function} is missing required settings {', '.join(missing)} "
            f"(declared resources need {', '.join(required)}; see infra.declaration.RESOURCES)")


check_required()


@lru_cache(maxsize=1)
def settings() -> Settings:
    check_required()
    return Settings.model_validate(_from_env())


def check_rate_limit_store(environ: Mapping[str, str] = os.environ) -> None:
    """Fail when a rate limit is on but its counter store (Redis, ``Uses.CACHE``) is not configured.

    Without ``REDIS_URL`` the limiter has nothing to count in and allows every request, silently;
    every API function installs it (``fileshare.api.create_app``, at cold start), so there this is a
    missing setting like any other. Checked only in a function (CDK and the local runtime set
    ``FILESHARE_REQUIRED_SETTINGS``), not where an app is only built (``make openapi``)."""
    if REQUIRED_SETTINGS_ENV not in environ:
        return
    current = settings()
    limits = {"RATE_LIMIT_PER_MINUTE": current.rate_limit_per_minute,
              "IP_RATE_LIMIT_PER_MINUTE": current.ip_rate_limit_per_minute,
              "READ_RATE_LIMIT_PER_MINUTE": current.read_rate_limit_per_minute,
              "UPLOAD_FILES_PER_HOUR": current.upload_files_per_hour,
              "UPLOAD_BYTES_PER_HOUR": current.upload_bytes_per_hour}
    on = [name for name, limit in limits.items() if limit > 0]
    if on and not current.redis_url:
        function = environ.get("AWS_LAMBDA_FUNCTION_NAME", "this function")
        raise MissingSettingsError(
            f"{function} is missing required setting REDIS_URL: its rate limits ({', '.join(on)}) count "
            "in Redis; declare Uses.CACHE in infra.declaration (or set the limits to 0 to turn them off)")


WEB_CONFIG_KEY = "config.json"  # written by the deploy (infra/hosting.py, infra/web_headers.page_config)


