"""Validate ``localstack/compose.yml`` (the Docker path) without a Docker engine: ``make lint`` runs it.

``docker-compose config`` (Debian's docker-compose 1.29, pinned in the Makefile) parses and validates
the file against the Compose schema and resolves it, all without contacting an engine. It predates the
Compose Spec's top-level ``name``, so that key is checked here (a valid project name) and passed as
``-p`` instead, and the rest goes to ``docker-compose -f - config`` on standard input.

    python localstack/compose_check.py [localstack/compose.yml]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # the Compose Spec's rule for `name`


def check(path: Path) -> list[str]:
    """Problems found in the compose file at ``path`` (empty: valid)."""
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict):
        return [f"{path}: not a YAML mapping"]
    name = document.pop("name", None)
    if not isinstance(name, str) or not PROJECT_NAME.match(name):
        return [f"{path}: top-level name must be a lowercase project name, got {name!r}"]
    compose = shutil.which("docker-compose")
    if compose is None:
        return ["docker-compose is not installed (make lint installs Debian's package)"]
    result = subprocess.run([compose, "--project-name", name, "--file", "-", "config", "--quiet"],
                            input=yaml.safe_dump(document), capture_output=True, text=True,
                            cwd=path.parent, check=False)
    if result.returncode != 0:
        return [f"{path}: {line}" for line in (result.stderr or result.stdout).strip().splitlines()]
    return []


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else Path(__file__).with_name("compose.yml"))
    problems = check(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{path}: valid (docker-compose config, no engine)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
