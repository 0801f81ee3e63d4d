"""CloudFormation custom resource: create the Kafka topics on MSK Serverless (IAM auth).

Properties: ``ClusterArn``, ``Topics`` (list of ``{"Name", "Partitions"}``). Returns the IAM bootstrap
string as ``BootstrapServers``. Topics are never deleted (they hold events); Delete is a no-op.
Runs in the VPC; the response goes to CloudFormation's presigned S3 URL through the S3 gateway.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

import boto3
from kafka.admin import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def _respond(
    event: dict[str, Any], context: Any, status: str, data: dict[str, str], reason: str = ""
) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"see CloudWatch log stream {context.log_stream_name}",
            "PhysicalResourceId": event.get("PhysicalResourceId")
            or f"kafka-topics-{event['LogicalResourceId']}",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's presigned https URL
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"content-type": "", "content-length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        logger.info("CloudFormation response: %s", response.status)


def iam_admin_client(bootstrap: str) -> KafkaAdminClient:
    """An admin client for MSK Serverless: SASL_SSL with AWS_MSK_IAM (the function's role)."""
    return KafkaAdminClient(
        bootstrap_servers=bootstrap.split(","),
        security_protocol="SASL_SSL",
        sasl_mechanism="AWS_MSK_IAM",
        client_id="fileshare-topics",
        request_timeout_ms=30000,
    )


def create_topics(admin: KafkaAdminClient, topics: list[dict[str, Any]]) -> list[str]:
    """Create the missing topics; existing ones are left as they are. Returns the names created."""
    created = []
    for topic in topics:
        try:
            # replication_factor stays -1 (broker default): MSK Serverless fixes it and rejects others.
            admin.create_topics({topic["Name"]: {"num_partitions": int(topic["Partitions"])}})
            created.append(topic["Name"])
        except TopicAlreadyExistsError:
            logger.info("topic %s already exists", topic["Name"])
    return created


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    request_type = event["RequestType"]
    properties = event["ResourceProperties"]
    logger.info("%s %s", request_type, event["LogicalResourceId"])
    try:
        brokers = boto3.client("kafka").get_bootstrap_brokers(ClusterArn=properties["ClusterArn"])
        bootstrap = brokers["BootstrapBrokerStringSaslIam"]
        if request_type in ("Create", "Update"):
            admin = iam_admin_client(bootstrap)
            try:
                logger.info("created topics %s", create_topics(admin, properties["Topics"]))
            finally:
                admin.close()
        _respond(event, context, "SUCCESS", {"BootstrapServers": bootstrap})
    except Exception as error:
        logger.exception("kafka topics custom resource failed")
        if request_type == "Delete":  # never block stack deletion on a topic housekeeping error
            _respond(event, context, "SUCCESS", {})
        else:
            _respond(event, context, "FAILED", {}, reason=f"{type(error).__name__}: {error}"[:900])
