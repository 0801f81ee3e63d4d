"""boto3 clients configured for the environment: LocalStack/moto locally, AWS in the cloud.

boto3 is imported on the first client, not with this module: it is the largest import of the
layer (~120 ms), and several functions that import modules using it never call AWS on most paths.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from typing import Any

from fileshare import timeouts
from fileshare.adapters import snapstart
from fileshare.config import WEB_CONFIG_KEY, settings


def s3_options() -> dict[str, str]:
    """S3 addressing: path-style on a local endpoint (LocalStack); in AWS, virtual-hosted on the
    region's own host, ``https://<bucket>.s3.<region>.amazonaws.com``.

    Left to itself botocore presigns (GET, PUT, UploadPart, POST) for the *global* host
    ``<bucket>.s3.amazonaws.com`` whatever the region, unless the addressing style is ``virtual``
    (``botocore.signers._should_use_global_endpoint``). Outside us-east-1 a bucket younger than a few
    hours answers the global host with a 307 to its regional one (DNS takes that long), and a
    browser's CORS preflight cannot follow a redirect: uploads from the page fail. A presigned URL on
    the regional host never depends on that."""
    return {"addressing_style": "path"} if settings().aws_endpoint_url else {"addressing_style": "virtual"}


@cache
def client(service: str, *, read_timeout_s: float = timeouts.AWS_READ_TIMEOUT_S,
           connect_timeout_s: float = timeouts.AWS_CONNECT_TIMEOUT_S,
           max_attempts: int = timeouts.AWS_MAX_ATTEMPTS) -> Any:
    """One client per service (and budget) per process. Endpoints follow AWS SDK env conventions
    (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), which boto3 reads itself. The default budget is
    ``fileshare.timeouts``'; a call that waits on S3 for longer (CompleteMultipartUpload) asks for
    its own, and ``client.cache_clear()`` (SnapStart's after-restore hook) forgets them all."""
    import boto3  # cold start: boto3 (~100 ms) only in a function that makes an AWS call
    from botocore.config import Config  # cold start: with boto3

    local = bool(settings().aws_endpoint_url)
    config = Config(
        region_name=settings().region,
        s3=s3_options(),
        signature_version="s3v4" if service == "s3" else None,
        retries={"mode": "standard", "total_max_attempts": max_attempts},  # incl. the first
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
    )
    # In AWS, S3 (and so every presigned URL) is the bucket's regional host, in every region: botocore
    # would presign the global s3.amazonaws.com outside us-east-1, and the web origin's CSP allows
    # exactly the regional one (infra/web_headers.py).
    endpoint = f"https://s3.{settings().region}.amazonaws.com" if service == "s3" and not local else None
    return boto3.session.Session().client(service, config=config, endpoint_url=endpoint)


@snapstart.on_restore
def _after_restore() -> list[str]:
    """boto3 clients (their HTTP connections), the longer-budget clients for completes too."""
    if not client.cache_info().currsize:
        return []
    client.cache_clear()
    return ["boto3 clients"]


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
    body = client("s3").get_object(Bucket=bucket, Key=WEB_CONFIG_KEY)["Body"].read()
    return str(json.loads(body)["publicBaseUrl"]).rstrip("/")
