"""The web origin's headers and config file (infra/web_headers.py, shared by CloudFront and the local
gateway), and where the functions point links and presign S3 in AWS."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra import web_headers


def test_the_csp_allows_only_the_page_itself_and_the_upload_bucket() -> None:
    s3 = web_headers.s3_regional_origin("fileshare-prod-uploads-1-eu-west-1", "eu-west-1")
    assert s3 == "https://fileshare-prod-uploads-1-eu-west-1.s3.eu-west-1.amazonaws.com"
    directives = dict(d.split(" ", 1) for d in web_headers.content_security_policy(s3).split("; "))
    assert directives == {
        "default-src": "'none'", "script-src": "'self'", "style-src": "'self'",
        "img-src": f"'self' blob: {s3}", "connect-src": f"'self' {s3}", "frame-src": "blob:",
        "form-action": "'self'", "frame-ancestors": "'none'", "object-src": "'none'", "base-uri": "'none'",
    }
    assert "unsafe" not in web_headers.content_security_policy(s3)


def test_every_response_gets_the_same_security_headers() -> None:
    headers = web_headers.security_headers("http://localhost:4566")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"  # link tokens are in the URL
    assert headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert "http://localhost:4566" in headers["Content-Security-Policy"]


def test_the_local_config_and_s3_origin_come_from_the_namespace_env() -> None:
    env = {"AWS_REGION": "us-east-1", "USER_POOL_ID": "pool", "USER_POOL_CLIENT_ID": "client",
           "PUBLIC_BASE_URL": "http://localhost:8081/", "AWS_ENDPOINT_URL": "http://localhost:4566/",
           "SOCKET_URL": "ws://127.0.0.1:8091"}
    assert web_headers.local_page_config(env) == {
        "api": "", "socket": "ws://127.0.0.1:8091", "region": "us-east-1", "userPoolId": "pool",
        "userPoolClientId": "client", "publicBaseUrl": "http://localhost:8081"}
    connect = web_headers.local_security_headers(env)["Content-Security-Policy"].split("; ")[4]
    assert connect == "connect-src 'self' http://localhost:4566 ws://127.0.0.1:8091"
    assert web_headers.local_s3_origin(env) == "http://localhost:4566"
    assert web_headers.local_s3_origin({**env, "AWS_ENDPOINT_URL_S3": "http://s3.local:9000/x"}) == (
        "http://s3.local:9000")
    with pytest.raises(ValueError):
        web_headers.origin_of("localhost:4566")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings as in AWS: no endpoint override (each test sets what else it needs)."""
    from fileshare.adapters import aws
    from fileshare.adapters.aws import _deployed_public_base_url
    from fileshare.config import settings

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "PUBLIC_BASE_URL", "WEB_CONFIG_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    caches = (settings.cache_clear, aws.client.cache_clear, _deployed_public_base_url.cache_clear)
    for clear in caches:
        clear()
    yield
    monkeypatch.undo()
    for clear in caches:
        clear()


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_presigned_urls_name_the_regional_host_the_csp_allows(aws_env: None, region: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare.adapters import aws
    from fileshare.config import settings

    monkeypatch.setenv("AWS_REGION", region)
    settings.cache_clear()
    s3 = aws.client("s3")
    allowed = web_headers.s3_regional_origin("bucket-1", region)
    assert s3.generate_presigned_url("get_object", Params={"Bucket": "bucket-1", "Key": "u/k"}).startswith(
        allowed + "/u/k?")
    assert s3.generate_presigned_post("bucket-1", "u/k")["url"] == allowed + "/"


def test_without_a_custom_domain_links_point_at_the_deployed_config(aws_env: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from fileshare.adapters import aws
    from fileshare.adapters.aws import public_base_url
    from fileshare.config import settings
    from fileshare.links import links

    reads: list[dict[str, Any]] = []

    class S3:
        def get_object(self, **kwargs: Any) -> dict[str, Any]:
            reads.append(kwargs)
            return {"Body": io.BytesIO(json.dumps({"publicBaseUrl": "https://d111.cloudfront.net/"}).encode())}

    monkeypatch.setenv("WEB_CONFIG_BUCKET", "fileshare-dev-web")
    settings.cache_clear()
    monkeypatch.setattr(aws, "client", lambda service: S3())
    assert links.link_url("tok") == "https://d111.cloudfront.net/s/tok"
    assert public_base_url() == "https://d111.cloudfront.net"
    assert reads == [{"Bucket": "fileshare-dev-web", "Key": "config.json"}]  # once per process
