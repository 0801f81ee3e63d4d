"""The on-failure queues the cloud and the laptop use are the same ones: every Kafka event source
mapping sends what it gives up on to its function's ``failure_queue`` (from the declaration, which the
local stack provisions too), after the declared number of retries."""

from __future__ import annotations

import re

import pytest

from infra.declaration import FUNCTIONS, KafkaTrigger, by_name

from .conftest import Assembly
from .helpers import STAGES, logical_id, ref_id, resources, stack


def _function_name(template: dict, lid: str) -> str:
    name = template["Resources"][lid]["Properties"]["FunctionName"]
    match = re.fullmatch(r"fileshare-(?:dev|prod)-(.+)", name)
    assert match, name
    return match.group(1)


@pytest.mark.parametrize("stage", STAGES)
def test_failure_queues_are_named_by_the_declaration(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    names = {q["Properties"]["QueueName"] for q in resources(template, "AWS::SQS::Queue").values()}
    failure_names = {name for name in names if name.endswith("-failures")}
    declared = {f"fileshare-{stage}-{fn.failure_queue}" for fn in FUNCTIONS if fn.failure_queue}
    assert declared and failure_names == declared


@pytest.mark.parametrize("stage", STAGES)
def test_each_kafka_trigger_fails_over_to_its_functions_queue(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    seen = set()
    for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        if "Topics" not in props:
            continue
        fn = by_name(_function_name(template, ref_id(props["FunctionName"])))
        (trigger,) = [t for t in fn.triggers if isinstance(t, KafkaTrigger) and t.topic in props["Topics"]]
        destination = logical_id(props["DestinationConfig"]["OnFailure"]["Destination"])
        assert destination is not None
        queue = template["Resources"][destination]["Properties"]["QueueName"]
        assert queue == f"fileshare-{stage}-{fn.failure_queue}"
        assert props["MaximumRetryAttempts"] == trigger.max_retries
        seen.add(fn.name)
    assert seen == {fn.name for fn in FUNCTIONS if any(isinstance(t, KafkaTrigger) for t in fn.triggers)}
