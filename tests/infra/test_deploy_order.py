"""Deploy order the first ``cdk deploy`` depends on, read from the templates as CloudFormation orders
them: ``DependsOn`` (a nested resource inherits its stack's, ``infra.templates.merged``) and every
``Ref``/``Fn::GetAtt``, followed transitively. And the bootstrap's properties: a replaced store, or
new bootstrap code, changes them (so it re-runs), and the function knows its own code hash."""

from __future__ import annotations

from typing import Any

import pytest

from infra.functions import CODE_HASH_ENV

from .conftest import Assembly
from .helpers import STAGES, as_list, function_by_name, logical_id, refs, resources, stack


def created_before(template: dict[str, Any], lid: str) -> set[str]:
    """Every resource CloudFormation finishes before it starts ``lid``."""
    known, todo = template["Resources"], [lid]
    seen: set[str] = set()
    while todo:
        res = known[todo.pop()]
        edges = set(as_list(res.get("DependsOn", []))) | refs(res.get("Properties", {}))
        for other in edges & known.keys() - seen:
            seen.add(other)
            todo.append(other)
    return seen


def _bootstrap(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((lid, custom),) = resources(template, "Custom::FileshareBootstrap").items()
    return lid, custom


@pytest.mark.parametrize("stage", STAGES)
def test_the_bootstrap_runs_once_what_it_reaches_serves(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    lid, _ = _bootstrap(template)
    before = created_before(template, lid)
    writer = [i for i, res in resources(template, "AWS::RDS::DBInstance").items() if "writer" in i]
    assert len(writer) == 1 and set(writer) <= before
    assert set(resources(template, "AWS::RDS::DBProxyTargetGroup")) <= before
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    interface = {i for i, e in endpoints.items() if e["Properties"].get("VpcEndpointType") == "Interface"}
    assert interface <= before
    # The function's security group, its egress rules and the stores' ingress rules from it.
    _, function = function_by_name(template, "bootstrap")
    (sg,) = refs(function["Properties"]["VpcConfig"]["SecurityGroupIds"])
    ingress = {i for i, r in resources(template, "AWS::EC2::SecurityGroupIngress").items()
               if logical_id(r["Properties"].get("SourceSecurityGroupId")) == sg}
    egress = {i for i, r in resources(template, "AWS::EC2::SecurityGroupEgress").items()
              if logical_id(r["Properties"]["GroupId"]) == sg}
    assert len(ingress) == 3 and len(egress) == 3  # proxy 5432, search 443, Kafka 9098
    assert ingress | egress | {sg} <= before
    # ... and the proxy's own path to Aurora (Aurora's ingress from the proxy, the proxy's egress).
    (proxy,) = resources(template, "AWS::RDS::DBProxy").values()
    (proxy_sg,) = refs(proxy["Properties"]["VpcSecurityGroupIds"])
    proxy_path = {i for i, r in resources(template, "AWS::EC2::SecurityGroupIngress").items()
                  if logical_id(r["Properties"].get("SourceSecurityGroupId")) == proxy_sg}
    proxy_path |= {i for i, r in resources(template, "AWS::EC2::SecurityGroupEgress").items()
                   if logical_id(r["Properties"]["GroupId"]) == proxy_sg}
    assert len(proxy_path) >= 3 and proxy_path <= before  # Aurora 5432 in and out, Secrets Manager out


@pytest.mark.parametrize("stage", STAGES)
def test_kafka_consumers_start_after_the_bootstrap_made_the_topics(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    lid, _ = _bootstrap(template)
    kafka = [i for i, m in resources(template, "AWS::Lambda::EventSourceMapping").items()
             if template["Resources"][logical_id(m["Properties"]["EventSourceArn"])]["Type"]
             == "AWS::MSK::ServerlessCluster"]
    assert len(kafka) == 6  # notifier, activity, indexer, deleter, archiver, pusher
    for mapping in kafka:
        assert lid in created_before(template, mapping), mapping


@pytest.mark.parametrize("stage", STAGES)
def test_the_search_domain_waits_for_its_log_policy(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    ((domain, _),) = resources(template, "AWS::OpenSearchService::Domain").items()
    (policy,) = resources(template, "AWS::Logs::ResourcePolicy")
    assert policy in as_list(template["Resources"][domain].get("DependsOn", []))


@pytest.mark.parametrize("stage", STAGES)
def test_a_replaced_store_or_new_code_changes_the_bootstraps_properties(
    assembly: Assembly, stage: str
) -> None:
    template = assembly.templates[stack(stage)]
    _, custom = _bootstrap(template)
    props = custom["Properties"]

    def attribute(type_: str, attr: str) -> dict[str, Any]:
        (lid,) = resources(template, type_)
        return {"Fn::GetAtt": [lid, attr]}

    assert props["DatabaseEndpoint"] == attribute("AWS::RDS::DBCluster", "Endpoint.Address")
    assert props["ProxyEndpoint"] == attribute("AWS::RDS::DBProxy", "Endpoint")
    assert props["SearchEndpoint"] == attribute("AWS::OpenSearchService::Domain", "DomainEndpoint")
    assert props["KafkaClusterArn"] == attribute("AWS::MSK::ServerlessCluster", "Arn")
    # The function carries the same hash: an Update with another one is a rollback, which it skips.
    _, function = function_by_name(template, "bootstrap")
    assert function["Properties"]["Environment"]["Variables"][CODE_HASH_ENV] == props["CodeHash"]


def test_the_handler_reads_the_variable_cdk_sets() -> None:
    from tests.support.pipeline import load_handler

    assert load_handler("bootstrap").CODE_HASH_ENV == CODE_HASH_ENV


@pytest.mark.parametrize("stage", STAGES)
def test_the_added_order_makes_no_cycle(assembly: Assembly, stage: str) -> None:
    """CloudFormation refuses a template whose dependencies loop; nothing waits for itself."""
    template = assembly.templates[stack(stage)]
    for lid in (_bootstrap(template)[0], *resources(template, "AWS::Lambda::EventSourceMapping")):
        assert lid not in created_before(template, lid), lid
