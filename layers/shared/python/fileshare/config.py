"""Settings read from environment variables, with AWS SDK conventions for endpoints.

Local and cloud differ only in these variables. Parsed once per process (cold start); a missing
required setting fails loudly there rather than on some later request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    region: str = Field(default="us-east-1")
    local_mode: bool = False  # FILESHARE_LOCAL=1: e.g. register confirms users itself
    aws_endpoint_url: str | None = None  # LocalStack locally; unset in AWS
    cognito_endpoint_url: str | None = None  # moto locally
    database_url: str | None = None
    database_secret_arn: str | None = None  # in AWS: credentials from Secrets Manager
    # Pooled connections are replaced after this long, so a rotated password is picked up in time
    # and RDS Proxy can rebalance; psycopg_pool adds up to 5 % jitter.
    database_pool_max_lifetime_s: float = 900.0
    redis_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    kafka_security: str = "plaintext"  # plaintext | iam (MSK Serverless)
    opensearch_url: str | None = None
    opensearch_auth: str = "none"  # none | sigv4
    upload_bucket: str = "fileshare-uploads"
    upload_queue_url: str | None = None
    events_topic: str = "fileshare.events"
    search_alias: str = "files"
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None
    email_sender: str = "no-reply@fileshare.local"  # EMAIL_SENDER set but empty: no emails (inbox only)
    web_origin: str = "http://localhost:8080"
    public_base_url: str = "http://localhost:8080"
    # In AWS without a custom domain: the web bucket whose config.json names the distribution's domain
    # (public_base_url() reads it; CDK cannot put that domain in the environment without a cycle).
    web_config_bucket: str | None = None
    # Only CloudFront sets CloudFront-Viewer-Country; without it in front, any client could write the
    # header, so it is read only when the deployment says the API is reached through CloudFront.
    behind_cloudfront: bool = False
    max_upload_bytes: int = 5 * 1024**3
    multipart_threshold_bytes: int = 64 * 1024**2
    multipart_part_bytes: int = 16 * 1024**2
    default_quota_bytes: int = 10 * 1024**3
    allowed_content_types: tuple[str, ...] = ()  # empty: any type allowed
    rate_limit_per_minute: int = 100
    ip_rate_limit_per_minute: int = 60  # per source IP and public route (register, login, /s/, ...)
    max_shares_per_file: int = 100  # users one file can be shared with (409 too_many_shares)
    max_links_per_file: int = 20  # links of one file not revoked (409 too_many_links)
    link_email_digest_s: int = 3600  # at most one "your link was downloaded" email per link and period
    email_daily_cap: int = 50  # emails to one recipient per UTC day; the inbox still gets everything
    outbox_retention_days: int = 7  # published outbox rows are pruned after this
    notification_retention_days: int = 90  # read notifications are pruned after this
    activity_retention_days: int = 365  # activity (feeds and the export) is pruned after this
    trash_retention_days: int = 30  # trashed files are restorable this long, then purged
    cache_ttl_s: int = 300
    presign_ttl_s: int = 900
    # A pending upload older than this (and than presign_ttl_s plus a margin) is abandoned: the
    # sweeper rejects it, freeing the quota it reserved.
    pending_upload_ttl_s: int = 86_400
    # ZIP archives of many files (fileshare.archives): limits per archive, the part size written to
    # S3, how long a ready archive stays downloadable, and how many jobs one user may have queued.
    archive_max_files: int = 1000
    archive_max_bytes: int = 16 * 1024**3
    archive_part_bytes: int = 32 * 1024**2
    archive_ttl_s: int = 86_400
    archive_max_active: int = 3
    # Push (fileshare.push): the WebSocket stage's @connections endpoint, and how many missed changes
    # a resuming client is sent before it is told to reload instead.
    push_endpoint: str | None = None
    push_replay_limit: int = 500


_ENV = {
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "local_mode": ("FILESHARE_LOCAL",),
    "aws_endpoint_url": ("AWS_ENDPOINT_URL",),
    "cognito_endpoint_url": ("AWS_ENDPOINT_URL_COGNITO_IDP",),
    "database_url": ("DATABASE_URL",),
    "database_secret_arn": ("DATABASE_SECRET_ARN",),
    "database_pool_max_lifetime_s": ("DATABASE_POOL_MAX_LIFETIME_SECONDS",),
    "redis_url": ("REDIS_URL",),
    "kafka_bootstrap_servers": ("KAFKA_BOOTSTRAP_SERVERS",),
    "kafka_security": ("KAFKA_SECURITY",),
    "opensearch_url": ("OPENSEARCH_URL",),
    "opensearch_auth": ("OPENSEARCH_AUTH",),
    "upload_bucket": ("UPLOAD_BUCKET",),
    "upload_queue_url": ("UPLOAD_QUEUE_URL",),
    "events_topic": ("EVENTS_TOPIC",),
    "search_alias": ("SEARCH_ALIAS",),
    "user_pool_id": ("USER_POOL_ID",),
    "user_pool_client_id": ("USER_POOL_CLIENT_ID",),
    "email_sender": ("EMAIL_SENDER",),
    "web_origin": ("WEB_ORIGIN",),
    "public_base_url": ("PUBLIC_BASE_URL",),
    "behind_cloudfront": ("BEHIND_CLOUDFRONT",),
    "web_config_bucket": ("WEB_CONFIG_BUCKET",),
    "max_upload_bytes": ("MAX_UPLOAD_BYTES",),
    "multipart_threshold_bytes": ("MULTIPART_THRESHOLD_BYTES",),
    "multipart_part_bytes": ("MULTIPART_PART_BYTES",),
    "default_quota_bytes": ("DEFAULT_QUOTA_BYTES",),
    "allowed_content_types": ("ALLOWED_CONTENT_TYPES",),
    "rate_limit_per_minute": ("RATE_LIMIT_PER_MINUTE",),
    "ip_rate_limit_per_minute": ("IP_RATE_LIMIT_PER_MINUTE",),
    "max_shares_per_file": ("MAX_SHARES_PER_FILE",),
    "max_links_per_file": ("MAX_LINKS_PER_FILE",),
    "link_email_digest_s": ("LINK_EMAIL_DIGEST_SECONDS",),
    "email_daily_cap": ("EMAIL_DAILY_CAP",),
    "outbox_retention_days": ("OUTBOX_RETENTION_DAYS",),
    "notification_retention_days": ("NOTIFICATION_RETENTION_DAYS",),
    "activity_retention_days": ("ACTIVITY_RETENTION_DAYS",),
    "trash_retention_days": ("TRASH_RETENTION_DAYS",),
    "cache_ttl_s": ("CACHE_TTL_SECONDS",),
    "presign_ttl_s": ("PRESIGN_TTL_SECONDS",),
    "pending_upload_ttl_s": ("PENDING_UPLOAD_TTL_SECONDS",),
    "archive_max_files": ("ARCHIVE_MAX_FILES",),
    "archive_max_bytes": ("ARCHIVE_MAX_BYTES",),
    "archive_part_bytes": ("ARCHIVE_PART_BYTES",),
    "archive_ttl_s": ("ARCHIVE_TTL_SECONDS",),
    "archive_max_active": ("ARCHIVE_MAX_ACTIVE",),
    "push_endpoint": ("PUSH_ENDPOINT",),
    "push_replay_limit": ("PUSH_REPLAY_LIMIT",),
}


def env_names() -> tuple[str, ...]:
    """Every environment variable the settings read (the local runtime passes these through)."""
    return tuple(name for names in _ENV.values() for name in names)


def _from_env() -> dict[str, object]:
    values: dict[str, object] = {}
    for field_name, names in _ENV.items():
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
              "IP_RATE_LIMIT_PER_MINUTE": current.ip_rate_limit_per_minute}
    on = [name for name, limit in limits.items() if limit > 0]
    if on and not current.redis_url:
        function = environ.get("AWS_LAMBDA_FUNCTION_NAME", "this function")
        raise MissingSettingsError(
            f"{function} is missing required setting REDIS_URL: its rate limits ({', '.join(on)}) count "
            "in Redis; declare Uses.CACHE in infra.declaration (or set the limits to 0 to turn them off)")


WEB_CONFIG_KEY = "config.json"  # written by the deploy (infra/hosting.py, infra/web_headers.page_config)


def public_base_url() -> str:
    """Where public links and emails point: ``PUBLIC_BASE_URL``, or, when the deployment has no custom
    domain, the ``publicBaseUrl`` of the web bucket's ``config.json`` (the CloudFront distribution's
    domain, known only once it exists: the functions cannot get it in their environment, since the
    distribution routes to the API that routes to them)."""
    current = settings()
    if not current.web_config_bucket:
        return current.public_base_url.rstrip("/")
    return _deployed_public_base_url(current.web_config_bucket)


@lru_cache(maxsize=4)
def _deployed_public_base_url(bucket: str) -> str:
    """Read once per process (the deploy that changes the domain also publishes new functions)."""
    import json

    from fileshare.aws import client

    body = client("s3").get_object(Bucket=bucket, Key=WEB_CONFIG_KEY)["Body"].read()
    return str(json.loads(body)["publicBaseUrl"]).rstrip("/")
