"""Bring the whole local stack up (install, start, wait for health, provision) and down again."""

from __future__ import annotations

import concurrent.futures
import importlib
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.declaration import DEV_NAMESPACE, TEST_NAMESPACE, LocalNamespace
from stackctl import apt, proc
from stackctl.base import Service
from stackctl.paths import LOCAL_DIR, LOG_DIR, REPO_ROOT, STACK_ENV_FILE, ensure_dirs

SERVICE_CLASSES = (
    "stackctl.services.postgres:Postgres",
    "stackctl.services.redis:Redis",
    "stackctl.services.localstack_aws:LocalStack",
    "stackctl.services.cognito:Cognito",
    "stackctl.services.kafka:Kafka",
    "stackctl.services.opensearch:OpenSearch",
    "stackctl.services.zipkin:Zipkin",
)

# Settings every function and test shares, whatever the services are.
BASE_ENV = {
    "FILESHARE_LOCAL": "1",
    "WEB_ORIGIN": "http://localhost:8080",
    "PUBLIC_BASE_URL": "http://localhost:8080",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Fileshare",
}


def all_services() -> list[Service]:
    services = []
    for spec in SERVICE_CLASSES:
        module, cls = spec.split(":")
        services.append(getattr(importlib.import_module(module), cls)())
    return services


def select(names: Iterable[str] | None) -> list[Service]:
    services = all_services()
    if not names:
        return services
    wanted = set(names)
    unknown = wanted - {s.name for s in services}
    if unknown:
        raise proc.StackError(f"unknown services: {sorted(unknown)}")
    return [s for s in services if s.name in wanted]


@dataclass
class Outcome:
    service: Service
    how: str  # started | running | reused
    seconds: float


def up(names: Iterable[str] | None = None) -> list[Outcome]:
    """Idempotent: installs what is missing, starts what is not running, provisions everything."""
    ensure_dirs()
    services = select(names)
    apt.ensure(p for s in services if not s.reused for p in s.debian_packages)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(services)) as pool:
        outcomes = list(pool.map(_bring_up, [s for s in services if not s.reused]))
        outcomes += list(pool.map(_check_reused, [s for s in services if s.reused]))
    for service in services:  # provisioning order matters little; keep it deterministic
        service.provision()
    write_env(all_services())  # every service's settings, even when only some were brought up
    if names is None:
        last_bootstrap.clear()
        last_bootstrap.update(bootstrap())
        # The tests' namespace on the same services, through the same code (`make test` uses it).
        test_env = provision_namespace(TEST_NAMESPACE)
        last_bootstrap.update({f"{name} ({TEST_NAMESPACE.prefix})": result
                               for name, result in bootstrap(test_env).items()})
    return outcomes


last_bootstrap: dict[str, Any] = {}  # what the last up() had the bootstrap report


def env_file(namespace: LocalNamespace) -> Path:
    """``.local/stack.env`` (dev) or ``.local/test.env``: a namespace's environment."""
    return LOCAL_DIR / namespace.env_file_name


def provision_namespace(namespace: LocalNamespace, services: Iterable[Service] | None = None
                        ) -> dict[str, str]:
    """Provision ``namespace`` on the running services and write its env file; returns that env.

    Every service's ``provision_namespace`` makes the namespace's resources (database, bucket and
    queues, user pool, Redis database number); the namespace's own names (topic, search alias,
    gateway port) come from ``LocalNamespace.env``; the bootstrap (run by ``up()``) then makes the
    schema, index and topic inside them. Given ``services`` (a restarted one), only their variables
    are refreshed in the existing file. Idempotent; the dev namespace's file is :func:`write_env`'s.
    """
    path = env_file(namespace)
    if services is None:  # the dev env's endpoints and credentials, none of its queues
        env = {**{k: v for k, v in stack_env().items() if not _queue_variable(k)}, **namespace.env()}
        services = all_services()
    else:
        env = {**load_env(path), **namespace.env()}
    for service in services:
        env.update(service.provision_namespace(namespace))
    _write(path, env)
    return env


