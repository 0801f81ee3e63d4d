"""What a first ``cdk deploy`` needs from the templates before any request: grants the runtime's
clients need on day one (idempotent producers, version deletes, 404 for a missing object) and the
VPC endpoints the Kafka consumers' failure destinations reach."""

from __future__ import annotations

from typing import Any

import pytest

from infra.declaration import FUNCTIONS, KafkaTrigger, Uses, by_name

from .conftest import Assembly
from .helpers import (
    STAGES,
    as_list,
    function_by_name,
    logical_id,
    ref_id,
    refs,
    resources,
    role_statements,
    stack,
)


def _statements(template: dict[str, Any], name: str) -> list[dict[str, Any]]:
    _, function = function_by_name(template, name)
    return [s for s in role_statements(template, ref_id(function["Properties"]["Role"]))
            if s.get("Effect", "Allow") == "Allow"]


def _allowed_on(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if action in as_list(s["Action"])]


@pytest.mark.parametrize("stage", STAGES)
def test_every_publisher_may_write_idempotently_on_the_cluster(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    (cluster_lid,) = resources(template, "AWS::MSK::ServerlessCluster")
    publishers = [fn.name for fn in FUNCTIONS if Uses.EVENTS_PUBLISH in fn.uses]
    assert publishers
    for name in publishers:
        granted = _allowed_on(_statements(template, name), "kafka-cluster:WriteDataIdempotently")
        # On the cluster ARN itself (GetAtt Arn), not on a topic ARN built from it.
        assert any(as_list(s["Resource"]) == [{"Fn::GetAtt": [cluster_lid, "Arn"]}] for s in granted), name


def _object_resources(statements: list[dict[str, Any]], action: str) -> set[str]:
    """The object prefixes (``u/*``) ``action`` is allowed on."""
    found = set()
    for statement in _allowed_on(statements, action):
        for resource in as_list(statement["Resource"]):
            text = str(resource)
            for prefix in ("u/*", "t/*", "a/*"):
                if f"/{prefix}" in text:
                    found.add(prefix)
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_files_role_may_delete_a_versions_objects(assembly: Assembly, stage: str) -> None:
    assert Uses.BUCKET_DELETE in by_name("files").uses
    statements = _statements(assembly.templates[stack(stage)], "files")
    assert {"u/*", "t/*"} <= _object_resources(statements, "s3:DeleteObject")


@pytest.mark.parametrize("stage", STAGES)
def test_readers_may_list_their_prefixes_so_a_missing_key_is_404(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    expected = {Uses.BUCKET_READ: {"u/*", "t/*"}, Uses.ARCHIVE_OBJECTS: {"a/*"}}
    for fn in FUNCTIONS:
        wanted = set().union(*(prefixes for use, prefixes in expected.items() if use in fn.uses))
        listed: set[str] = set()
        for statement in _allowed_on(_statements(template, fn.name), "s3:ListBucket"):
            (resource,) = as_list(statement["Resource"])
            assert "/" not in str(resource).rsplit("uploads", 1)[-1], resource  # the bucket, not its objects
            prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
            assert set(statement["Condition"]) == {"StringLike"}
            listed |= set(as_list(prefixes))
        assert listed == wanted, fn.name


@pytest.mark.parametrize("stage", STAGES)
def test_kafka_failure_destinations_reach_sqs_through_an_endpoint(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    endpoints = [res["Properties"] for res in resources(template, "AWS::EC2::VPCEndpoint").values()
                 if res["Properties"].get("VpcEndpointType") == "Interface"
                 and ".sqs" in str(res["Properties"]["ServiceName"])]
    assert len(endpoints) == 1
    (endpoint,) = endpoints
    assert endpoint["PrivateDnsEnabled"] is True
    # HTTPS into the endpoint from the whole VPC: every function's (and the pollers') address.
    (sg_lid,) = refs(endpoint["SecurityGroupIds"])
    ingress = template["Resources"][sg_lid]["Properties"]["SecurityGroupIngress"]
    assert any(r["FromPort"] == 443 and r["ToPort"] == 443 and r["CidrIp"] == "10.40.0.0/16" for r in ingress)
    # ... and out of each Kafka consumer's own security group on 443.
    consumers = [fn.name for fn in FUNCTIONS if any(isinstance(t, KafkaTrigger) for t in fn.triggers)]
    for name in consumers:
        _, function = function_by_name(template, name)
        (fn_sg,) = refs(function["Properties"]["VpcConfig"]["SecurityGroupIds"])
        egress = template["Resources"][fn_sg]["Properties"]["SecurityGroupEgress"]
        assert any(r.get("CidrIp") == "0.0.0.0/0" and r["FromPort"] == 443 for r in egress), name
    # The event source mappings send their failures to SQS queues, through that endpoint.
    mappings = resources(template, "AWS::Lambda::EventSourceMapping").values()
    kafka = [m for m in mappings if "DestinationConfig" in m["Properties"]]
    assert len(kafka) == len(consumers)
    for mapping in kafka:
        queue = logical_id(mapping["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
        assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"
