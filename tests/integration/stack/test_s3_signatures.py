"""LocalStack S3 checks signatures as AWS does (``S3_SKIP_SIGNATURE_VALIDATION=0`` in
``stackctl.services.localstack_aws``): a presigned URL whose key was edited, or a POST whose policy
was rewritten without its signature, is refused with 403; the untouched ones are served."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import requests

from fileshare.aws import client
from fileshare.config import settings


def _put(key: str, body: bytes) -> None:
    client("s3").put_object(Bucket=settings().upload_bucket, Key=key, Body=body)


def test_a_presigned_get_with_another_key_is_refused() -> None:
    owner = uuid.uuid4().hex
    mine, theirs = f"u/{owner}/mine.txt", f"u/{uuid.uuid4().hex}/theirs.txt"
    _put(mine, b"mine")
    _put(theirs, b"not yours")
    url = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": settings().upload_bucket, "Key": mine}, ExpiresIn=60)

    assert requests.get(url, timeout=10).content == b"mine"
    tampered = requests.get(url.replace(mine, theirs), timeout=10)
    assert tampered.status_code == 403, tampered.text
    assert "SignatureDoesNotMatch" in tampered.text
    assert b"not yours" not in tampered.content


def _post(url: str, fields: dict[str, Any], body: bytes) -> requests.Response:
    return requests.post(url, data=fields, files={"file": ("a.txt", body)}, timeout=10)


def test_a_presigned_post_with_a_forged_policy_is_refused() -> None:
    bucket, key = settings().upload_bucket, f"u/{uuid.uuid4().hex}/a.txt"
    post = client("s3").generate_presigned_post(
        bucket, key, Conditions=[["content-length-range", 1, 10]], ExpiresIn=60)

    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, list)
                                                                     and c[0] == "content-length-range")]
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, dict) and "key" in c)]
    forged = {**post["fields"], "key": f"u/{uuid.uuid4().hex}/elsewhere.txt",
              "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    refused = _post(post["url"], forged, b"x" * 100)
    assert refused.status_code == 403, refused.text
    assert "SignatureDoesNotMatch" in refused.text or "AccessDenied" in refused.text

    too_big = _post(post["url"], post["fields"], b"x" * 100)
    assert too_big.status_code == 400, too_big.text  # the signed policy's content-length-range holds
    accepted = _post(post["url"], post["fields"], b"x" * 5)
    assert accepted.status_code in (200, 204), accepted.text
    assert client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"x" * 5
