"""Generate the CLI's API client from the committed OpenAPI document (``make client``), or check that
the committed client is what the generator makes of today's document (``--check``, in ``make lint``).

The generator (openapi-python-client, pinned in ``generate-requirements.txt``) lives in a venv of its
own under ``.local/opt`` so its dependencies never mix with the project's. ``cli/openapi.sha256``
records the document the client was generated from; ``tests/unit/test_cli_client.py`` fails when it
differs from ``functions/meta/openapi.json`` (a changed API without ``make client``).

    python cli/generate.py [--check]
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

CLI = Path(__file__).resolve().parent
REPO = CLI.parent
DOCUMENT = REPO / "functions" / "meta" / "openapi.json"
CONFIG = CLI / "openapi-client.yaml"
PACKAGE = CLI / "src" / "fileshare_api_client"
STAMP = CLI / "openapi.sha256"
REQUIREMENTS = CLI / "generate-requirements.txt"


def document_digest(path: Path = DOCUMENT) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _generator() -> Path:
    """The generator's venv (created and filled on first use, one per pinned requirements file)."""
    pin = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    home = REPO / ".local" / "opt" / f"openapi-python-client-{pin}"
    exe = home / "bin" / "openapi-python-client"
    if not exe.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", "-r", str(REQUIREMENTS)], check=True)
    return exe


def generate(output: Path) -> None:
    exe = _generator()
    env = {**os.environ, "PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # its ruff
    subprocess.run([str(exe), "generate", "--path", str(DOCUMENT), "--config", str(CONFIG), "--meta", "none",
                    "--output-path", str(output), "--overwrite", "--fail-on-warning"], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def _differences(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two trees (added, removed or changed); caches ignored."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(prefix + n for n in cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right, ignore=["__pycache__"]), "")
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the committed client is stale")
    args = parser.parse_args()
    if not args.check:
        generate(PACKAGE)
        STAMP.write_text(document_digest() + "\n")
        print(f"wrote {PACKAGE.relative_to(REPO)} from {DOCUMENT.relative_to(REPO)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / PACKAGE.name
        generate(fresh)
        stale = _differences(PACKAGE, fresh)
    if STAMP.read_text().strip() != document_digest():
        stale.append(STAMP.name)
    if stale:
        print(f"{PACKAGE.relative_to(REPO)} is stale ({', '.join(stale[:5])}): run `make client`",
              file=sys.stderr)
        return 1
    print(f"{PACKAGE.relative_to(REPO)} matches {DOCUMENT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
