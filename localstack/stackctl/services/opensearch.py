"""OpenSearch, single node on 127.0.0.1:9200: the local stand-in for Amazon OpenSearch Service.

The distribution is the minimal ``integ-test-zip`` from Maven Central: no bundled JDK, no plugins,
and of the standard modules only transport-netty4. The modules the app may lean on are published to
Maven Central as plain jars (``org.opensearch.plugin:<name>``, without the plugin descriptor), so
install() resolves each with Maven and assembles ``modules/<name>/`` itself: lang-painless (scripts:
``_update`` with a script, ``_update_by_query``), analysis-common (edge_ngram, asciifolding, ...),
mapper-extras (search_as_you_type, ...) and reindex (``_reindex``, ``_update_by_query``). The files
index mapping still keeps to core features, so it also works on a node without them.

OpenSearch refuses to run as root. When the stack manager runs as root (as on the team's machines)
the node runs as ``nobody`` through ``setpriv``, and its folder under .local/data is handed to that
user; as an ordinary user it simply runs as that user.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from stackctl import proc
from stackctl.base import Service
from stackctl.paths import CACHE_DIR, DATA_DIR, OPT_DIR
from stackctl.services import jvm

OPENSEARCH_VERSION = "2.19.6"
DISTRIBUTION = f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
HOME = OPT_DIR / f"opensearch-{OPENSEARCH_VERSION}"
STATE = DATA_DIR / "opensearch"  # config/, data/, logs/, tmp/ of the node
TRANSPORT_PORT = 9300
HEAP = "512m"
RUN_AS_UID = 65534  # nobody/nogroup on Debian
# Java 24+ removed the Security Manager, which OpenSearch 2.x still requires.
JAVA_RANGE = (11, 21)

_INSTALLED_MARKER = ".fileshare-installed"
_MODULES_MARKER = ".fileshare-modules"
_JAR_VERSION = re.compile(r"-\d.*\.jar$")  # "httpcore-4.4.16.jar" -> "httpcore"


@dataclass(frozen=True)
class Module:
    """A standard OpenSearch module rebuilt from its Maven Central jar and dependencies."""

    name: str
    artifact: str  # org.opensearch.plugin:<artifact>
    classname: str
    extends: str = ""
    permissions: tuple[str, ...] = ()  # security-manager grants the module needs

    def descriptor(self) -> str:
        return "\n".join([
            f"description={self.name} (assembled from Maven Central by the stack manager)",
            f"version={OPENSEARCH_VERSION}",
            f"name={self.name}",
            f"classname={self.classname}",
            "java.version=11",
            f"opensearch.version={OPENSEARCH_VERSION}",
            "custom.foldername=",
            f"extended.plugins={self.extends}",
            "has.native.controller=false",
        ]) + "\n"

    def security_policy(self) -> str:
        grants = "".join(f"  permission {permission};\n" for permission in self.permissions)
        return f"grant {{\n{grants}}};\n"

    def pom(self) -> str:
        """A throwaway pom whose runtime dependencies are the module's jars; the server itself (and
        with it Lucene, Jackson, Log4j...) is excluded because it is already in ``lib/``."""
        return f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>fileshare.localstack</groupId><artifactId>opensearch-module-{self.name}</artifactId>
  <version>1</version><packaging>pom</packaging>
  <dependencies><dependency>
    <groupId>org.opensearch.plugin</groupId><artifactId>{self.artifact}</artifactId>
    <version>{OPENSEARCH_VERSION}</version>
    <exclusions><exclusion><groupId>org.opensearch</groupId><artifactId>opensearch</artifactId></exclusion>
    </exclusions>
  </dependency></dependencies>
</project>
"""


MODULES = (
    # Painless compiles scripts into classes: it needs its own class loaders.
    Module("lang-painless", "lang-painless", "org.opensearch.painless.PainlessPlugin",
           permissions=('java.lang.RuntimePermission "createClassLoader"',
                        'java.lang.RuntimePermission "getClassLoader"')),
    Module("analysis-common", "analysis-common", "org.opensearch.analysis.common.CommonAnalysisPlugin",
           extends="lang-painless"),
    Module("mapper-extras", "mapper-extras-client", "org.opensearch.index.mapper.MapperExtrasPlugin"),
    # Local reindex only; reindex-from-remote would also need a socket permission and an allowlist.
    Module("reindex", "reindex-client", "org.opensearch.index.reindex.ReindexPlugin"),
)


