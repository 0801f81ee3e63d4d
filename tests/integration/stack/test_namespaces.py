"""`make test` leaves `make dev`'s data alone (issue 15): the tests run in their own namespace.

`make up` provisions the dev namespace (`.local/stack.env`) and the test namespace
(`.local/test.env`) on the same services through the same code (``stackctl``, then the bootstrap
function). A representative run of integration modules (the files and sharing APIs: rows, S3
objects, Kafka events, search documents, cache keys) is made in a subprocess, exactly as `make test`
runs them; afterwards the dev namespace holds nothing of the identities that run created, its
consumers' failure queues got nothing, and the test namespace holds what the run made (so the check
would see a leak). The dev namespace may be in use meanwhile (`make dev`), so the check counts what
belongs to the run, not totals; the totals are printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.declaration import DEV_NAMESPACE, TEST_NAMESPACE, failure_queues, queue_url_env
from lambdarun.environment import load_env_file
from tests.integration.stack import namespace_snapshot as snap

REPO_ROOT = Path(__file__).resolve().parents[3]
DEV_ENV = REPO_ROOT / ".local" / DEV_NAMESPACE.env_file_name
TEST_ENV = REPO_ROOT / ".local" / TEST_NAMESPACE.env_file_name
REPRESENTATIVE = ("tests/integration/api/test_api_files.py", "tests/integration/sharing/test_api_sharing.py")
PER_NAMESPACE = ("DATABASE_URL", "REDIS_URL", "UPLOAD_BUCKET", "UPLOAD_QUEUE_URL", "UPLOAD_DLQ_URL",
                 "EVENTS_TOPIC", "SEARCH_ALIAS", "USER_POOL_ID", "USER_POOL_CLIENT_ID", "GATEWAY_PORT",
                 *(queue_url_env(queue) for queue in failure_queues()))
SHARED = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_COGNITO_IDP", "KAFKA_BOOTSTRAP_SERVERS", "OPENSEARCH_URL")


@pytest.fixture(scope="module")
def envs() -> tuple[dict[str, str], dict[str, str]]:
    if not DEV_ENV.exists() or not TEST_ENV.exists():
        pytest.fail("the local stack's namespaces are not provisioned (.local/stack.env, .local/test.env):"
                    " run `make up`")
    dev = {**DEV_NAMESPACE.env(), **load_env_file(DEV_ENV)}  # a stack.env from before namespaces
    return dev, load_env_file(TEST_ENV)


def test_each_namespace_names_its_own_resources_on_the_same_services(envs: tuple[dict[str, str], ...]
                                                                      ) -> None:
    dev, test = envs
    for key in PER_NAMESPACE:
        assert test.get(key) and dev.get(key), key
        assert test[key] != dev[key], f"{key} is the same in both namespaces: {dev[key]}"
    for key in SHARED:
        assert test[key] == dev[key], key
    queues = {key: url for key, url in test.items() if key.endswith("_QUEUE_URL") or key == "UPLOAD_DLQ_URL"}
    assert queues and all(url.rsplit("/", 1)[-1].startswith(f"{TEST_NAMESPACE.prefix}-")
                          for url in queues.values()), queues
    # This session runs in the test namespace (tests/conftest.py loaded .local/test.env).
    assert os.environ["FILESHARE_LOCAL_PREFIX"] == TEST_NAMESPACE.prefix
    assert os.environ["DATABASE_URL"] == test["DATABASE_URL"]


def test_a_test_run_leaves_the_dev_namespace_alone(envs: tuple[dict[str, str], dict[str, str]],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    dev, test = envs
    dev_before, test_users_before = snap.counts(dev), snap.user_ids(test)
    dev_offsets, test_offsets = snap.topic_offsets(dev), snap.topic_offsets(test)

    # When the representative modules run as `make test` runs them (a fresh pytest process).
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                          *REPRESENTATIVE], cwd=REPO_ROOT, env=dict(os.environ), capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    users = snap.user_ids(test) - test_users_before
    dev_after = snap.counts(dev)
    with capsys.disabled():
        moved = {k: (dev_before[k], dev_after[k]) for k in dev_before if dev_before[k] != dev_after[k]}
        print(f"\n{len(users)} test users; dev totals that moved meanwhile (make dev in use): {moved}")

    # Then the test namespace holds what the run made...
    assert len(users) >= 10
    made = snap.owned(test, users)
    for key in ("db.users", "db.files", "db.shares", "db.links", "db.outbox", "s3.objects",
                "search.documents"):
        assert made[key] > 0, (key, made)
    marks = users
    assert snap.events_since(test, test_offsets, marks) > 0
    # ...and the dev namespace none of it: no row, object, event, document or cache key of those users.
    assert snap.owned(dev, users) == dict.fromkeys(made, 0)
    assert snap.events_since(dev, dev_offsets, marks) == 0
    # Nor did anything reach the dev consumers' failure queues (the poison events `make dev` replayed).
    for queue in failure_queues():
        key = f"sqs.{DEV_NAMESPACE.queue(queue)}"
        assert dev_after[key] == dev_before[key], key
