"""Real outages for the fault tests: stop one of the stack's own services through the stack manager
(``stackctl``), and always start it again.

``outage("kafka")`` stops the process the stack manager started (its pid file under .local/run), checks
that the service really stopped answering, and yields an :class:`Outage`; ``restore()`` (called by the
test when it wants the service back, and again on the way out whatever happened) starts it, waits
until it is healthy, provisions it (idempotent, the dev and the test namespace) and, should the
service's environment have changed, rewrites ``.local/stack.env`` / ``.local/test.env`` and this
process's variables (the test namespace's). Kafka and OpenSearch keep their data on
disk; LocalStack would recreate its queues and secret in provision().

The test process has ``.local/test.env`` loaded, and a service whose ``reuse_env`` variable is set
counts as "reused" (not ours to start or stop). The services are therefore looked at as the stack
manager sees them from a clean shell (:func:`owned`); a service without a pid file of the stack manager
(really reused, or not started by it) is not stopped: the test is skipped.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from infra.declaration import TEST_NAMESPACE
from stackctl import stack
from stackctl.base import Service
from stackctl.paths import STACK_ENV_FILE

log = logging.getLogger(__name__)


def owned(name: str) -> Service:
    """The stack's service ``name`` as the stack manager that started it sees it (not reused)."""
    (service,) = stack.select([name])
    cls = type(service)
    view: type[Any] = type(f"Owned{cls.__name__}", (cls,), {
        "external_url": property(lambda self: None),
        "reused": property(lambda self: False),
    })
    instance: Service = view()
    return instance


class Outage:
    """One stopped service; ``restore()`` brings it back (idempotent)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.stopped_at = time.monotonic()
        self.restored_after_s: float | None = None  # seconds the service was down

    def restore(self) -> None:
        if self.restored_after_s is not None:
            return
        service = self.service
        if not (service.running() and service.healthy()):
            if service.running():  # alive but not answering: start afresh
                service.stop()
            service.start()
        service.wait_healthy()
        service.provision()
        _refresh_stack_env(service)
        self.restored_after_s = time.monotonic() - self.stopped_at
        log.warning("%s is back after %.1fs", service.name, self.restored_after_s)


@contextmanager
def outage(name: str) -> Iterator[Outage]:
    """Stop the stack's ``name`` service for the block; it is restored on the way out in any case."""
    service = owned(name)
    if not service.running():
        pytest.skip(f"{name} was not started by the stack manager (no live pid in .local/run); "
                    "a fault test stops only the stack's own services")
    if not service.healthy():
        pytest.fail(f"{name} is not healthy before the outage: run `make up`")
    current = outage_in_progress.get("name")
    assert current is None, f"{current} is already down"
    log.warning("stopping %s for a fault test", name)
    service.stop()
    assert not service.running() and not service.healthy(), f"{name} still answers after stop()"
    down = Outage(service)
    outage_in_progress["name"] = name
    try:
        yield down
    finally:
        try:
            down.restore()
        finally:
            outage_in_progress.pop("name", None)


outage_in_progress: dict[str, str] = {}


def _refresh_stack_env(service: Service) -> None:
    """After a restart: the dev namespace's variables into .local/stack.env, and the test namespace
    re-provisioned on the service (a restarted LocalStack lost its queues) into .local/test.env and
    this process's variables (the tests run in the test namespace), where they changed."""
    lines = STACK_ENV_FILE.read_text().splitlines() if STACK_ENV_FILE.exists() else []
    current = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    fresh = service.env()
    changed = {k: v for k, v in fresh.items() if current.get(k) != v}
    if changed:
        log.warning("%s: dev environment changed after the restart: %s", service.name, sorted(changed))
        current.update(changed)
        STACK_ENV_FILE.write_text("".join(f"{key}={value}\n" for key, value in sorted(current.items())))
    before = stack.load_env(stack.env_file(TEST_NAMESPACE))
    test_env = stack.provision_namespace(TEST_NAMESPACE, [service])
    moved = {k: v for k, v in test_env.items() if before.get(k) != v}
    if moved:
        log.warning("%s: test environment changed after the restart: %s", service.name, sorted(moved))
        os.environ.update(moved)
