"""The local IAM gate's decisions (``lambdarun.iam``) on a hand-made role: ARNs resolved to the
local names, conditions evaluated or reported, and botocore refusing before anything is sent."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdarun.iam import hooks
from lambdarun.iam.calls import list_bucket_check, sdk_checks
from lambdarun.iam.hooks import Gate, acting_as

_BUCKET_ARN = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::fileshare-dev-uploads-",
                                 {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]}
_CLUSTER_UUID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": ["Kafka", "Arn"]}]}]}
ROLES: dict[str, Any] = {
    "stage": "dev",
    "email_sender": "no-reply@mail.example.org",
    "events_topic": "fileshare.events",
    "resources": {
        "Kafka": {"Type": "AWS::MSK::ServerlessCluster", "Properties": {"ClusterName": "fileshare-dev"}},
        "Search": {"Type": "AWS::OpenSearchService::Domain", "Properties": {"DomainName": "fileshare-dev"}},
    },
    "functions": {
        "reader": [
            {"Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": [{"Fn::Join": ["", [_BUCKET_ARN, "/u/*"]]}]},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": _BUCKET_ARN,
             "Condition": {"StringLike": {"s3:prefix": ["u/*"]}}},
            {"Effect": "Allow", "Action": "kafka-cluster:WriteData",
             "Resource": {"Fn::Join": ["", ["arn:aws:kafka:", {"Ref": "AWS::Region"}, ":",
                                            {"Ref": "AWS::AccountId"}, ":topic/fileshare-dev/",
                                            _CLUSTER_UUID, "/fileshare.events"]]}},
            {"Effect": "Allow", "Action": "es:ESHttpGet",
             "Resource": "arn:aws:es:us-east-1:000000000000:domain/fileshare-dev/*"},
            {"Effect": "Allow", "Action": "ses:SendEmail",
             "Resource": "arn:aws:ses:us-east-1:000000000000:identity/mail.example.org",
             "Condition": {"StringEquals": {"ses:FromAddress": "no-reply@mail.example.org"}}},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        ],
    },
}
ENV = {"FILESHARE_LOCAL_PREFIX": "fileshare-test", "AWS_REGION": "us-east-1",
       "UPLOAD_BUCKET": "fileshare-test-uploads", "EMAIL_SENDER": "no-reply@fileshare.local",
       "EVENTS_TOPIC": "fileshare-test.events"}


def role(doc: dict[str, Any] = ROLES) -> Any:
    found = Gate(doc, ENV).role("reader")
    assert found is not None
    return found


def test_arns_resolve_to_the_local_names() -> None:
    reader = role()
    assert reader.decide("s3:GetObject", "arn:aws:s3:::fileshare-test-uploads/u/a/b").allowed
    assert not reader.decide("s3:GetObject", "arn:aws:s3:::fileshare-test-uploads/a/zip").allowed
    cloud_name = "arn:aws:s3:::fileshare-dev-uploads-000000000000-us-east-1/u/x"
    assert not reader.decide("s3:GetObject", cloud_name).allowed
    topic = "arn:aws:kafka:us-east-1:000000000000:topic/fileshare-dev/local/fileshare-test.events"
    assert reader.decide("kafka-cluster:WriteData", topic).allowed
    assert not reader.decide("kafka-cluster:WriteData", topic.replace("test.events", "test.other")).allowed
    domain = "arn:aws:es:us-east-1:000000000000:domain/local"
    assert reader.decide("es:ESHttpGet", f"{domain}/files/_doc/1").allowed
    assert not reader.decide("es:ESHttpPut", f"{domain}/files").allowed


def test_list_bucket_holds_only_under_its_prefix_condition() -> None:
    reader = role()
    inside, outside = list_bucket_check("fileshare-test-uploads", "u/a/b"), list_bucket_check(
        "fileshare-test-uploads", "a/zip")
    assert reader.decide(inside.action, inside.resource, inside.context, inside.modelled).allowed
    assert not reader.decide(outside.action, outside.resource, outside.context, outside.modelled).allowed


def test_the_sender_condition_is_the_local_sender() -> None:
    reader = role()
    (mine,) = sdk_checks("ses", "SendEmail", {"Source": "no-reply@fileshare.local"}, "us-east-1")
    (other,) = sdk_checks("ses", "SendEmail", {"Source": "ceo@fileshare.local"}, "us-east-1")
    assert reader.decide(mine.action, mine.resource, mine.context, mine.modelled).allowed
    assert not reader.decide(other.action, other.resource, other.context, other.modelled).allowed


def test_a_condition_that_cannot_be_evaluated_is_reported_never_allowed() -> None:
    decision = role().decide("s3:PutObject", "arn:aws:s3:::fileshare-test-uploads/u/a")
    assert not decision.allowed
    assert decision.unevaluable and "aws:SourceIp" in decision.unevaluable[0]
    assert "could not be evaluated" in decision.reason


def test_an_explicit_deny_wins() -> None:
    doc = copy.deepcopy(ROLES)
    doc["functions"]["reader"].append({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    assert not role(doc).decide("s3:GetObject", "arn:aws:s3:::fileshare-test-uploads/u/a").allowed


@pytest.fixture
def s3_as_reader() -> Iterator[Any]:
    """A client that can reach nothing: a refused call must fail before it is sent."""
    previous = hooks.installed()
    hooks.install(Gate(ROLES, ENV))
    client = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test").client(
        "s3", endpoint_url="http://127.0.0.1:9", config=Config(
            region_name="us-east-1", s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
            connect_timeout=0.5))
    with acting_as("reader"):
        yield client
    if previous is not None:
        hooks.install(previous)


def test_botocore_refuses_as_s3_does(s3_as_reader: Any) -> None:
    with pytest.raises(ClientError) as refused:
        s3_as_reader.delete_object(Bucket="fileshare-test-uploads", Key="u/a/b")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "s3:DeleteObject" in refused.value.response["Error"]["Message"]


def test_delete_objects_answers_per_key_access_denied(s3_as_reader: Any) -> None:
    answer = s3_as_reader.delete_objects(Bucket="fileshare-test-uploads",
                                         Delete={"Objects": [{"Key": "u/a/1"}, {"Key": "u/a/2"}]})
    assert [e["Code"] for e in answer["Errors"]] == ["AccessDenied", "AccessDenied"]
    assert answer["Deleted"] == []


def test_a_presigned_url_is_checked_when_it_is_signed(s3_as_reader: Any) -> None:
    url = s3_as_reader.generate_presigned_url(
        "get_object", Params={"Bucket": "fileshare-test-uploads", "Key": "u/a/b"})
    assert "u/a/b" in url
    with pytest.raises(ClientError):
        s3_as_reader.generate_presigned_url("put_object", Params={"Bucket": "fileshare-test-uploads",
                                                                   "Key": "u/a/b"})
    with pytest.raises(ClientError):
        s3_as_reader.generate_presigned_post("fileshare-test-uploads", "u/a/b")


def test_a_stage_without_a_sender_leaves_every_name_alone() -> None:
    """No emailSender (Cognito's own email, no SES grant): nothing is renamed after the sender."""
    doc = {**copy.deepcopy(ROLES), "email_sender": ""}
    reader = role(doc)
    assert reader.decide("s3:GetObject", "arn:aws:s3:::fileshare-test-uploads/u/a/b").allowed
    (send,) = sdk_checks("ses", "SendEmail", {"Source": "no-reply@fileshare.local"}, "us-east-1")
    assert not reader.decide(send.action, send.resource, send.context, send.modelled).allowed
