"""The shape every local service follows, so the orchestrator can treat them alike."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from stackctl import proc

if TYPE_CHECKING:
    from infra.declaration import LocalNamespace


class Service(ABC):
    """One local service: installed on demand, run as its own process on a fixed loopback port.

    When the environment variable named by ``reuse_env`` is set, the service is not started:
    the existing one it names is health-checked and used instead.
    """

    name: ClassVar[str]
    port: ClassVar[int]
    reuse_env: ClassVar[str]
    debian_packages: ClassVar[tuple[str, ...]] = ()
    start_timeout_s: ClassVar[float] = 60.0

    @property
    def external_url(self) -> str | None:
        return os.environ.get(self.reuse_env) or None

    @property
    def reused(self) -> bool:
        return self.external_url is not None

    @abstractmethod
    def url(self) -> str:
        """The URL the app uses, e.g. ``postgresql://...`` or ``http://127.0.0.1:9200``."""

    def env(self) -> dict[str, str]:
        """Environment variables the functions and tests need to reach this service."""
        return {self.reuse_env: self.url()}

    def install(self) -> None:
        """Download or build what the service needs; idempotent, caches under .local/cache."""

    @abstractmethod
    def start(self) -> None:
        """Spawn the service (non-blocking) with data under .local/data and logs under .local/logs."""

    @abstractmethod
    def healthy(self) -> bool:
        """True when the service answers a real request (not merely an open port)."""

    def provision(self) -> None:
        """Create what the app needs inside the service for the dev namespace; idempotent."""

    def provision_namespace(self, namespace: LocalNamespace) -> dict[str, str]:
        """Create a namespace's resources inside the service (idempotent) and return the variables
        that point at them (those of :meth:`env` that differ between namespaces).

        ``provision()`` is this for the dev namespace; ``stack.provision_namespace`` calls it for the
        test namespace. Services whose resources the bootstrap makes (topics, search index) have
        nothing to create: their names are the namespace's own (``LocalNamespace.env``).
        """
        return {}

    def pid(self) -> int | None:
        return proc.read_pid(self.name)

    def running(self) -> bool:
        return self.pid() is not None

    def stop(self) -> bool:
        return proc.stop(self.name)

    def wait_healthy(self) -> None:
        proc.wait_until(self.healthy, timeout_s=self.start_timeout_s, what=self.name,
                        name="" if self.reused else self.name)
