"""Archives in the synthesized stack: the bucket expires a/ objects (the sweeper's backstop), only the
functions that declare ARCHIVE_OBJECTS may touch a/*, and the API's invoke permissions are one per
function (CloudFormation's 500-resource ceiling)."""

from __future__ import annotations

from typing import Any

from infra.declaration import FUNCTIONS, Uses, socket_routes

from .conftest import Assembly
from .helpers import STAGES, as_list, function_by_name, ref_id, resources, role_statements, stack


def _bucket(template: dict[str, Any]) -> dict[str, Any]:
    (bucket,) = [b for b in resources(template, "AWS::S3::Bucket").values()
                 if "NotificationConfiguration" in b["Properties"]]
    return bucket


def _s3_resources(template: dict[str, Any], name: str) -> list[str]:
    """What the role reaches in S3: object ARNs, and for s3:ListBucket the bucket with each prefix
    its ``s3:prefix`` condition allows (``<bucket>/u/*``)."""
    _, fn = function_by_name(template, name)
    found = []
    for s in role_statements(template, ref_id(fn["Properties"]["Role"])):
        if not any(a.startswith("s3:") for a in as_list(s["Action"])):
            continue
        listed = s.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
        found += [f"{r}/{p}" if listed else str(r)
                  for r in as_list(s["Resource"]) for p in as_list(listed or [""])]
    return found


def test_the_bucket_expires_archives_under_a(assembly: Assembly) -> None:
    for stage in STAGES:
        rules = _bucket(assembly.templates[stack(stage)])["Properties"]["LifecycleConfiguration"]["Rules"]
        [rule] = [r for r in rules if r.get("Id") == "expire-archives"]
        assert rule["Status"] == "Enabled" and rule["Prefix"] == "a/" and rule["ExpirationInDays"] == 2


def test_only_archive_functions_reach_a_and_archives_reach_nothing_else(assembly: Assembly) -> None:
    template = assembly.templates[stack("dev")]
    for fn in FUNCTIONS:
        granted = _s3_resources(template, fn.name)
        on_archives = [r for r in granted if "/a/*" in r]
        assert bool(on_archives) == (Uses.ARCHIVE_OBJECTS in fn.uses), (fn.name, granted)
    assert all("/a/*" in r for r in _s3_resources(template, "archives"))  # no u/* or t/* at all
    assert any("/u/*" in r for r in _s3_resources(template, "archiver"))  # reads the sources


def test_one_api_invoke_permission_per_function_and_room_under_500(assembly: Assembly) -> None:
    for stage in STAGES:
        template = assembly.templates[stack(stage)]
        permissions = resources(template, "AWS::Lambda::Permission")
        api_functions = [fn for fn in FUNCTIONS if fn.routes]
        from_api = [p for p in permissions.values()
                    if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
        # + one per WebSocket route (CDK's WebSocketLambdaIntegration scopes each to its route key)
        assert len(from_api) == len(api_functions) + len(socket_routes())
        # Each template CloudFormation receives (root and nested; test_stack_limits.py has the budget).
        assert all(len(t["Resources"]) < 500 for t in assembly.stages[stack(stage)].files().values())
