"""Java helpers shared by the JVM services (Kafka, OpenSearch): find a JDK, resolve with Maven."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from stackctl import proc
from stackctl.paths import CACHE_DIR

MAVEN_REPO = CACHE_DIR / "maven"  # project-local Maven repository: nothing lands in ~/.m2
_JDK_ROOT = Path("/usr/lib/jvm")
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


def java_major(java: Path) -> int:
    """The feature version of a ``java`` binary (17 for "17.0.15")."""
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise proc.StackError(f"cannot tell the version of {java}: {out.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java_home(min_major: int = 17, max_major: int = 99) -> Path:
    """A JDK home within [min_major, max_major]: $JAVA_HOME, then ``java`` on PATH, then /usr/lib/jvm."""
    candidates: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve().parents[1])
    if _JDK_ROOT.is_dir():
        candidates.extend(sorted(p for p in _JDK_ROOT.iterdir() if p.is_dir() and not p.is_symlink()))
    for home in candidates:
        java = home / "bin" / "java"
        if java.is_file() and min_major <= java_major(java) <= max_major:
            return home
    raise proc.StackError(f"no Java {min_major}..{max_major} found (set JAVA_HOME)")


def file_digest(*paths: Path) -> str:
    """A short digest of some files' bytes, used to notice that a pom changed since the last install."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def mvn(*args: str, pom: Path | None = None, cwd: Path | None = None) -> None:
    """Run Maven in batch mode (against ``pom`` if given) with the project-local repository."""
    if shutil.which("mvn") is None:
        raise proc.StackError("Maven (mvn) is required to fetch the Java services: apt-get install maven")
    project = ["-f", str(pom)] if pom else []
    MAVEN_REPO.mkdir(parents=True, exist_ok=True)
    # Maven 3.8 does not guard its local repository against two builds downloading the same file at
    # once, and the stack manager installs services in parallel: take turns.
    with open(MAVEN_REPO / ".stackctl.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc.run(["mvn", "-B", "-q", *project, f"-Dmaven.repo.local={MAVEN_REPO}", *args],
                 env={"JAVA_HOME": str(find_java_home())}, cwd=cwd or CACHE_DIR)


def maven_get(coordinates: str) -> Path:
    """Fetch one artifact (``group:artifact:version[:packaging[:classifier]]``, no dependencies) into
    the project-local repository and return its path there."""
    parts = coordinates.split(":")
    group, artifact, version = parts[0], parts[1], parts[2]
    packaging = parts[3] if len(parts) > 3 else "jar"
    classifier = f"-{parts[4]}" if len(parts) > 4 else ""
    path = (MAVEN_REPO / group.replace(".", "/") / artifact / version
            / f"{artifact}-{version}{classifier}.{packaging}")
    if not path.is_file():
        mvn(f"{DEPENDENCY_PLUGIN}:get", f"-Dartifact={coordinates}", "-Dtransitive=false")
    if not path.is_file():
        raise proc.StackError(f"Maven did not fetch {coordinates} (expected {path})")
    return path


def unzip(archive: Path, target: Path) -> None:
    """Extract a zip keeping the Unix permission bits (zipfile alone drops the executable bit)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            extracted = Path(zf.extract(info, target))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                extracted.chmod(mode)
