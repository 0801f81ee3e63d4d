"""Zipkin: where the local functions' OpenTelemetry spans go, and the UI to look at a trace.

The server is Maven Central's ``io.zipkin:zipkin-server`` exec jar (pinned, its SHA-256 checked
after the download), run on Java 17 with in-memory storage: traces last until ``make down``, which is
what a developer looking at a test run or a ``make dev`` session needs. The functions export to it
with OpenTelemetry's Zipkin exporter (``fileshare.adapters.tracing``), through the variables :meth:`env` adds
to every namespace's environment. In AWS the same spans go to X-Ray (the ADOT collector layer).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from stackctl import proc
from stackctl.base import Service
from stackctl.services import jvm

if TYPE_CHECKING:
    from infra.declaration import LocalNamespace

ZIPKIN_VERSION = "3.5.1"
COORDINATES = f"io.zipkin:zipkin-server:{ZIPKIN_VERSION}:jar:exec"
SHA256 = "7ac633a6832647e71e50012a5e3e91fbc7054414955261724526030faf271d8d"  # of the exec jar above
HEAP = "512m"
#: In-memory storage drops the oldest traces past this many spans. Zipkin's default (500 000) does
#: not fit the heap: a full `make test` traces every function and the server died of
#: OutOfMemoryError midway (seen in a fresh-clone run); 100 000 spans is hours of `make dev`.
MAX_SPANS = 100_000
#: The variable naming a Zipkin to reuse (then none is started); the exporter's own variable.
ENDPOINT_ENV = "OTEL_EXPORTER_ZIPKIN_ENDPOINT"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Zipkin(Service):
    """Zipkin on 127.0.0.1:9411: spans in at ``/api/v2/spans``, traces out at ``/api/v2/trace/<id>``,
    the UI at ``/zipkin/``."""

    name: ClassVar[str] = "zipkin"
    port: ClassVar[int] = 9411
    reuse_env: ClassVar[str] = "ZIPKIN_URL"
    debian_packages: ClassVar[tuple[str, ...]] = ("openjdk-17-jre-headless", "maven")
    start_timeout_s: ClassVar[float] = 90.0

    def url(self) -> str:
        return (self.external_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    def env(self) -> dict[str, str]:
        """Tracing on for every function (OpenTelemetry's variables) and where Zipkin is."""
        return {self.reuse_env: self.url(), "OTEL_TRACES_EXPORTER": "zipkin",
                ENDPOINT_ENV: f"{self.url()}/api/v2/spans"}

    def provision_namespace(self, namespace: LocalNamespace) -> dict[str, str]:
        """Both namespaces trace to the one Zipkin (a trace names its functions, not its namespace)."""
        return self.env()

    def jar(self) -> Path:
        return (jvm.MAVEN_REPO / "io" / "zipkin" / "zipkin-server" / ZIPKIN_VERSION
                / f"zipkin-server-{ZIPKIN_VERSION}-exec.jar")

    def install(self) -> None:
        """Fetch the exec jar into the project-local Maven repository and check its SHA-256."""
        if self.reused:
            return
        jar = self.jar() if self.jar().is_file() else jvm.maven_get(COORDINATES)
        actual = _sha256(jar)
        if actual != SHA256:
            jar.unlink()
            raise proc.StackError(f"{jar.name}: SHA-256 {actual}, expected {SHA256}; deleted, run again")

    def start(self) -> None:
        if self.reused or self.running():
            return
        if proc.port_open("127.0.0.1", self.port):
            raise proc.StackError(f"port {self.port} is taken by another process; stop it or set "
                                  f"{self.reuse_env} to use it")
        java = jvm.find_java_home(17) / "bin" / "java"
        argv: list[str | os.PathLike[str]] = [
            java, f"-Xmx{HEAP}", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            "-jar", self.jar(), f"--server.port={self.port}", "--server.address=127.0.0.1"]
        proc.spawn(self.name, argv, env={"STORAGE_TYPE": "mem", "MEM_MAX_SPANS": str(MAX_SPANS),
                                         "SELF_TRACING_ENABLED": "false"})

    def healthy(self) -> bool:
        """True when ``/health`` answers 200 (Zipkin reports UP there once storage is ready)."""
        return proc.http_ok(f"{self.url()}/health")


def trace_link(base_url: str, trace_id: str) -> str:
    """The Zipkin UI's page of one trace."""
    return f"{base_url.rstrip('/')}/zipkin/traces/{trace_id}"
