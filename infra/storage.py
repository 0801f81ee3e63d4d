"""The upload bucket and the queues fed by it: S3 ObjectCreated (under ``u/``) -> SQS (+ DLQ).

The bucket's notification configuration is set on the bucket itself (no Lambda-backed custom
resource); the queue policy is written against the bucket's known name, so there is no cycle.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.config import StageConfig
from infra.declaration import UPLOAD_QUEUE, Uses

UPLOAD_PREFIX = "u/"  # originals: u/<owner>/<file_id>/<name>
DERIVED_PREFIX = "t/"  # thumbnails; outside u/ so they never retrigger processing
ARCHIVE_PREFIX = "a/"  # ZIP archives of many files (fileshare.archives.jobs); outside u/ like t/
ARCHIVE_EXPIRY_DAYS = 2  # backstop: the sweeper deletes an archive after ARCHIVE_TTL_SECONDS (1 day)
OBJECT_PREFIXES = (UPLOAD_PREFIX, DERIVED_PREFIX)
BUCKET_ACTIONS = {
    Uses.BUCKET_READ: ("s3:GetObject",),
    Uses.BUCKET_WRITE: ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
    Uses.BUCKET_DELETE: ("s3:DeleteObject", "s3:AbortMultipartUpload"),  # an unfinished upload too
    Uses.ARCHIVE_OBJECTS: ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"),
}
#: The prefixes each bucket use grants its actions on (archives only under a/, nothing else there).
USE_PREFIXES: dict[Uses, tuple[str, ...]] = {Uses.ARCHIVE_OBJECTS: (ARCHIVE_PREFIX,)}


#: The uses that read objects, and so get s3:ListBucket on their prefixes (a missing key is a 404).
LISTING_USES = frozenset({Uses.BUCKET_READ, Uses.ARCHIVE_OBJECTS})
MAX_RECEIVE_COUNT = 5


def use_prefixes(use: Uses) -> tuple[str, ...]:
    return USE_PREFIXES.get(use, OBJECT_PREFIXES)


class QueueWithDlq(Construct):
    """A consumer queue with SSE, TLS-only policy and a redrive DLQ (14 days retention)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, visibility_timeout: Duration
    ) -> None:
        super().__init__(scope, construct_id)
        self.dlq = sqs.Queue(
            self,
            "Dlq",
            queue_name=f"{name}-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        nag.ack(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the queue next to it.",
        )
        nag.skip_sqs_kms(self.dlq)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=visibility_timeout,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT),
        )
        nag.skip_sqs_kms(self.queue)


