"""The opensearch-py client for the environment: plain HTTP locally, SigV4-signed in AWS."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from opensearchpy import OpenSearch, RequestsAWSV4SignerAuth, RequestsHttpConnection

from fileshare.config import Settings, settings
from fileshare.timeouts import OPENSEARCH_RETRIES, OPENSEARCH_TIMEOUT_S

TIMEOUT_S = OPENSEARCH_TIMEOUT_S  # x (1 + OPENSEARCH_RETRIES) attempts: fileshare.timeouts


def client_from_settings(config: Settings | None = None) -> OpenSearch:
    """Build a client for ``OPENSEARCH_URL``; ``OPENSEARCH_AUTH=sigv4`` signs requests for Amazon
    OpenSearch Service (service ``es``) with the function's IAM credentials."""
    config = config or settings()
    if not config.opensearch_url:
        raise RuntimeError("OPENSEARCH_URL is not set")
    url = config.opensearch_url.rstrip("/")
    if config.opensearch_auth == "sigv4":
        import boto3  # only for SigV4 in AWS: it costs ~100 ms of every local cold start

        credentials = boto3.session.Session().get_credentials()
        if credentials is None:
            raise RuntimeError("OPENSEARCH_AUTH=sigv4 but no AWS credentials are available")
        return OpenSearch(
            hosts=[url],
            http_auth=RequestsAWSV4SignerAuth(credentials, config.region, "es"),
            use_ssl=urlsplit(url).scheme == "https",
            verify_certs=True,
            connection_class=RequestsHttpConnection,
            timeout=TIMEOUT_S,
            max_retries=OPENSEARCH_RETRIES,
            retry_on_timeout=True,
        )
    if config.opensearch_auth != "none":
        raise RuntimeError(f"OPENSEARCH_AUTH must be 'none' or 'sigv4', not {config.opensearch_auth!r}")
    return OpenSearch(hosts=[url], timeout=TIMEOUT_S, max_retries=OPENSEARCH_RETRIES, retry_on_timeout=True)


@cache
def client() -> OpenSearch:
    """One client per process (built at first use, reused across warm Lambda invocations)."""
    return client_from_settings()
