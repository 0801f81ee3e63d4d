"""Presigned S3 requests (GET, POST, UploadPart) name the bucket's regional host outside us-east-1:
a bucket younger than a few hours answers the global host ``<bucket>.s3.amazonaws.com`` with a 307,
which a browser's CORS preflight cannot follow (``fileshare.adapters.aws.s3_options``). Signing is local: no
request leaves the process."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from fileshare.adapters import aws, storage
from fileshare.config import settings

BUCKET = "fileshare-prod-uploads-abc123"
KEY = "u/owner/file/report.pdf"


@pytest.fixture
def in_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment of a deployed function: no endpoint override, the bucket's name, a role's keys."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.setenv("UPLOAD_BUCKET", BUCKET)
    settings.cache_clear()
    aws.client.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    settings.cache_clear()
    aws.client.cache_clear()


def in_region(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    settings.cache_clear()
    aws.client.cache_clear()


def presigned_urls() -> dict[str, str]:
    (part,) = storage.sign_parts(KEY, "upload-id", 20 * 1024**2, [1])
    return {"GET": storage.presigned_get(KEY, download_name="report.pdf"),
            "POST": storage.presigned_post(KEY, 1000, "application/pdf")["url"],
            "UploadPart": part["url"]}


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2", "us-west-2"])
def test_outside_us_east_1_every_presigned_url_is_on_the_regional_host(
        in_aws: pytest.MonkeyPatch, region: str) -> None:
    in_region(in_aws, region)
    for what, url in presigned_urls().items():
        parts = urlsplit(url)
        assert parts.scheme == "https", (what, url)
        assert parts.netloc == f"{BUCKET}.s3.{region}.amazonaws.com", (what, url)
        if what != "POST":  # a POST's credential is in its form fields
            assert parse_qs(parts.query)["X-Amz-Credential"][0].split("/")[2] == region


def test_in_us_east_1_the_global_host_is_the_regions_own(in_aws: pytest.MonkeyPatch) -> None:
    in_region(in_aws, "us-east-1")
    hosts = {f"{BUCKET}.s3.amazonaws.com", f"{BUCKET}.s3.us-east-1.amazonaws.com"}
    for what, url in presigned_urls().items():
        assert urlsplit(url).netloc in hosts, (what, url)


def test_a_local_endpoint_keeps_path_style_urls(in_aws: pytest.MonkeyPatch) -> None:
    in_aws.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    in_region(in_aws, "eu-west-1")
    for what, url in presigned_urls().items():
        parts = urlsplit(url)
        assert (parts.netloc, parts.path.split("/")[1]) == ("localhost:4566", BUCKET), (what, url)
