"""Tearing a stage down: dev deletes cleanly (nothing retained, buckets emptied first); prod keeps the
data and what reads it (the MSK cluster, the database and its secret, the buckets, the search
domain, the user pool)."""

from __future__ import annotations

from typing import Any

from .conftest import Assembly
from .helpers import logical_id, resources, stack

# Account-wide, not the stage's: API Gateway's CloudWatch role is one setting per account and region,
# shared by every REST API there; CDK retains it so deleting one stack does not break the others' logs.
ACCOUNT_SETTINGS = {"AWS::ApiGateway::Account"}
KEPT = ("Retain", "RetainExceptOnCreate", "Snapshot")


def _policies(res: dict[str, Any]) -> tuple[str, str]:
    return res.get("DeletionPolicy", "Delete"), res.get("UpdateReplacePolicy", "Delete")


def test_dev_deletes_everything_and_empties_its_buckets(assembly: Assembly) -> None:
    template = assembly.templates[stack("dev")]
    account_role = {logical_id(r["Properties"]["CloudWatchRoleArn"])
                    for r in resources(template, "AWS::ApiGateway::Account").values()}
    kept = {lid: res["Type"] for lid, res in template["Resources"].items()
            if set(_policies(res)) & set(KEPT)
            and res["Type"] not in ACCOUNT_SETTINGS and lid not in account_role}
    assert not kept, kept
    buckets = resources(template, "AWS::S3::Bucket")
    emptied = {logical_id(r["Properties"]["BucketName"])
               for r in resources(template, "Custom::S3AutoDeleteObjects").values()}
    assert emptied == set(buckets)
    (cluster,) = resources(template, "AWS::RDS::DBCluster").values()
    assert cluster["Properties"]["DeletionProtection"] is False
    (pool,) = resources(template, "AWS::Cognito::UserPool").values()
    assert pool["Properties"].get("DeletionProtection", "INACTIVE") == "INACTIVE"


def _web_buckets(template: dict[str, Any]) -> set[str]:
    """The buckets the stack deploys the web app into (content rebuilt by every deploy, not data)."""
    found = {logical_id(r["Properties"]["DestinationBucketName"])
             for r in resources(template, "Custom::CDKBucketDeployment").values()}
    return {lid for lid in found if lid is not None}


def test_prod_retains_the_data_and_its_credentials(assembly: Assembly) -> None:
    template = assembly.templates[stack("prod")]
    web = _web_buckets(template)
    assert web
    for type_ in ("AWS::MSK::ServerlessCluster", "AWS::SecretsManager::Secret", "AWS::S3::Bucket",
                  "AWS::RDS::DBCluster", "AWS::OpenSearchService::Domain", "AWS::Cognito::UserPool"):
        found = resources(template, type_)
        assert found, type_
        for lid, res in found.items():
            if lid in web:
                assert _policies(res) == ("Delete", "Delete"), lid
                continue
            assert _policies(res) == ("Retain", "Retain"), (type_, lid)
    emptied = {logical_id(r["Properties"]["BucketName"])
               for r in resources(template, "Custom::S3AutoDeleteObjects").values()}
    assert emptied == web  # nothing empties a prod data bucket
