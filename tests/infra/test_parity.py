"""The cloud and the laptop cannot drift: every route and trigger in the synthesized template exists
in the local runtime (``lambdarun``), and vice versa."""

from __future__ import annotations

import pytest

from .conftest import FULL_FUNCTIONS, Assembly
from .helpers import STAGES, stack
from .parity import template_routes, template_triggers


@pytest.mark.parametrize("stage", STAGES)
def test_routes_match_the_local_runtime(assembly: Assembly, stage: str) -> None:
    from lambdarun.routes import route_table

    cloud = set(template_routes(assembly.templates[stack(stage)]))
    local = set(route_table())
    assert local, "the local runtime serves no route"
    assert cloud - local == set(), "routes only in the CDK template"
    assert local - cloud == set(), "routes only in the local runtime"


@pytest.mark.parametrize("stage", STAGES)
def test_triggers_match_the_local_runtime(assembly: Assembly, stage: str) -> None:
    from lambdarun.triggers import trigger_table

    cloud = template_triggers(assembly.templates[stack(stage)])
    local = sorted(trigger_table())
    assert cloud == local


def test_parity_holds_for_every_trigger_kind(full_assembly: Assembly) -> None:
    """The same comparison on a declaration with sqs, kafka and schedule triggers and public routes."""
    from lambdarun.routes import route_table
    from lambdarun.triggers import trigger_table

    template = full_assembly.templates[stack("dev")]
    assert set(template_routes(template)) == set(route_table(FULL_FUNCTIONS))
    triggers = template_triggers(template)
    assert triggers == sorted(trigger_table(FULL_FUNCTIONS))
    assert {kind for kind, _, _ in triggers} == {"sqs", "kafka", "schedule"}
