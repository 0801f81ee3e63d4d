"""localstack/compose.yml validates without an engine, the check catches a broken file, and the file
runs what the native stack runs (compose_check.properties): each property holds for the committed
file and fails when the file loses it."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import compose_check
import pytest
import yaml
from compose_check import check

COMPOSE = Path(__file__).resolve().parents[2] / "localstack" / "compose.yml"
ENV = compose_check.read_env(COMPOSE.with_name("compose.env"))

needs_compose = pytest.mark.skipif(shutil.which("docker-compose") is None,
                                   reason="docker-compose is not installed here; `make lint` installs it")


@needs_compose
def test_the_committed_compose_file_is_valid() -> None:
    assert check(COMPOSE) == []


@needs_compose
@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("  redis:\n    image: redis:7\n    portz: ['1:1']\n", "portz"),  # unknown key
        ("  redis:\n    image: redis:7\n    depends_on: [nowhere]\n", "nowhere"),  # undefined service
        ("  redis:\n    image: redis:7\n    volumes: ['undeclared:/data']\n", "undeclared"),  # no such volume
    ],
)
def test_a_broken_file_is_refused(tmp_path: Path, broken: str, expected: str) -> None:
    path = tmp_path / "compose.yml"
    path.write_text("name: fileshare\nservices:\n" + broken)
    problems = check(path)
    assert problems and expected in "\n".join(problems), problems


@needs_compose
def test_the_project_name_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "compose.yml"
    path.write_text("name: File Share\nservices:\n  redis:\n    image: redis:7\n")
    assert "lowercase project name" in check(path)[0]


def committed() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_committed_file_has_every_property() -> None:
    assert compose_check.properties(committed(), ENV) == []


def plain_moto(doc: dict[str, Any]) -> None:
    doc["services"]["cognito"] = {"image": "motoserver/moto:5.2.5", "ports": ["127.0.0.1:4599:4599"]}


def dev_container(doc: dict[str, Any]) -> None:
    doc["services"]["redpanda"]["command"].append("--mode=dev-container")


def auto_create_on(doc: dict[str, Any]) -> None:
    command = doc["services"]["redpanda"]["command"]
    command.remove("--set=redpanda.auto_create_topics_enabled=false")


def no_persistence(doc: dict[str, Any]) -> None:
    del doc["services"]["localstack"]["entrypoint"]


def signatures_unchecked(doc: dict[str, Any]) -> None:
    doc["services"]["localstack"]["environment"]["S3_SKIP_SIGNATURE_VALIDATION"] = "1"


def state_in_the_container(doc: dict[str, Any]) -> None:
    doc["services"]["localstack"]["volumes"] = [v for v in doc["services"]["localstack"]["volumes"]
                                                if not str(v).startswith("localstack-data")]


def a_service_missing(doc: dict[str, Any]) -> None:
    del doc["services"]["opensearch"]


def another_port(doc: dict[str, Any]) -> None:
    doc["services"]["postgres"]["ports"] = ["127.0.0.1:5432:5432"]


@pytest.mark.parametrize(("mutate", "expected"), [
    (plain_moto, "project's server"),
    (dev_container, "dev-container"),
    (auto_create_on, "auto-creation off"),
    (no_persistence, "aws_state.py"),
    (signatures_unchecked, "S3_SKIP_SIGNATURE_VALIDATION"),
    (state_in_the_container, "not on a named volume"),
    (a_service_missing, "opensearch has no container"),
    (another_port, "DATABASE_URL"),
])
def test_each_property_fails_when_the_file_loses_it(mutate: Callable[[dict[str, Any]], None],
                                                    expected: str) -> None:
    doc = copy.deepcopy(committed())
    mutate(doc)
    problems = compose_check.properties(doc, ENV)
    assert any(expected in problem for problem in problems), problems


def test_the_env_file_names_every_service_the_stack_would_otherwise_start() -> None:
    names = {service.reuse_env for service in compose_check.all_services()}
    assert names <= set(ENV)
    without_redis = {k: v for k, v in ENV.items() if k != "REDIS_URL"}
    assert any("REDIS_URL" in p for p in compose_check.properties(committed(), without_redis))
