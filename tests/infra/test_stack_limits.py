"""CloudFormation's hard limits, checked at synthesis instead of at deploy time: at most 500 resources
per template (root or nested: each nested stack is a stack of its own) and a template of at most
1 MB (uploaded through the CDK asset bucket). Our budget is 450 per template, so a template that
grows past it fails here while the feature that did it still deploys (split it, see infra/README.md,
"Stack layout"); the headroom of every template is printed (``pytest -s``, and ``make synth``).

And the split must not move what holds data: the stateful resources keep their logical ids in the
root stack, so an existing deployment updates them in place instead of replacing them."""

from __future__ import annotations

import json

import pytest

from infra.templates import BUDGET_RESOURCES, MAX_RESOURCES, MAX_TEMPLATE_BYTES, NESTED_STACK

from .conftest import Assembly
from .helpers import STAGES, stack

# Logical ids as deployed before the nested stacks existed: a changed id is a replaced (emptied)
# database, bucket, user pool, key, cluster or domain. New stateful resources may be added.
STATEFUL_IDS: dict[str, set[str]] = {
    "AWS::RDS::DBCluster": {"DataAurora8CC34183"},
    "AWS::RDS::DBInstance": {"DataAurorawriter08FB7633"},
    "AWS::S3::Bucket": {"StorageUploadsBDC5E374", "StorageAccessLogs96FB524C"},
    "AWS::Cognito::UserPool": {"IdentityUsers61009EFD"},
    "AWS::Cognito::UserPoolClient": {"IdentityUsersApiClient0F29F219"},
    "AWS::KMS::Key": {"ObservabilityOnCallKey2024FF9C"},
    "AWS::SNS::Topic": {"ObservabilityOnCall2B7A08E8"},
    "AWS::MSK::ServerlessCluster": {"DataKafka20EC59F2"},
    "AWS::OpenSearchService::Domain": {"DataSearchC7D96612"},
    "AWS::ElastiCache::ServerlessCache": {"DataCache179E637C"},
    "AWS::EC2::VPC": {"NetworkVpc7FB7348F"},
    "AWS::SQS::Queue": {"StorageQueueuploadsQueue6D57DC93", "StorageQueueuploadsDlqB896718D"},
    "AWS::Logs::LogGroup": {"ApiAccessLogs50B185DB", "DataAuroraLogs358B6297", "NetworkFlowLogs2BEC3212"},
    "AWS::WAFv2::WebACL": set(),  # prod only, below
}
PROD_ONLY_IDS = {
    "AWS::RDS::DBInstance": {"DataAurorareader1AC05738E"},
    "AWS::WAFv2::WebACL": {"ApiWebAcl796CF128"},
}
# Types that must never sit in a nested stack: they hold data, or a name/identity clients rely on.
ROOT_ONLY_TYPES = {
    "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::SecretsManager::Secret", "AWS::S3::Bucket",
    "AWS::Cognito::UserPool", "AWS::KMS::Key", "AWS::MSK::ServerlessCluster",
    "AWS::OpenSearchService::Domain", "AWS::ElastiCache::ServerlessCache", "AWS::EC2::VPC",
    "AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::Lambda::Function", "AWS::WAFv2::WebACL",
}


def _check(assembly: Assembly) -> list[str]:
    problems = []
    for stage in assembly.stages.values():
        for path, template in stage.files().items():
            count = len(template["Resources"])
            size = len(json.dumps(template, separators=(",", ":")).encode())
            print(f"{stage.name} {path}: {count} resources, {BUDGET_RESOURCES - count} below the budget "
                  f"of {BUDGET_RESOURCES} ({MAX_RESOURCES - count} below CloudFormation's {MAX_RESOURCES}), "
                  f"{size} bytes")
            if count > BUDGET_RESOURCES:
                problems.append(f"{path}: {count} resources, over the budget of {BUDGET_RESOURCES} "
                                f"(CloudFormation allows {MAX_RESOURCES}): move a group into a nested stack")
            if size > MAX_TEMPLATE_BYTES:
                problems.append(f"{path}: template of {size} bytes (limit {MAX_TEMPLATE_BYTES})")
    return problems


@pytest.mark.parametrize("which", ["real", "full"])
def test_every_template_root_and_nested_stays_within_the_budget(
    assembly: Assembly, full_assembly: Assembly, which: str
) -> None:
    source = assembly if which == "real" else full_assembly
    files = source.files()
    assert any(path.endswith(".nested.template.json") for path in files), "no nested template was read"
    assert _check(source) == []


def test_each_stage_is_a_root_with_the_api_and_observability_nested(assembly: Assembly) -> None:
    for stage_name in STAGES:
        stage = assembly.stages[stack(stage_name)]
        paths = [path for path, _ in stage.nested.values()]
        assert len(paths) == 2 and all(p.endswith(".nested.template.json") for p in paths), paths
        (api,) = [t for p, t in stage.nested.values() if "ApiStack" in p]
        (obs,) = [t for p, t in stage.nested.values() if "ObservabilityStack" in p]
        assert [r for r in api["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
        assert [r for r in obs["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
        assert [r for r in obs["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
        for template in (api, obs):  # no nesting below the first level
            assert not [r for r in template["Resources"].values() if r["Type"] == NESTED_STACK]


@pytest.mark.parametrize("stage", STAGES)
def test_stateful_resources_keep_their_logical_ids_in_the_root_stack(assembly: Assembly, stage: str) -> None:
    templates = assembly.stages[stack(stage)]
    root = templates.root["Resources"]
    for type_, ids in STATEFUL_IDS.items():
        expected = ids | (PROD_ONLY_IDS.get(type_, set()) if stage == "prod" else set())
        present = {lid for lid, res in root.items() if res["Type"] == type_}
        assert expected <= present, f"{type_}: {sorted(expected - present)} gone from the root (replaced?)"
    for path, nested in templates.nested.values():
        misplaced = {lid: r["Type"] for lid, r in nested["Resources"].items() if r["Type"] in ROOT_ONLY_TYPES}
        assert not misplaced, f"{path} holds stateful or named resources: {misplaced}"


def test_the_budget_check_fails_a_template_over_it(assembly: Assembly) -> None:
    """The check itself can fail: a root template padded past the budget is reported."""
    stage = assembly.stages[stack("dev")]
    padded = {f"Pad{i}": {"Type": "AWS::CloudFormation::WaitConditionHandle"}
              for i in range(BUDGET_RESOURCES + 1 - len(stage.root["Resources"]))}
    fake = Assembly(assembly.outdir, {}, {stage.name: type(stage)(
        stage.name, stage.root_file, {**stage.root, "Resources": {**stage.root["Resources"], **padded}},
        stage.nested)})
    (problem,) = _check(fake)
    assert f"{BUDGET_RESOURCES + 1} resources, over the budget" in problem
