"""Every alarm in the synthesized stacks links a runbook in the repository, and each runbook says
what the alarm means, where to look and what to do."""

from __future__ import annotations

import re

import pytest

from infra.declaration import REPO_ROOT

from .conftest import Assembly
from .helpers import resources

LINK = re.compile(r"Runbook: (docs/runbooks/[a-z0-9-]+\.md)$")
SECTIONS = ("## What it means", "## Where to look", "## What to do")


@pytest.mark.parametrize("which", ["real", "full"])
def test_every_alarm_links_an_existing_runbook(
        assembly: Assembly, full_assembly: Assembly, which: str) -> None:
    source = assembly if which == "real" else full_assembly
    for stack, template in source.templates.items():
        alarms = {**resources(template, "AWS::CloudWatch::Alarm"),
                  **resources(template, "AWS::CloudWatch::CompositeAlarm")}
        assert alarms
        for logical_id, alarm in alarms.items():
            description = alarm["Properties"].get("AlarmDescription", "")
            match = LINK.search(description)
            assert match, f"{stack}/{logical_id}: no runbook link in {description!r}"
            page = REPO_ROOT / match[1]
            assert page.is_file(), f"{stack}/{logical_id}: {match[1]} does not exist"


def test_every_runbook_has_the_three_sections() -> None:
    pages = sorted((REPO_ROOT / "docs" / "runbooks").glob("*.md"))
    assert len(pages) > 10
    for page in pages:
        if page.name == "README.md":
            continue
        text = page.read_text()
        missing = [s for s in SECTIONS if s not in text]
        assert not missing, f"{page.name}: missing {missing}"
