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
