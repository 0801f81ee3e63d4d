"""cdk-nag (3.x) wiring: the AwsSolutions pack as a CDK validation plugin, and acknowledgments.

Every acknowledgment goes through :func:`ack`, which requires a specific reason; CDK records them
in the cloud assembly, from which ``python -m infra.report`` and the tests list them all.
Acknowledgment ids are ``<plugin>::<rule>`` as the validation report prints them.

checkov (run by ``make synth`` on the synthesized templates, see ``infra/gates.py``) reads its skips
from each resource's ``Metadata.checkov.skip``; :func:`skip_checkov` declares one next to the resource,
with a reason of the same length rule.
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, CfnResource, Stack, Stage, Validations
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

MIN_REASON_LENGTH = 40
PLUGIN = "AwsSolutions"  # the validation plugin's name: acknowledgment ids are "<plugin>::<rule>"
CHECKOV_METADATA = "checkov"
CHECKOV_ID = re.compile(r"^CKV2?_AWS_\d+$")


def add_checks(scope: Stage) -> None:
    """Run the AwsSolutions pack during synthesis; any unacknowledged finding fails ``app.synth()``."""
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope, verbose=True))


def ack(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (``AwsSolutions-IAM5[Resource::*]`` style ids) on ``scope``."""
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledgment of {rule} needs a specific reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PLUGIN}::{rule}", reason=reason))


def skip_checkov(scope: IConstruct, check: str, reason: str) -> None:
    """Skip one checkov check on ``scope`` (a CfnResource, or an L2 construct: its default child).

    Adds ``{"id": check, "comment": reason}`` to the resource's ``Metadata.checkov.skip`` list, which
    checkov honours and reports as skipped with the comment.
    """
    if not CHECKOV_ID.match(check):
        raise ValueError(f"{check!r} is not a checkov AWS check id (CKV_AWS_<n> or CKV2_AWS_<n>)")
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(f"checkov skip of {check} needs a specific reason, got {reason!r}")
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path}: no CloudFormation resource to attach a checkov skip to")
    current = resource.get_metadata(CHECKOV_METADATA) or {}
    skips = [s for s in current.get("skip", []) if s["id"] != check]
    resource.add_metadata(CHECKOV_METADATA, {"skip": [*skips, {"id": check, "comment": reason}]})


def ack_runtime(function: lambda_.Function) -> None:
    ack(
        function,
        "AwsSolutions-L1",
        "Pinned to python3.13 on purpose: the dependency layer's wheels are built for cp313 and the "
        "local runtime and CI run 3.13; moving to a newer runtime is a deliberate, tested change.",
    )


def resolved(value: str, scope: IConstruct) -> str:
    """A token string as cdk-nag prints it in finding ids (``<AWS::AccountId>``, ``<Logical.Arn>``)."""
    return _render(Stack.of(scope).resolve(value))


def _render(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return f"<{arg}>"
        if key == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if key == "Fn::Join":
            separator, parts = arg
            return str(separator).join(_render(part) for part in parts)
    raise ValueError(f"cannot render {value!r} the way cdk-nag does")


# --- checkov skips shared by many resources of one kind (each call site is next to its resource) ---------
LOG_GROUP_KMS = (
    "CloudWatch Logs encrypts every log group at rest with its service key; the logs carry no secrets "
    "or tokens (Powertools logger, events not logged), so a customer-managed key per group adds cost "
    "and key-policy coupling without protecting more."
)
SQS_MANAGED_SSE = (
    "Encrypted at rest with SQS-managed SSE (SqsManagedSseEnabled); checkov only recognises a KMS key, "
    "which every producer (S3 notifications, Lambda destinations, Scheduler) would also need grants on."
)
UNCONSTRAINED_WRITE = (
    "The only writes on '*' are actions without resource-level permissions: X-Ray PutTraceSegments/"
    "PutTelemetryRecords and, in the VPC, the EC2 network-interface actions Lambda needs; every data "
    "action is scoped to its resource."
)
NO_RESERVED_CONCURRENCY = (
    "No reserved concurrency: reserving per function carves the regional pool (a new account has 10 "
    "unreserved), capping the API under load; the stage throttle, WAF rate limit and event-source "
    "pollers bound concurrency instead."
)
ENV_WITHOUT_SECRETS = (
    "The environment holds endpoints, names and the database secret's ARN, never a secret value (the "
    "password is read from Secrets Manager at run time), so Lambda's AWS-managed key suffices."
)


def skip_log_group_kms(log_group: IConstruct) -> None:
    skip_checkov(log_group, "CKV_AWS_158", LOG_GROUP_KMS)


def skip_sqs_kms(queue: IConstruct) -> None:
    skip_checkov(queue, "CKV_AWS_27", SQS_MANAGED_SSE)


def skip_function_checks(function: IConstruct, failures: str) -> None:
    """The checkov skips every function of ours shares; ``failures`` says where its failures go
    (instead of a function-level dead-letter queue, which only applies to asynchronous invocations)."""
    skip_checkov(function, "CKV_AWS_115", NO_RESERVED_CONCURRENCY)
    skip_checkov(function, "CKV_AWS_116", failures)
    skip_checkov(function, "CKV_AWS_173", ENV_WITHOUT_SECRETS)
