"""What IAM checks for one call: the action(s), the resource ARN and the condition keys.

The names follow the Service Authorization Reference: an S3 ``HeadObject`` is ``s3:GetObject`` on the
object, a multipart part is ``s3:PutObject``, ``ListParts`` is ``s3:ListMultipartUploadParts``, a
listing is ``s3:ListBucket`` on the bucket with ``s3:prefix``; an OpenSearch request is
``es:ESHttp<Method>`` on the domain's path; Kafka actions are ``kafka-cluster:*`` on the cluster, a
topic or a group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdarun.iam.policy import ACCOUNT_ID, LOCAL_CLUSTER_ID, LOCAL_SOCKET_API_ID


@dataclass(frozen=True)
class Check:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)
    modelled: frozenset[str] = frozenset()  # condition keys this call would carry


_S3_OBJECT = {
    "GetObject": ("s3:GetObject",), "HeadObject": ("s3:GetObject",),
    "PutObject": ("s3:PutObject",), "CreateMultipartUpload": ("s3:PutObject",),
    "UploadPart": ("s3:PutObject",), "CompleteMultipartUpload": ("s3:PutObject",),
    "CopyObject": ("s3:PutObject",), "UploadPartCopy": ("s3:PutObject",),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload",),
    "ListParts": ("s3:ListMultipartUploadParts",),
    "DeleteObject": ("s3:DeleteObject",),
    "GetObjectAttributes": ("s3:GetObject", "s3:GetObjectAttributes"),
    "GetObjectTagging": ("s3:GetObjectTagging",), "PutObjectTagging": ("s3:PutObjectTagging",),
}
_S3_BUCKET = {
    "ListObjects": "s3:ListBucket", "ListObjectsV2": "s3:ListBucket", "HeadBucket": "s3:ListBucket",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}
#: Cognito user-pool APIs that are not IAM-authorized (a client id, a token or a code authorizes them).
COGNITO_PUBLIC = frozenset({
    "SignUp", "ConfirmSignUp", "ResendConfirmationCode", "InitiateAuth", "RespondToAuthChallenge",
    "ForgotPassword", "ConfirmForgotPassword", "GetUser", "GlobalSignOut", "RevokeToken",
    "ChangePassword", "UpdateUserAttributes", "VerifyUserAttribute", "DeleteUser",
    "GetUserAttributeVerificationCode", "AssociateSoftwareToken", "VerifySoftwareToken",
})
S3_PREFIX_KEY = "s3:prefix"


def s3_object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def s3_checks(operation: str, params: Mapping[str, Any]) -> list[Check]:
    """The checks of one S3 operation (``DeleteObjects`` is checked key by key by the caller)."""
    bucket = str(params.get("Bucket", ""))
    if operation in _S3_OBJECT:
        checks = [Check(a, s3_object_arn(bucket, str(params.get("Key", "")))) for a in _S3_OBJECT[operation]]
        source = params.get("CopySource")
        if source:
            if isinstance(source, Mapping):
                src_bucket, src_key = str(source["Bucket"]), str(source["Key"])
            else:
                src_bucket, _, src_key = str(source).lstrip("/").partition("/")
            checks.append(Check("s3:GetObject", s3_object_arn(src_bucket, src_key.split("?")[0])))
        return checks
    if operation in _S3_BUCKET:
        return [list_bucket_check(bucket, str(params.get("Prefix", "")))]
    return [Check(f"s3:{operation}", f"arn:aws:s3:::{bucket}")]


def list_bucket_check(bucket: str, prefix: str) -> Check:
    """``s3:ListBucket`` on the bucket for ``prefix``: a listing's, or, for a missing key, the key
    itself (what S3 checks before answering 404 rather than 403)."""
    return Check("s3:ListBucket", f"arn:aws:s3:::{bucket}", {S3_PREFIX_KEY: prefix},
                 frozenset({S3_PREFIX_KEY}))


def sdk_checks(service: str, operation: str, params: Mapping[str, Any], region: str) -> list[Check]:
    """Checks for a botocore call (``service`` is the signing name: s3, ses, cognito-idp...)."""
    if service == "s3":
        return s3_checks(operation, params)
    if service == "ses":
        source = str(params.get("Source") or params.get("FromEmailAddress") or "")
        domain = source.rsplit("@", 1)[-1].rstrip(">")
        return [Check(f"ses:{operation}", f"arn:aws:ses:{region}:{ACCOUNT_ID}:identity/{domain}",
                      {"ses:FromAddress": source.split("<")[-1].rstrip(">")} if source else {},
                      frozenset({"ses:FromAddress"}))]
    if service == "cognito-idp":
        if operation in COGNITO_PUBLIC:
            return []
        pool = str(params.get("UserPoolId", "*"))
        return [Check(f"cognito-idp:{operation}",
                      f"arn:aws:cognito-idp:{region}:{ACCOUNT_ID}:userpool/{pool}")]
    if service == "secretsmanager":
        return [Check(f"secretsmanager:{operation}", str(params.get("SecretId", "*")))]
    if service == "sqs":
        queue = queue_name(str(params.get("QueueUrl", ""))) or str(params.get("QueueName", "*"))
        return [Check(f"sqs:{operation}", f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue}")]
    if service == "execute-api":  # the WebSocket API's @connections (apigatewaymanagementapi)
        return [connections_check(operation, str(params.get("ConnectionId", "")), region)]
    if service == "sts" and operation == "GetCallerIdentity":
        return []  # needs no permission
    return [Check(f"{service}:{operation}", "*")]


#: @connections operations -> the HTTP method in their ARN (all are execute-api:ManageConnections).
_CONNECTIONS_METHOD = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}


def connections_check(operation: str, connection_id: str, region: str) -> Check:
    """``execute-api:ManageConnections`` on ``<api>/<stage>/<METHOD>/@connections/<id>``: the local
    WebSocket API's id is ``local`` and its stage the declaration's (``SOCKET_API``)."""
    from infra.declaration import SOCKET_API

    method = _CONNECTIONS_METHOD.get(operation, "*")
    return Check("execute-api:ManageConnections",
                 f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{LOCAL_SOCKET_API_ID}/{SOCKET_API.stage}/{method}"
                 f"/@connections/{connection_id}")


def queue_name(url: str) -> str:
    """An SQS queue's name from its URL (its last path segment); "" for no URL."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def opensearch_check(method: str, path: str, region: str) -> Check:
    """``es:ESHttp<Method>`` on the domain's path (the domain is ``local``)."""
    tail = "/" + path.strip("/") if path.strip("/") else ""
    return Check(f"es:ESHttp{method.capitalize()}", f"arn:aws:es:{region}:{ACCOUNT_ID}:domain/local{tail}")


def kafka_arn(kind: str, cluster_name: str, region: str, name: str = "") -> str:
    """A cluster, topic or group ARN of the local MSK stand-in, as the resolver writes them."""
    base = f"arn:aws:kafka:{region}:{ACCOUNT_ID}:{kind}/{cluster_name}/{LOCAL_CLUSTER_ID}"
    return f"{base}/{name}" if name else base
