"""boto3 clients configured for the environment: LocalStack/moto locally, AWS in the cloud.

boto3 is imported on the first client, not with this module: it is the largest import of the
layer (~120 ms), and several functions that import modules using it never call AWS on most paths.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fileshare import timeouts
from fileshare.config import settings


@cache
def client(service: str) -> Any:
    """One client per service per process. Endpoints follow AWS SDK env conventions
    (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), which boto3 reads itself."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=settings().region,
        s3={"addressing_style": "path"} if settings().aws_endpoint_url else {},
        signature_version="s3v4" if service == "s3" else None,
        retries={"mode": "standard", "total_max_attempts": timeouts.AWS_MAX_ATTEMPTS},  # incl. the first
        connect_timeout=timeouts.AWS_CONNECT_TIMEOUT_S,
        read_timeout=timeouts.AWS_READ_TIMEOUT_S,
    )
    return boto3.session.Session().client(service, config=config)
