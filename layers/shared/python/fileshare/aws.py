"""boto3 clients configured for the environment: LocalStack/moto locally, AWS in the cloud."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from fileshare.config import settings


@cache
def client(service: str) -> Any:
    """One client per service per process. Endpoints follow AWS SDK env conventions
    (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), which boto3 reads itself."""
    config = Config(
        region_name=settings().region,
        s3={"addressing_style": "path"} if settings().aws_endpoint_url else {},
        signature_version="s3v4" if service == "s3" else None,
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=10,
    )
    return boto3.session.Session().client(service, config=config)
