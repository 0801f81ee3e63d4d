"""The user pool mails its codes (Cognito's email until a verified SES sender is configured), keeps a
verified email until a new one is verified, and audits server-side logins for threats."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from infra.config import SettingError, stage_config
from infra.declaration import Uses
from infra.identity import CognitoUsers

from .conftest import FULL_EMAIL_SENDER, Assembly
from .helpers import STAGES, resources, stack


@pytest.mark.parametrize("stage", STAGES)
def test_user_pool_confirms_by_emailed_code(assembly: Assembly, stage: str) -> None:
    (pool,) = resources(assembly.templates[stack(stage)], "AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    assert props["AutoVerifiedAttributes"] == ["email"]
    assert props["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    assert props["VerificationMessageTemplate"]["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert "{####}" in props["VerificationMessageTemplate"]["EmailMessage"]


@pytest.mark.parametrize("stage", STAGES)
def test_without_a_sender_the_pool_uses_cognitos_email(assembly: Assembly, stage: str) -> None:
    """cdk.json configures no sender: an SES identity nobody verified would make Cognito refuse the pool."""
    template = assembly.templates[stack(stage)]
    (pool,) = resources(template, "AWS::Cognito::UserPool").values()
    assert pool["Properties"]["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    # ... and the functions that use EMAIL get an empty sender (inbox only) and no SES permission.
    for lid, function in resources(template, "AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if "EMAIL_SENDER" in variables:
            assert variables["EMAIL_SENDER"] == "", lid
    assert "ses:" not in str(resources(template, "AWS::IAM::Policy"))


def _identity(sender: str) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """A user pool and an EMAIL grant for ``sender``: the pool's properties, the grant's statements, env."""
    app = App(context={"fileshare": {"defaults": {}}})
    config = stage_config(App(context=_cdk_context({"fileshare:prod:emailSender": sender})), "prod")
    scope = Stack(app, "S", env={"account": "111111111111", "region": "eu-west-1"})
    users = CognitoUsers(scope, "Identity", config=config)
    role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    env = users.grant(Uses.EMAIL, role)
    template: dict[str, Any] = dict(Template.from_stack(scope).to_json())
    assert not resources(template, "AWS::SES::EmailIdentity")  # imported, never created
    (pool,) = resources(template, "AWS::Cognito::UserPool").values()
    statements = [s for p in resources(template, "AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    return pool["Properties"], statements, env


def _render(value: Any) -> str:
    """An ARN as deployed in the aws partition (``Fn::Join`` with ``Ref AWS::Partition``)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(_render(p) for p in parts)
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    return str(value)


def _cdk_context(extra: dict[str, str]) -> dict[str, Any]:
    from infra.app import _with_cdk_json

    from .conftest import TEST_SETTINGS

    return _with_cdk_json({**TEST_SETTINGS, **extra})


def test_a_configured_sender_sends_through_its_existing_ses_identity() -> None:
    props, statements, env = _identity(FULL_EMAIL_SENDER)
    email = props["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert FULL_EMAIL_SENDER in email["From"]
    arn = "arn:aws:ses:eu-west-1:111111111111:identity/mail.fileshare-ci.dev"
    assert _render(email["SourceArn"]) == arn
    (statement,) = statements
    assert _render(statement["Resource"]) == arn
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": FULL_EMAIL_SENDER}}
    assert env == {"EMAIL_SENDER": FULL_EMAIL_SENDER}


@pytest.mark.parametrize("sender", [
    "no-reply@fileshare.example.com", "a@example.org", "a@mail.example.net", "a@fileshare.example",
    "a@fileshare.test", "a@x.invalid", "a@localhost", "a@app.localhost", "not-an-address",
])
def test_synth_refuses_a_placeholder_sender(sender: str) -> None:
    with pytest.raises(SettingError, match="emailSender") as error:
        stage_config(App(context=_cdk_context({"fileshare:dev:emailSender": sender})), "dev")
    assert "-c fileshare:dev:emailSender=" in str(error.value)


@pytest.mark.parametrize("stage", STAGES)
def test_threat_protection_audits_server_side_logins(assembly: Assembly, stage: str) -> None:
    """Every login reaches Cognito from the auth function (InitiateAuth), so full-function mode would
    judge all users by one address: prod audits, dev has no threat protection (Essentials)."""
    (pool,) = resources(assembly.templates[stack(stage)], "AWS::Cognito::UserPool").values()
    add_ons = pool["Properties"].get("UserPoolAddOns", {})
    if stage == "prod":
        assert add_ons == {"AdvancedSecurityMode": "AUDIT"}
        assert pool["Properties"]["UserPoolTier"] == "PLUS"
    else:
        assert add_ons.get("AdvancedSecurityMode", "OFF") == "OFF"