class Storage(Construct):
    """Upload bucket (+ its access-log bucket) and one queue per SQS trigger in the declaration."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        queues: Iterable[tuple[str, Duration]],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.queues: dict[str, QueueWithDlq] = {
            logical: QueueWithDlq(
                self, f"Queue-{logical}", name=f"{config.prefix}-{logical}", visibility_timeout=timeout
            )
            for logical, timeout in queues
        }

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(max(config.logRetentionDays, 30)))],
            removal_policy=config.removal_policy,
            auto_delete_objects=not config.retainData,  # a bucket with objects cannot be deleted
        )
        nag.ack(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the server access log bucket of the upload bucket; logging it into itself would loop.",
        )
        nag.skip_checkov(
            self.access_logs,
            "CKV_AWS_18",
            "This is the server access log bucket of the upload bucket; logging it into itself would loop.",
        )
        nag.skip_checkov(
            self.access_logs,
            "CKV_AWS_21",
            "Access logs are written once by S3's logging service and expire by lifecycle; versions would "
            "only keep expired log objects around.",
        )

        self.bucket_name = f"{config.prefix}-uploads-{stack.account}-{stack.region}"
        self.bucket = s3.Bucket(
            self,
            "Uploads",
            bucket_name=self.bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="uploads/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart", abort_incomplete_multipart_upload_after=Duration.days(1)
                ),
                s3.LifecycleRule(
                    id="expire-archives", prefix=ARCHIVE_PREFIX, expiration=Duration.days(ARCHIVE_EXPIRY_DAYS)
                ),
            ],
            removal_policy=config.removal_policy,
            # dev deletes cleanly: CDK's custom resource empties the bucket before CloudFormation
            # deletes it; prod keeps bucket and objects.
            auto_delete_objects=not config.retainData,
        )
        nag.skip_checkov(
            self.bucket,
            "CKV_AWS_21",
            "Unversioned on purpose: keys are server-chosen and written once per upload, and a user's "
            "delete or purge must remove the bytes for good (no noncurrent versions left behind).",
        )
        self.bucket_arn = stack.format_arn(service="s3", region="", account="", resource=self.bucket_name)

        upload = self.queues.get(UPLOAD_QUEUE)
        if upload is not None:
            self._notify(upload.queue)

    def allow_web_origin(self, origin: str) -> None:
        """The browser uploads and downloads from ``origin`` (the web origin, ``infra/hosting.py``):
        presigned POST/PUT/GET cross-origin, exposing ETag (multipart) and Location."""
        self.bucket.add_cors_rule(
            allowed_origins=[origin],
            allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.PUT, s3.HttpMethods.GET,
                             s3.HttpMethods.HEAD],
            allowed_headers=["*"],
            exposed_headers=["ETag", "Location"],
            max_age=3000,
        )

    def grant(self, use: Uses, role: iam.Role) -> dict[str, str]:
        """Grant ``role`` the object actions of ``use`` on the object prefixes; returns the variables
        the function gets (``infra.declaration.RESOURCES`` lists them)."""
        if use not in BUCKET_ACTIONS:
            raise ValueError(f"the bucket does not grant {use!r}")
        prefixes = use_prefixes(use)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(BUCKET_ACTIONS[use]),
                resources=[f"{self.bucket_arn}/{prefix}*" for prefix in prefixes],
            )
        )
        if use in LISTING_USES:
            # Without s3:ListBucket S3 answers 403 AccessDenied for a missing key, and "object gone"
            # must be a 404. Listing is limited to the prefixes the use already reads. Not yet seen
            # in an AWS account: AWS documents the 404 for an unconditioned ListBucket; if a missing
            # key still answers 403 with the s3:prefix condition, that condition is what to revisit.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[self.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
                )
            )
        return {"UPLOAD_BUCKET": self.bucket_name}

    def _notify(self, queue: sqs.Queue) -> None:
        """ObjectCreated under u/ -> ``queue``; the policy lets only this bucket in this account send."""
        stack = Stack.of(self)
        queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3ObjectCreated",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": self.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    queue=queue.queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=UPLOAD_PREFIX)]
                        )
                    ),
                )
            ]
        )
        policy = queue.node.find_child("Policy")  # S3 checks the destination's policy at bucket creation
        cfn_bucket.node.add_dependency(policy)


def skip_auto_delete_checks(stack: Stack) -> None:
    """checkov's function checks do not apply to CDK's own auto-delete-objects handler (one per stack,
    called by CloudFormation only when the stage is torn down). Called once, by ``Hosting``: its web
    bucket empties itself in every stage, so the handler always exists (the dev data buckets share it)."""
    handler = stack.node.find_child("Custom::S3AutoDeleteObjectsCustomResourceProvider").node.find_child(
        "Handler")
    reasons = {
        "CKV_AWS_115": "CDK's auto-delete-objects handler runs only while CloudFormation deletes a bucket "
                       "it empties; reserving concurrency for it would take capacity from the functions.",
        "CKV_AWS_116": "CDK's auto-delete-objects handler is invoked synchronously by CloudFormation "
                       "(a custom resource), which reports its failure; a DLQ would never receive one.",
        "CKV_AWS_117": "CDK's auto-delete-objects handler calls only the S3 API and CloudFormation's "
                       "presigned response URL; the isolated VPC has no route to the latter.",
        "CKV_AWS_173": "CDK's auto-delete-objects handler has no environment variables to encrypt.",
    }
    for check, reason in reasons.items():
        nag.skip_checkov(handler, check, reason)
