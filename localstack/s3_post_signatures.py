"""SigV4 signatures of presigned POSTs, checked in LocalStack S3 as AWS checks them.

LocalStack 4.14 validates presigned URLs (``S3_SKIP_SIGNATURE_VALIDATION=0``) and a POST policy's
conditions and expiry, but not the POST's signature ("TODO: validate the signature" in its
``validate_post_policy``): a policy rewritten without its conditions, or a signature made up, was
accepted. AWS signs the base64 policy itself: the signature is HMAC-SHA256 of the ``policy`` field
with the SigV4 signing key of the credential's date, region and service. This wraps LocalStack's
check with that one, using the secret LocalStack's own presigned-URL validation assumes (``test``).
Loaded by ``aws_state.py`` before the gateway serves.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

# What every local client signs with; LocalStack validates only this one. Not a secret.
SECRET_ACCESS_KEY = "test"  # noqa: S105


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def expected_signature(policy_b64: str, credential: str, secret: str = SECRET_ACCESS_KEY) -> str:
    """The SigV4 POST signature of ``policy_b64`` for ``credential``
    (``AKID/date/region/service/aws4_request``)."""
    _, date, region, service, _terminal = credential.split("/")
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    return hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()


def check(form: Any) -> None:
    """Refuse a SigV4 POST whose signature is not the policy's (SignatureDoesNotMatch, 403)."""
    fields = {str(k).lower(): v for k, v in form.items()}
    policy, signature, credential = (fields.get("policy"), fields.get("x-amz-signature"),
                                     fields.get("x-amz-credential"))
    if not policy or not signature or not credential:
        return  # no policy (a public bucket) or SigV2: LocalStack's own check decides
    try:
        wanted = expected_signature(str(policy), str(credential))
    except ValueError:
        wanted = ""
    if not hmac.compare_digest(wanted, str(signature)):
        from localstack.aws.api.s3 import SignatureDoesNotMatch

        raise SignatureDoesNotMatch(
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.")


def install() -> None:
    """Wrap the provider's ``validate_post_policy`` (unless signatures are skipped by setting)."""
    if os.environ.get("S3_SKIP_SIGNATURE_VALIDATION", "1") not in ("0", "false"):
        return
    from localstack.services.s3 import provider

    original = provider.validate_post_policy

    def validate_post_policy(request_form: Any, additional_policy_metadata: dict[str, Any]) -> None:
        check(request_form)
        original(request_form, additional_policy_metadata)

    provider.validate_post_policy = validate_post_policy
