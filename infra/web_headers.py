"""What the browser is told by every response of the one web origin, and the page's config file.

Stdlib only: CloudFront's response headers policy (``infra/hosting.py``) and the local gateway
(``localstack/lambdarun/gateway.py``) both build their headers here, so the CSP the browser tests run
under is the one deployed. The only input is the S3 origin the page talks to (uploads, downloads,
thumbnails): the upload bucket's regional host in AWS, LocalStack's endpoint locally.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

CONFIG_PATH = "/config.json"  # the page fetches this at start (web/src/api.js)
HSTS_MAX_AGE_S = 2 * 365 * 24 * 3600
FRAME_OPTIONS = "DENY"
# Public-link pages carry their token in the URL: no referrer, so it never reaches S3 or a third party.
REFERRER_POLICY = "no-referrer"


def s3_regional_origin(bucket: str, region: str) -> str:
    """The upload bucket's regional virtual-hosted origin, as the functions presign it
    (``fileshare.adapters.aws`` asks botocore for the regional endpoint, so us-east-1 is no exception)."""
    return f"https://{bucket}.s3.{region}.amazonaws.com"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (a local endpoint such as ``http://localhost:4566/``)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(s3_origin: str, socket_origin: str = "") -> str:
    """Only what the page and the link page use: their own scripts and styles, the API on the same
    origin, the bucket for uploads, downloads and thumbnails, ``blob:`` frames (the PDF preview shows
    fetched bytes) and ``blob:`` images (an SVG previews from its fetched bytes as an ``<img>``, where
    no script runs, since S3 serves it inert). No inline script or style, no plugins, no framing, no
    ``<base>``."""
    directives = (
        ("default-src", "'none'"),
        ("script-src", "'self'"),
        ("style-src", "'self'"),
        ("img-src", f"'self' blob: {s3_origin}"),
        ("connect-src", f"'self' {s3_origin} {socket_origin}".rstrip()),  # + the push socket
        ("frame-src", "blob:"),
        ("form-action", "'self'"),
        ("frame-ancestors", "'none'"),
        ("object-src", "'none'"),
        ("base-uri", "'none'"),
    )
    return "; ".join(f"{name} {value}" for name, value in directives)


def strict_transport_security() -> str:
    return f"max-age={HSTS_MAX_AGE_S}; includeSubDomains"


def security_headers(s3_origin: str, socket_origin: str = "") -> dict[str, str]:
    """Every header the web origin adds to each response (page, static files, API, ``/s/*``)."""
    return {
        "Content-Security-Policy": content_security_policy(s3_origin, socket_origin),
        "Strict-Transport-Security": strict_transport_security(),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTIONS,
        "Referrer-Policy": REFERRER_POLICY,
    }


def page_config(*, region: str, user_pool_id: str, user_pool_client_id: str,
                public_base_url: str, api: str = "", socket: str = "") -> dict[str, str]:
    """``/config.json``: where the page finds its API (``""``: the same origin) and the stage's ids.
    Written at deploy time from the stack's values, served locally from the namespace's env.
    ``socket``: the WebSocket API's URL the page opens for pushes (``""``: no push, the page polls)."""
    return {
        "api": api,
        "socket": socket,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": user_pool_client_id,
        "publicBaseUrl": public_base_url.rstrip("/"),
    }


def local_page_config(env: Mapping[str, str]) -> dict[str, str]:
    """The local namespace's ``/config.json`` (``.local/stack.env`` / ``test.env`` variables)."""
    return page_config(
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        user_pool_id=env.get("USER_POOL_ID", ""),
        user_pool_client_id=env.get("USER_POOL_CLIENT_ID", ""),
        public_base_url=env.get("PUBLIC_BASE_URL", ""),
        socket=env.get("SOCKET_URL", ""),
    )


def local_s3_origin(env: Mapping[str, str]) -> str:
    """LocalStack's origin (functions presign path-style URLs against ``AWS_ENDPOINT_URL``)."""
    return origin_of(env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or "http://localhost:4566")


def local_security_headers(env: Mapping[str, str]) -> dict[str, str]:
    """The local web origin's headers: LocalStack's S3 origin and the local push socket's."""
    socket = env.get("SOCKET_URL", "")
    return security_headers(local_s3_origin(env), origin_of(socket) if socket else "")