def jar_artifact(filename: str) -> str:
    """The artifact part of a jar file name: ``lucene-core-9.12.3.jar`` -> ``lucene-core``."""
    return _JAR_VERSION.sub("", filename)

log = logging.getLogger(__name__)


def opensearch_yml(*, data: Path, logs: Path, host: str = "127.0.0.1", port: int = 9200,
                   transport_port: int = TRANSPORT_PORT) -> str:
    """Node settings: one node on loopback, nothing that only a real cluster needs."""
    settings: dict[str, object] = {
        "cluster.name": "fileshare-local",
        "node.name": "local-1",
        "discovery.type": "single-node",
        "network.host": host,
        "http.port": port,
        "transport.port": transport_port,
        "path.data": data,
        "path.logs": logs,
        # Writing to a missing index must fail: an auto-created concrete index named like the
        # search alias would block the alias for good.
        "action.auto_create_index": "false",
        # A developer's disk may be >90% full; do not turn indices read-only over it.
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "bootstrap.memory_lock": "false",
    }
    lines = ["# Generated by stackctl/services/opensearch.py; edits are overwritten on start."]
    lines += [f"{key}: {value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def jvm_options(*, heap: str = HEAP, error_dir: Path) -> str:
    """JVM flags for a small dev node (no GC log files, no heap dumps the size of the heap)."""
    return "\n".join([
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:G1ReservePercent=25",
        "-XX:InitiatingHeapOccupancyPercent=30",
        "-XX:+ExitOnOutOfMemoryError",
        # The launcher adds AlwaysPreTouch, which makes the whole heap resident at once; later flags win.
        "-XX:-AlwaysPreTouch",
        f"-XX:ErrorFile={error_dir}/hs_err_pid%p.log",
        "-Djava.io.tmpdir=${OPENSEARCH_TMPDIR}",
        "-Dlog4j2.formatMsgNoLookups=true",
        # Required by OpenSearch 2.x on newer JDKs: it still installs a Security Manager.
        "18-:-Djava.security.manager=allow",
        "20-:--add-modules=jdk.incubator.vector",
        "-Djava.util.concurrent.ForkJoinPool.common.threadFactory="
        "org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory",
    ]) + "\n"


def log4j2_properties() -> str:
    """Everything to the console, which the stack manager sends to .local/logs/opensearch.log."""
    return "\n".join([
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
    ]) + "\n"


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for entry in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, entry), uid, gid, follow_symlinks=False)


