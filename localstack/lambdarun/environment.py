"""Environments: the stack's env file and each function's Lambda environment (queue URL variables
are named by ``infra.declaration.queue_url_env``).

A function sees the stack env (``.local/stack.env``) minus the resource variables of resources it
did not declare in ``uses`` (so a missing declaration fails locally as it would in AWS), plus its
declared ``environment``, the variables Lambda itself sets and, as CDK sets it, the list of settings
its configuration requires (``infra.declaration.RESOURCES``, the one resource table).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from infra.declaration import REQUIRED_SETTINGS_ENV, RESOURCES, Function, Uses, required_settings
from lambdarun.iam.policy import ACCOUNT_ID

__all__ = ["ACCOUNT_ID", "function_env", "load_env_file"]

#: Variables that point at a resource; a function sees them only if it declares the resource.
USES_ENV: dict[Uses, tuple[str, ...]] = {use: resource.env for use, resource in RESOURCES.items()}

#: Variables of the developer's shell a process needs to run at all.
_PROCESS_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def load_env_file(path: Path) -> dict[str, str]:
    """Parse a ``KEY=VALUE`` file (comments, blank lines, optional quotes); missing file -> {}."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def region(env: Mapping[str, str]) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def function_arn(name: str, env: Mapping[str, str]) -> str:
    return f"arn:aws:lambda:{region(env)}:{ACCOUNT_ID}:function:{name}"


def function_env(fn: Function, base_env: Mapping[str, str], code_dir: Path) -> dict[str, str]:
    """The environment a worker process of ``fn`` runs with."""
    env = {k: os.environ[k] for k in _PROCESS_ENV if k in os.environ}
    declared = {var for uses in fn.uses for var in USES_ENV.get(uses, ())}
    hidden = {var for names in USES_ENV.values() for var in names} - declared
    env.update({k: v for k, v in base_env.items() if k not in hidden})
    env.update(dict(fn.environment))
    env[REQUIRED_SETTINGS_ENV] = required_settings(fn.uses)
    aws_region = region(env)
    env.setdefault("AWS_ACCESS_KEY_ID", "test")  # Lambda injects the role's credentials
    env.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    env.setdefault("POWERTOOLS_SERVICE_NAME", fn.name)
    env.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Fileshare")
    env.update(
        {
            "AWS_REGION": aws_region,
            "AWS_DEFAULT_REGION": aws_region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": fn.handler,
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("PYTHONPATH", None)
    env.update(iam_env(base_env))
    return env


def iam_env(base_env: Mapping[str, str]) -> dict[str, str]:
    """What turns on the local IAM gate in a worker (``lambdarun.iam``): the roles file ``make up``
    synthesized, unless ``FILESHARE_IAM=off`` (in the shell or the stack env) turns it off."""
    from lambdarun.iam.roles import ROLES_FILE, USAGE_DIR

    switch = os.environ.get("FILESHARE_IAM", base_env.get("FILESHARE_IAM", "on"))
    if switch == "off" or not ROLES_FILE.exists():
        return {}
    return {"FILESHARE_IAM_ROLES": str(ROLES_FILE), "FILESHARE_IAM_USAGE_DIR": str(USAGE_DIR)}
