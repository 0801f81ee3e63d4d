"""Validate ``localstack/compose.yml`` (the Docker path) without a Docker engine: ``make lint`` runs it.

``docker-compose config`` (Debian's docker-compose 1.29, pinned in the Makefile) parses and validates
the file against the Compose schema and resolves it, all without contacting an engine. It predates the
Compose Spec's top-level ``name``, so that key is checked here (a valid project name) and passed as
``-p`` instead, and the rest goes to ``docker-compose -f - config`` on standard input.

Then :func:`properties` checks that the file runs what the native stack runs (what ``make
test-compose`` relies on, and what no engine-free tool can see): the same services, each published on
the loopback port ``localstack/compose.env`` points the stack at; the project's Cognito server (mail
through LocalStack's SES, its packages from the hashed lock, its pools on a volume), not plain moto;
Redpanda in production mode with topic auto-creation off, as the native broker; LocalStack started
through ``aws_state.py`` (the persistence layer) on a volume, with the native settings that matter
(``runtime_env``: S3 signature checks on, path-style queue URLs, the same services).

    python localstack/compose_check.py [localstack/compose.yml]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from stackctl.stack import all_services

#: Native service -> its container in compose.yml.
CONTAINERS = {"localstack": "localstack", "cognito": "cognito", "kafka": "redpanda",
              "postgres": "postgres", "redis": "redis", "opensearch": "opensearch",
              "zipkin": "zipkin"}
#: LocalStack settings that change behaviour the tests rely on; compose must match ``runtime_env``.
LOCALSTACK_SETTINGS = ("SERVICES", "SQS_ENDPOINT_STRATEGY", "S3_SKIP_SIGNATURE_VALIDATION",
                       "DISABLE_EVENTS", "DNS_ADDRESS", "SKIP_SSL_CERT_DOWNLOAD", "LOCALSTACK_HOST")

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
    env_file = path.with_name("compose.env")
    return [f"{path}: {problem}" for problem in properties(document, read_env(env_file))]


def read_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (comments and blanks skipped), as ``make test-compose`` exports them."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#") and "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def argv(service: Mapping[str, Any]) -> list[str]:
    """The service's entrypoint and command as one argument list (a string is split on spaces)."""
    words: list[str] = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        words += value.split() if isinstance(value, str) else [str(v) for v in value]
    return [word for arg in words for word in arg.split()]  # `sh -c "..."` scripts, word by word


def published(service: Mapping[str, Any]) -> set[int]:
    """Host ports the service publishes on 127.0.0.1 (``127.0.0.1:<host>:<container>``)."""
    ports = set()
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        if len(parts) == 3 and parts[0] == "127.0.0.1":
            ports.add(int(parts[1]))
    return ports


def url_port(value: str) -> int | None:
    parts = urlsplit(value if "://" in value else f"kafka://{value.split(',')[0]}")
    return parts.port


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def named_volume_targets(service: Mapping[str, Any], volumes: Mapping[str, Any]) -> list[str]:
    targets = []
    for entry in service.get("volumes", []):
        if isinstance(entry, str) and entry.split(":")[0] in volumes:
            targets.append(entry.split(":")[1])
    return targets


def properties(document: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """What ``make test-compose`` relies on and ``docker-compose config`` cannot see (module docstring)."""
    from stackctl.services.localstack_aws import runtime_env

    problems: list[str] = []
    services: Mapping[str, Any] = document.get("services") or {}
    volumes: Mapping[str, Any] = document.get("volumes") or {}
    native = {service.name: service for service in all_services()}
    for name, service in native.items():
        container = CONTAINERS.get(name)
        if container is None or container not in services:
            problems.append(f"the native service {name} has no container (CONTAINERS in compose_check.py)")
            continue
        value = env.get(service.reuse_env, "")
        if not value:
            problems.append(f"compose.env does not set {service.reuse_env} (for {container})")
        elif url_port(value) not in published(services[container]):
            problems.append(f"compose.env's {service.reuse_env}={value} is not a port {container} publishes "
                            f"on 127.0.0.1 ({sorted(published(services[container]))})")
    if missing := set(services) - set(CONTAINERS.values()):
        problems.append(f"containers the native stack does not run: {sorted(missing)}")

    cognito = argv(services.get("cognito") or {})
    if "/fileshare/localstack/cognito_server.py" not in cognito:
        problems.append("cognito must run the project's server (localstack/cognito_server.py), "
                        "not plain moto")
    if not {"--ses-endpoint", "http://localstack:4566"} <= set(cognito):
        problems.append("cognito must mail its codes through LocalStack's SES "
                        "(--ses-endpoint http://localstack:4566)")
    if not {"--require-hashes", "/fileshare/localstack/cognito-requirements.lock"} <= set(cognito):
        problems.append("cognito must install its packages from localstack/cognito-requirements.lock "
                        "with --require-hashes")
    if "--state-file" not in cognito or not named_volume_targets(services.get("cognito") or {}, volumes):
        problems.append("cognito must keep its user pools (--state-file) on a named volume")

    redpanda = argv(services.get("redpanda") or {})
    if any("dev-container" in arg for arg in redpanda):
        problems.append("redpanda must not run in dev-container mode (it turns topic auto-creation on)")
    settings = {arg.split("=", 1)[1] for arg in redpanda if arg.startswith("--set=")}
    settings |= {redpanda[i + 1] for i, arg in enumerate(redpanda[:-1]) if arg == "--set"}
    if "redpanda.auto_create_topics_enabled=false" not in settings:
        problems.append("redpanda must turn topic auto-creation off "
                        "(--set=redpanda.auto_create_topics_enabled=false), as the native broker does")

    localstack = services.get("localstack") or {}
    command = argv(localstack)
    if "/fileshare/localstack/aws_state.py" not in command or "--state-dir" not in command:
        problems.append("localstack must start through localstack/aws_state.py --state-dir "
                        "(the persistence layer)")
    else:
        state_dir = command[command.index("--state-dir") + 1]
        if not any(state_dir.startswith(t) for t in named_volume_targets(localstack, volumes)):
            problems.append(f"localstack's state dir {state_dir} is not on a named volume")
    native_env, compose_env = runtime_env(4566), environment(localstack)
    for key in LOCALSTACK_SETTINGS:
        if compose_env.get(key) != native_env[key]:
            problems.append(f"localstack {key}={compose_env.get(key)!r}, "
                            f"the native stack runs {native_env[key]!r}")
    return problems


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
