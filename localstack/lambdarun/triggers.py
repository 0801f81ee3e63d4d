"""The declaration's event sources as the local runtime wires them."""

from __future__ import annotations

from collections.abc import Iterable

from infra.declaration import FUNCTIONS, DeployTrigger, Function, KafkaTrigger, ScheduleTrigger, SqsTrigger


def schedule_interval_s(trigger: ScheduleTrigger) -> int:
    """The local cadence: ``local_every_seconds`` when given, else the cloud rate."""
    return trigger.local_every_seconds or trigger.every_seconds


def trigger_table(functions: Iterable[Function] = FUNCTIONS) -> list[tuple[str, str, str]]:
    """(kind, source, function name) for every trigger; kind is sqs, kafka, schedule or deploy.

    The source is the logical queue name, the topic, ``rate(<n> seconds)`` (the cloud rate), or
    ``custom-resource`` (run on every deploy; locally at ``make up``).
    """
    rows: list[tuple[str, str, str]] = []
    for fn in functions:
        for trigger in fn.triggers:
            if isinstance(trigger, SqsTrigger):
                rows.append(("sqs", trigger.queue, fn.name))
            elif isinstance(trigger, KafkaTrigger):
                rows.append(("kafka", trigger.topic, fn.name))
            elif isinstance(trigger, ScheduleTrigger):
                rows.append(("schedule", f"rate({trigger.every_seconds} seconds)", fn.name))
            elif isinstance(trigger, DeployTrigger):
                rows.append(("deploy", "custom-resource", fn.name))
    return sorted(rows)
