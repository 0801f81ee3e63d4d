"""LocalStack S3 checks signatures as AWS does (``S3_SKIP_SIGNATURE_VALIDATION=0`` in
``stackctl.services.localstack_aws``, and ``localstack/s3_post_signatures.py`` for POST policies):
a presigned URL whose key was edited, or a POST whose policy was rewritten or whose signature was
made up, is refused with 403; the untouched ones are served.

A bucket of its own, without notifications: on the namespace's bucket, a running processor would
take these keys for orphan uploads and delete them."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
import requests

from fileshare.adapters.aws import client

BUCKET = "fileshare-test-signatures"


@pytest.fixture(scope="module", autouse=True)
def own_bucket() -> None:
    try:
        client("s3").head_bucket(Bucket=BUCKET)
    except client("s3").exceptions.ClientError:
        client("s3").create_bucket(Bucket=BUCKET)


def _put(key: str, body: bytes) -> None:
    client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)


def test_a_presigned_get_with_another_key_is_refused() -> None:
    owner = uuid.uuid4().hex
    mine, theirs = f"u/{owner}/mine.txt", f"u/{uuid.uuid4().hex}/theirs.txt"
    _put(mine, b"mine")
    _put(theirs, b"not yours")
    url = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": mine}, ExpiresIn=60)

    assert requests.get(url, timeout=10).content == b"mine"
    tampered = requests.get(url.replace(mine, theirs), timeout=10)
    assert tampered.status_code == 403, tampered.text
    assert "SignatureDoesNotMatch" in tampered.text
    assert b"not yours" not in tampered.content


def _post(url: str, fields: dict[str, Any], body: bytes) -> requests.Response:
    return requests.post(url, data=fields, files={"file": ("a.txt", body)}, timeout=10)


def test_a_presigned_post_with_a_forged_policy_is_refused() -> None:
    bucket, key = BUCKET, f"u/{uuid.uuid4().hex}/a.txt"
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
    assert "SignatureDoesNotMatch" in refused.text
    made_up = _post(post["url"], {**post["fields"], "x-amz-signature": "0" * 64}, b"x" * 5)
    assert made_up.status_code == 403, made_up.text

    too_big = _post(post["url"], post["fields"], b"x" * 100)
    assert too_big.status_code == 400, too_big.text  # the signed policy's content-length-range holds
    accepted = _post(post["url"], post["fields"], b"x" * 5)
    assert accepted.status_code in (200, 204), accepted.text
    assert client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"x" * 5
