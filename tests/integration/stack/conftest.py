"""Fixtures of the local stack's own tests (each service, the bootstrap, persistence, outages,
credential rotation, the namespaces): the test namespace's environment as `make up` wrote it."""

from __future__ import annotations

import pytest

from tests.support.runtime import TEST_ENV, load_test_env


@pytest.fixture(scope="session")
def test_env() -> dict[str, str]:
    """``.local/test.env`` as a dict: the base of every environment these tests hand a runtime."""
    env = load_test_env()
    missing = [name for name in ("DATABASE_URL", "AWS_ENDPOINT_URL", "KAFKA_BOOTSTRAP_SERVERS",
                                 "OPENSEARCH_URL") if not env.get(name)]
    if missing:
        pytest.fail(f"the local stack is not up (missing {missing} in {TEST_ENV}): run `make up`")
    return env