def _queue_variable(name: str) -> bool:
    """A queue URL variable: each namespace's come from its own provisioning, never from dev's."""
    return name.endswith("_QUEUE_URL") or name == "UPLOAD_DLQ_URL"


def load_env(path: Path) -> dict[str, str]:
    from lambdarun.environment import load_env_file

    return load_env_file(path)


def bootstrap(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run the declaration's bootstrap function(s) through the local Lambda runtime, with the event
    CloudFormation's Provider framework sends on a deploy: what `cdk deploy` does, on this machine.

    Resources CDK makes (bucket, queues, user pool, the empty database) are the services'
    ``provision()``; what must exist inside them (schema, search index, topics) is the bootstrap's.
    ``env`` is a namespace's environment (default: the dev namespace's ``.local/stack.env``).
    """
    from infra.declaration import deploy_functions
    from lambdarun.environment import load_env_file
    from lambdarun.runtime import Runtime

    functions = deploy_functions()
    base_env = dict(load_env_file(STACK_ENV_FILE) if env is None else env)
    runtime = Runtime(functions, base_env=base_env, max_concurrency=1)
    results: dict[str, Any] = {}
    try:
        for fn in functions:
            invocation = runtime.invoke(fn.name, {
                "RequestType": "Create", "ResourceType": "Custom::FileshareBootstrap",
                "LogicalResourceId": "Bootstrap", "RequestId": str(uuid.uuid4()),
                "StackId": "arn:aws:cloudformation:local:000000000000:stack/fileshare-local/0",
                "ResourceProperties": {}})
            if not invocation.ok:
                error = invocation.error or {}
                raise proc.StackError(f"bootstrap function {fn.name} failed: {error.get('errorType')}: "
                                      f"{error.get('errorMessage')} (log: .local/logs/lambda/{fn.name}.log)")
            results[fn.name] = invocation.result
    finally:
        runtime.close()
    return results


def _bring_up(service: Service) -> Outcome:
    started = time.monotonic()
    service.install()
    how = "running"
    if not (service.running() and service.healthy()):
        if service.running():  # alive but not answering: restart it
            service.stop()
        service.start()
        how = "started"
    service.wait_healthy()
    return Outcome(service, how, time.monotonic() - started)


def _check_reused(service: Service) -> Outcome:
    started = time.monotonic()
    service.wait_healthy()
    return Outcome(service, "reused", time.monotonic() - started)


def down(names: Iterable[str] | None = None) -> list[str]:
    stopped = []
    for service in reversed(select(names)):
        if not service.reused and service.stop():
            stopped.append(service.name)
    return stopped


def stack_env(services: Iterable[Service] | None = None) -> dict[str, str]:
    env = {**BASE_ENV, **DEV_NAMESPACE.env()}
    for service in services or all_services():
        env.update(service.env())
    return env


def write_env(services: Iterable[Service]) -> None:
    """Write ``.local/stack.env``, the environment of the dev namespace (``make dev``)."""
    _write(STACK_ENV_FILE, stack_env(services))


def _write(path: Path, env: Mapping[str, str]) -> None:
    path.write_text("".join(f"{key}={value}\n" for key, value in sorted(env.items())))


def status_line(service: Service, how: str = "", seconds: float | None = None) -> str:
    pid = service.pid()
    if service.reused:
        state = "up (reused)" if service.healthy() else "DOWN (reused)"
    elif pid is None:
        state = "down"
    else:
        state = "up" if service.healthy() else "UNHEALTHY"
    parts = [f"{service.name:<11}", f"{state:<13}", f"{service.url():<60}"]
    if pid is not None:
        parts.append(f"pid {pid:<7} rss {proc.tree_rss_mb(pid):>6.0f} MB")
    if how:
        parts.append(f"{how} in {seconds:.1f}s" if seconds is not None else how)
    if not service.reused:
        parts.append(f"log {(LOG_DIR / f'{service.name}.log').relative_to(REPO_ROOT)}")
    return "  ".join(parts)
