"""localstack/compose.yml validates without an engine, and the check catches a broken file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from compose_check import check

COMPOSE = Path(__file__).resolve().parents[2] / "localstack" / "compose.yml"

pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None,
                                reason="docker-compose is not installed here; `make lint` installs it")


def test_the_committed_compose_file_is_valid() -> None:
    assert check(COMPOSE) == []


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


def test_the_project_name_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "compose.yml"
    path.write_text("name: File Share\nservices:\n  redis:\n    image: redis:7\n")
    assert "lowercase project name" in check(path)[0]
