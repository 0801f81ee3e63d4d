"""The cloud and the laptop cannot drift: every route and trigger in the synthesized template exists
in the local runtime (``lambdarun``), and vice versa."""

from __future__ import annotations

import json

import pytest

from .conftest import FULL_FUNCTIONS, Assembly
from .helpers import STAGES, resources, stack
from .parity import template_routes, template_socket_routes, template_triggers


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


@pytest.mark.parametrize("stage", STAGES)
def test_socket_routes_match_the_local_socket_gateway(assembly: Assembly, stage: str) -> None:
    """The WebSocket API's routes: the template's and the ones the local socket gateway serves."""
    from infra.declaration import SOCKET_API
    from lambdarun.runtime import Runtime
    from lambdarun.sockets import SocketGateway

    template = assembly.templates[stack(stage)]
    cloud = template_socket_routes(template)
    runtime = Runtime(base_env={})
    local = SocketGateway(runtime, port=0)
    try:
        assert cloud == {key: fn.name for key, fn in local.routes.items()}
    finally:
        local.close()
        runtime.close()
    assert {"$connect", "$disconnect", "$default"} <= set(cloud)
    (stage_props,) = [r["Properties"] for r in resources(template, "AWS::ApiGatewayV2::Stage").values()]
    assert stage_props["StageName"] == SOCKET_API.stage
    assert "querystring" not in stage_props["AccessLogSettings"]["Format"].lower()  # the token is there


def test_the_local_iam_gate_checks_connections_against_the_pushers_role(assembly: Assembly) -> None:
    """@connections calls map to execute-api:ManageConnections on the local stage's connection ARN,
    which the pusher's synthesized role allows and another function's does not."""
    from infra.declaration import DEV_NAMESPACE
    from lambdarun.iam.calls import sdk_checks
    from lambdarun.iam.policy import ACCOUNT_ID, Role, extract

    # the test assembly's account is the stage config's; the local synthesis (roles.py) uses the local one
    roles = json.loads(json.dumps(extract(assembly.outdir)).replace(
        nag_account(assembly), ACCOUNT_ID))
    local = {"bucket": DEV_NAMESPACE.bucket, "queue_prefix": DEV_NAMESPACE.prefix}
    (check,) = sdk_checks("execute-api", "PostToConnection", {"ConnectionId": "abc="}, "us-east-1")
    assert check.resource == "arn:aws:execute-api:us-east-1:000000000000:local/live/POST/@connections/abc="

    def decide(function: str) -> bool:
        role = Role.load(roles, function, region="us-east-1", local=local, physical=DEV_NAMESPACE.physical)
        assert role is not None
        return role.decide(check.action, check.resource).allowed

    assert decide("pusher")
    assert not decide("notifier")


def nag_account(assembly: Assembly) -> str:
    """The account the test assembly's dev stage is synthesized for (its manifest's environment)."""
    manifest = json.loads((assembly.outdir / "manifest.json").read_text())
    return str(manifest["artifacts"][stack("dev")]["environment"]).split("/")[2]
