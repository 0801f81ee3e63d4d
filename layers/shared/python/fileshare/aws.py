"""boto3 clients configured for the environment: LocalStack/moto locally, AWS in the cloud.

boto3 is imported on the first client, not with this module: it is the largest import of the
layer (~120 ms), and several functions that import modules using it never call AWS on most paths.
"""

from __future__ import annotations

from functools import cache
from typing import Any

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
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=10,
    )
    return boto3.session.Session().client(service, config=config)
