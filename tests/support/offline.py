"""Settings for tests that call the real handlers with no local service at all (``make test-unit``
on a machine where ``make up`` never ran): dummy AWS credentials and endpoints on the discard port,
where nothing listens, so a call that should not happen fails at once instead of reaching a service
(or AWS). The test namespace's settings that ``tests/conftest.py`` loaded are removed meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from lambdarun.environment import load_env_file
from tests.support.runtime import TEST_ENV

NOWHERE = "127.0.0.1:9"  # the discard port: connections are refused

OFFLINE_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "offline",
    "AWS_SECRET_ACCESS_KEY": "offline",
    "AWS_ENDPOINT_URL": f"http://{NOWHERE}",
    "AWS_ENDPOINT_URL_COGNITO_IDP": f"http://{NOWHERE}",
    "DATABASE_URL": f"postgresql://offline:offline@{NOWHERE}/offline",
    "REDIS_URL": f"redis://{NOWHERE}/0",
    "OPENSEARCH_URL": f"http://{NOWHERE}",
    "KAFKA_BOOTSTRAP_SERVERS": NOWHERE,
    "UPLOAD_BUCKET": "fileshare-offline-uploads",
    "USER_POOL_ID": "us-east-1_offline",
    "USER_POOL_CLIENT_ID": "offline-client",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "fileshare-offline",
    # no limiter counts (they would need Redis); the limits have tests of their own
    "RATE_LIMIT_PER_MINUTE": "0",
    "IP_RATE_LIMIT_PER_MINUTE": "0",
}


def _forget_clients() -> None:
    from fileshare.adapters import aws
    from fileshare.config import settings

    settings.cache_clear()
    aws.client.cache_clear()


@contextmanager
def offline_settings() -> Iterator[None]:
    """``OFFLINE_ENV`` instead of the test namespace's settings, with the settings and AWS clients
    read again on entry and on exit."""
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in load_env_file(TEST_ENV):
                patch.delenv(name, raising=False)
            for name, value in OFFLINE_ENV.items():
                patch.setenv(name, value)
            _forget_clients()
            yield
    finally:
        _forget_clients()
