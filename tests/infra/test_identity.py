"""The user pool mails its codes through SES and keeps a verified email until a new one is verified."""

from __future__ import annotations

import pytest

from .conftest import Assembly
from .helpers import STAGES, resources, stack


@pytest.mark.parametrize("stage", STAGES)
def test_user_pool_confirms_by_emailed_code_through_ses(assembly: Assembly, stage: str) -> None:
    (pool,) = resources(assembly.templates[stack(stage)], "AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    assert props["AutoVerifiedAttributes"] == ["email"]
    assert props["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    email = props["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"  # SES, not Cognito's ~50 mails a day
    assert "no-reply@" in str(email["From"]) and "SourceArn" in email
    assert props["VerificationMessageTemplate"]["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert "{####}" in props["VerificationMessageTemplate"]["EmailMessage"]


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
