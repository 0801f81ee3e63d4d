"""cdk-nag (3.x) wiring: the AwsSolutions pack as a CDK validation plugin, and acknowledgments.

Every acknowledgment goes through :func:`ack`, which requires a specific reason; CDK records them
in the cloud assembly, from which ``python -m infra.report`` and the tests list them all.
Acknowledgment ids are ``<plugin>::<rule>`` as the validation report prints them.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Stage, Validations
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

MIN_REASON_LENGTH = 40
PLUGIN = "AwsSolutions"  # the validation plugin's name: acknowledgment ids are "<plugin>::<rule>"


def add_checks(scope: Stage) -> None:
    """Run the AwsSolutions pack during synthesis; any unacknowledged finding fails ``app.synth()``."""
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope, verbose=True))


def ack(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (``AwsSolutions-IAM5[Resource::*]`` style ids) on ``scope``."""
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledgment of {rule} needs a specific reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PLUGIN}::{rule}", reason=reason))


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