class OpenSearch(Service):
    """A single OpenSearch 2.x node with data and config under .local/data/opensearch."""

    name: ClassVar[str] = "opensearch"
    port: ClassVar[int] = 9200
    reuse_env: ClassVar[str] = "OPENSEARCH_URL"
    debian_packages: ClassVar[tuple[str, ...]] = ("openjdk-17-jre-headless", "maven")
    start_timeout_s: ClassVar[float] = 120.0

    def url(self) -> str:
        return (self.external_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    # -- install -------------------------------------------------------------------------------

    def installed(self) -> bool:
        return (HOME / _INSTALLED_MARKER).is_file()

    def _modules_stamp(self) -> str:
        return " ".join(sorted(module.name for module in MODULES))

    def modules_installed(self) -> bool:
        marker = HOME / _MODULES_MARKER
        return marker.is_file() and marker.read_text().strip() == self._modules_stamp()

    def install(self) -> None:
        """Fetch the distribution zip with Maven (cached in .local/cache/maven), unpack it to .local/opt,
        then add the modules it lacks."""
        if self.reused:
            return
        if not self.installed():
            self._install_distribution()
        if not self.modules_installed():
            self._install_modules()

    def _install_distribution(self) -> None:
        archive = jvm.maven_get(DISTRIBUTION)
        staging = OPT_DIR / f"opensearch-{OPENSEARCH_VERSION}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        jvm.unzip(archive, staging)
        unpacked = staging / f"opensearch-{OPENSEARCH_VERSION}"
        if not (unpacked / "bin" / "opensearch").is_file():
            raise proc.StackError(f"unexpected layout in {archive}")
        shutil.rmtree(HOME, ignore_errors=True)
        unpacked.rename(HOME)
        shutil.rmtree(staging, ignore_errors=True)
        (HOME / _INSTALLED_MARKER).write_text(DISTRIBUTION + "\n")

    def _install_modules(self) -> None:
        """Resolve each module with Maven and lay it out as ``modules/<name>/``: its jars (minus those
        the server already has in lib/, which would be "jar hell"), a descriptor, a security policy."""
        in_lib = {jar_artifact(jar.name) for jar in (HOME / "lib").glob("*.jar")}
        work = CACHE_DIR / "opensearch-modules" / OPENSEARCH_VERSION
        for module in MODULES:
            pom_dir = work / module.name
            pom_dir.mkdir(parents=True, exist_ok=True)
            (pom_dir / "pom.xml").write_text(module.pom())
            jars = pom_dir / "jars"
            shutil.rmtree(jars, ignore_errors=True)
            jvm.mvn(f"{jvm.DEPENDENCY_PLUGIN}:copy-dependencies", "-DincludeScope=runtime",
                    f"-DoutputDirectory={jars}", pom=pom_dir / "pom.xml")
            target = HOME / "modules" / module.name
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for jar in sorted(jars.glob("*.jar")):
                if jar_artifact(jar.name) not in in_lib:
                    shutil.copy2(jar, target / jar.name)
            if not any(target.glob(f"{module.artifact}-*.jar")):
                raise proc.StackError(f"Maven resolved no jar for the OpenSearch module {module.name}")
            (target / "plugin-descriptor.properties").write_text(module.descriptor())
            if module.permissions:
                (target / "plugin-security.policy").write_text(module.security_policy())
        (HOME / _MODULES_MARKER).write_text(self._modules_stamp() + "\n")

    # -- start ---------------------------------------------------------------------------------

    def _write_config(self) -> Path:
        config = STATE / "config"
        for sub in ("config", "data", "logs", "tmp"):
            (STATE / sub).mkdir(parents=True, exist_ok=True)
        (config / "opensearch.yml").write_text(
            opensearch_yml(data=STATE / "data", logs=STATE / "logs", port=self.port))
        (config / "jvm.options").write_text(jvm_options(error_dir=STATE / "logs"))
        (config / "jvm.options.d").mkdir(exist_ok=True)
        (config / "log4j2.properties").write_text(log4j2_properties())
        return config

    def start(self) -> None:
        if self.reused or self.running():
            return
        if not self.installed():
            raise proc.StackError("opensearch is not installed: run install() first")
        if proc.port_open("127.0.0.1", self.port) or proc.port_open("127.0.0.1", TRANSPORT_PORT):
            raise proc.StackError(f"ports {self.port}/{TRANSPORT_PORT} are taken by another process; "
                                  f"stop it or set {self.reuse_env} to use it")
        config = self._write_config()
        argv: list[str | os.PathLike[str]] = [HOME / "bin" / "opensearch"]
        if os.geteuid() == 0:
            _chown_tree(STATE, RUN_AS_UID, RUN_AS_UID)
            argv = ["setpriv", f"--reuid={RUN_AS_UID}", f"--regid={RUN_AS_UID}", "--clear-groups",
                    *argv]
        env = {
            "OPENSEARCH_JAVA_HOME": str(jvm.find_java_home(*JAVA_RANGE)),
            "OPENSEARCH_PATH_CONF": str(config),
            "OPENSEARCH_TMPDIR": str(STATE / "tmp"),
            "OPENSEARCH_JAVA_OPTS": "",  # heap and flags come from the generated jvm.options only
        }
        proc.spawn(self.name, argv, env=env, cwd=STATE)

    # -- health and provisioning ---------------------------------------------------------------

    def _client(self, timeout_s: float = 10) -> Any:
        from opensearchpy import OpenSearch as Client

        return Client(hosts=[self.url()], timeout=timeout_s)

    def healthy(self) -> bool:
        """True when the cluster health API reports yellow or green."""
        try:
            health = self._client(timeout_s=3).cluster.health()
        except Exception as exc:  # any client error means "not healthy yet"
            log.debug("opensearch not healthy yet: %s", exc)
            return False
        return health.get("status") in ("yellow", "green")

