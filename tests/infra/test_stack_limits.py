"""CloudFormation's hard limits, checked at synthesis instead of at deploy time: at most 500 resources
per stack and a template of at most 1 MB (uploaded through the CDK asset bucket). The stacks are
close to the resource limit (every alarm is a resource), so this fails in CI before a deploy would."""

from __future__ import annotations

import json

from .conftest import Assembly

MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000


def test_every_stack_fits_cloudformations_limits(assembly: Assembly) -> None:
    for name, template in assembly.templates.items():
        count = len(template["Resources"])
        assert count <= MAX_RESOURCES, f"{name}: {count} resources (CloudFormation allows {MAX_RESOURCES})"
        size = len(json.dumps(template, separators=(",", ":")).encode())
        assert size <= MAX_TEMPLATE_BYTES, f"{name}: template of {size} bytes"
