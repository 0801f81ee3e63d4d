"""The bootstrap function runs on every deploy, through a custom resource, before the API serves."""

from __future__ import annotations

import pytest

from infra.declaration import Uses, by_name, deploy_functions

from .conftest import Assembly
from .helpers import STAGES, logical_id, resources, stack


def test_the_declaration_has_one_bootstrap_function() -> None:
    (bootstrap,) = deploy_functions()
    assert bootstrap is by_name("bootstrap")
    assert {Uses.DATABASE, Uses.SEARCH, Uses.EVENTS_ADMIN} <= bootstrap.uses


@pytest.mark.parametrize("stage", STAGES)
def test_bootstrap_resource_invokes_the_function_and_gates_the_api(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    (lid, custom), = resources(template, "Custom::FileshareBootstrap").items()
    # Given the Provider framework function behind the custom resource ...
    framework = template["Resources"][logical_id(custom["Properties"]["ServiceToken"])]
    on_event = framework["Properties"]["Environment"]["Variables"]["USER_ON_EVENT_FUNCTION_ARN"]
    target = template["Resources"][logical_id(on_event)]
    # ... it invokes the declared bootstrap function, whose timeout leaves the rebuild room ...
    assert target["Properties"]["FunctionName"] == f"fileshare-{stage}-bootstrap"
    assert target["Properties"]["Timeout"] == by_name("bootstrap").timeout_s
    # ... with a content hash, so a changed migration or mapping re-runs it on the next deploy ...
    assert len(custom["Properties"]["CodeHash"]) == 16
    # ... and the API stage is deployed only after the bootstrap succeeded.
    (api_stage,) = resources(template, "AWS::ApiGateway::Stage").values()
    assert lid in api_stage.get("DependsOn", [])
    # (The stage is in the nested API stack: CloudFormation creates that whole stack after it.)
    root = assembly.stages[stack(stage)].root
    assert lid in root["Resources"]
    (api_stack,) = [res for nested_lid, res in root["Resources"].items()
                    if res["Type"] == "AWS::CloudFormation::Stack" and nested_lid.startswith("ApiStack")]
    assert lid in api_stack["DependsOn"]


@pytest.mark.parametrize("stage", STAGES)
def test_bootstrap_may_create_topics_but_publishers_may_not(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    policies = {lid: res for lid, res in resources(template, "AWS::IAM::Policy").items()}
    creators = [lid for lid, res in policies.items()
                if "kafka-cluster:CreateTopic" in str(res["Properties"]["PolicyDocument"])]
    assert creators and all(lid.startswith("Functionsbootstrap") for lid in creators), creators
