"""The web origin: a private S3 bucket (origin access control) behind CloudFront, holding ``web/`` and a
``/config.json`` written at deploy time from the stack's own values; the API's routes and ``/s/*``
go to the REST API on the same origin. One response headers policy (``infra/web_headers.py``, the same
headers the local gateway sends) covers every behavior.

The API behaviors come from the declaration (``api_path_patterns``): one per route prefix, so a new
route is routed by CloudFront without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import nag, web_headers
from infra.config import StageConfig
from infra.declaration import REPO_ROOT, Route
from infra.storage import skip_auto_delete_checks

WEB_DIR = REPO_ROOT / "web"
WEB_BUNDLE = WEB_DIR / "dist" / "app.js"
# What of web/ is not served: sources (bundled into dist/), npm's files.
WEB_EXCLUDE = ["node_modules", "src", "package.json", "package-lock.json"]
MAX_BEHAVIORS = 25  # CloudFront's default quota of cache behaviors per distribution
BUCKET_DEPLOYMENT_HANDLER = "Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C"  # CDK's fixed id


def api_path_patterns(routes: Iterable[Route]) -> list[str]:
    """CloudFront path patterns covering every declared route, one or two per first path segment:
    ``/files`` for the route ``/files`` itself and ``/files/*`` for those below it. Exact patterns, not
    ``/files*``: ``/s*`` would also take ``/style.css``."""
    patterns: set[str] = set()
    for route in routes:
        segments = route.path.strip("/").split("/")
        if not segments[0] or segments[0].startswith("{"):
            raise ValueError(f"{route.path}: CloudFront routes by a literal first segment; this has none")
        patterns.add(f"/{segments[0]}" if len(segments) == 1 else f"/{segments[0]}/*")
    return sorted(patterns)


class Hosting(Construct):
    """The distribution, its web bucket and the deployment of ``web/`` and ``/config.json``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        api: apigw.RestApi,
        routes: Iterable[Route],
        upload_bucket_name: str,
        user_pool_id: str,
        user_pool_client_id: str,
        access_logs: s3.IBucket,
        bundle: bool,
        web_dir: Path = WEB_DIR,
        socket_url: str = "",
    ) -> None:
        """``socket_url``: the push WebSocket API's stage URL (``wss://...``; the page's config and CSP)."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        if bool(config.domainName) != bool(config.certificateArn):
            raise ValueError(f"stage {config.stage!r}: domainName and certificateArn go together "
                             "(the certificate must be in us-east-1 and cover the domain)")
        if bundle and not (web_dir / "dist" / "app.js").is_file():
            raise FileNotFoundError(f"{web_dir / 'dist' / 'app.js'} is missing: `make web` before a synth")

        self.bucket = s3.Bucket(
            self,
            "Web",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="web/",
            # Rebuilt from the repository by every deploy, in both stages: emptied and deleted with
            # the stack (a non-empty bucket would fail the stack's deletion).
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        skip_auto_delete_checks(Stack.of(self))
        nag.skip_checkov(
            self.bucket,
            "CKV_AWS_21",
            "Unversioned on purpose: the bucket only holds the build of web/ and config.json, both "
            "rewritten from the repository and the stack by every deploy.",
        )

        s3_origin = web_headers.s3_regional_origin(upload_bucket_name, stack.region)
        headers = web_headers.security_headers(s3_origin, socket_url)
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            response_headers_policy_name=f"{config.prefix}-web",
            comment="Fileshare: CSP, HSTS, nosniff, frame and referrer policy (infra/web_headers.py)",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=headers["Content-Security-Policy"], override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption[web_headers.FRAME_OPTIONS], override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(web_headers.HSTS_MAX_AGE_S),
                    include_subdomains=True,
                    override=True,
                ),
            ),
        )

        api_origin = origins.RestApiOrigin(api)  # the stage is the origin path: no /v1 in the URL
        api_behavior = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers_policy,
            compress=True,
        )
        self.api_patterns = api_path_patterns(routes)
        if len(self.api_patterns) + 1 > MAX_BEHAVIORS:
            raise ValueError(f"{len(self.api_patterns)} API path patterns exceed CloudFront's "
                             f"{MAX_BEHAVIORS} behaviors per distribution")

        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", config.certificateArn)
            if config.domainName
            else None
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Fileshare ({config.stage}): web app, API and public links on one origin",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                compress=True,
            ),
            additional_behaviors={pattern: api_behavior for pattern in self.api_patterns},
            domain_names=[config.domainName] if config.domainName else None,
            certificate=certificate,
            # with the default *.cloudfront.net certificate CloudFront fixes the policy (CDK warns)
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        self.domain_name = config.domainName or self.distribution.distribution_domain_name
        self.origin = f"https://{self.domain_name}"
        self._acknowledge(config)

        self.page_config = web_headers.page_config(
            region=stack.region,
            user_pool_id=user_pool_id,
            user_pool_client_id=user_pool_client_id,
            public_base_url=self.origin,
            socket=socket_url,
        )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[
                s3deploy.Source.asset(str(web_dir), exclude=WEB_EXCLUDE),
                s3deploy.Source.json_data(web_headers.CONFIG_PATH.lstrip("/"), self.page_config),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,  # invalidated after each deploy: index.html and config.json
            distribution_paths=["/*"],
            retain_on_delete=False,  # emptied with the stack, so the bucket can be deleted
            memory_limit=256,
        )
        self._acknowledge_deployment(stack)

    def grant_config_read(self, function: lambda_.Function, role: iam.IRole) -> None:
        """``function`` reads the public base URL from ``config.json`` (``config.public_base_url``):
        the distribution's domain cannot be in its environment (distribution -> API -> function)."""
        function.add_environment("WEB_CONFIG_BUCKET", self.bucket.bucket_name)
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[self.bucket.arn_for_objects(web_headers.CONFIG_PATH.lstrip("/"))]))

    def _acknowledge(self, config: StageConfig) -> None:
        distribution = self.distribution
        nag.ack(distribution, "AwsSolutions-CFR1",
                "No geo restriction: the app and its public links are for users anywhere; abuse is "
                "bounded by the API's throttling, rate limits and (prod) WAF.")
        nag.ack(distribution, "AwsSolutions-CFR2",
                "No WAF on the distribution: the API paths it forwards reach the REST API stage, whose "
                "regional web ACL (prod) inspects them; the rest is static files from S3.")
        nag.ack(distribution, "AwsSolutions-CFR3",
                "No CloudFront access logs: standard logging needs an ACL-enabled bucket; every API "
                "request is logged by the API stage's access log, and the rest is static files.")
        nag.skip_checkov(distribution, "CKV_AWS_86",
                         "No CloudFront access logs: standard logging needs an ACL-enabled bucket; every "
                         "API request is logged by the API stage's access log, and the rest is static files.")
        nag.skip_checkov(distribution, "CKV_AWS_68",
                         "No WAF on the distribution: the API paths it forwards reach the REST API stage, "
                         "whose regional web ACL (prod) inspects them; the rest is static files from S3.")
        nag.skip_checkov(distribution, "CKV2_AWS_47",
                         "No WAF on the distribution (see CKV_AWS_68): the API stage's regional web ACL "
                         "carries the managed rule sets in prod.")
        nag.skip_checkov(distribution, "CKV_AWS_310",
                         "One origin per path: the web bucket and the REST API are each regional "
                         "services with their own availability; a failover origin would be a second "
                         "region's stack, which this project does not run.")
        if not config.domainName:
            reason = ("No custom domain configured (domainName): the distribution's own "
                      "*.cloudfront.net certificate is used, whose minimum protocol CloudFront fixes; "
                      "configure domainName and certificateArn for TLS 1.2 minimum.")
            nag.ack(distribution, "AwsSolutions-CFR4", reason)
            nag.skip_checkov(distribution, "CKV_AWS_174", reason)
            nag.skip_checkov(distribution, "CKV2_AWS_42", reason)

    def _acknowledge_deployment(self, stack: Stack) -> None:
        # CDK's singleton, at the stack's top level; its id ends with the memory limit
        handler = next(child for child in stack.node.children
                       if child.node.id.startswith(BUCKET_DEPLOYMENT_HANDLER))
        nag.skip_function_checks(
            handler,
            "No function-level DLQ: CDK's BucketDeployment function answers CloudFormation itself, so a "
            "failed copy fails (and rolls back) the deploy.",
        )
        nag.skip_checkov(
            handler,
            "CKV_AWS_117",
            "Outside the VPC on purpose: it copies the web assets between S3 buckets, invalidates "
            "CloudFront and answers CloudFormation's presigned URL; the isolated VPC reaches none of them.",
        )
        nag.ack(handler, "AwsSolutions-L1",
                "CDK's BucketDeployment function: CDK chooses and updates its runtime.")
        role = handler.node.find_child("ServiceRole")
        nag.ack(role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "CDK's BucketDeployment role: basic execution (its log group) only; its S3 and CloudFront "
                "actions are a separate policy scoped to the asset and web buckets.")
        policy = role.node.find_child("DefaultPolicy")
        copy = ("CDK's BucketDeployment policy: it reads the staged asset zips (the CDK asset bucket) and "
                "syncs them into this web bucket, so it needs object read/list/delete there (CDK's grant "
                "helpers write these wildcards).")
        for finding in ("Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*",
                        "Action::s3:Abort*", "Action::s3:DeleteObject*",
                        f"Resource::{nag.resolved(self.bucket.bucket_arn, self)}/*",
                        f"Resource::{_asset_bucket_arn(Stack.of(self))}/*"):
            nag.ack(policy, f"AwsSolutions-IAM5[{finding}]", copy)
        invalidation = ("cloudfront:CreateInvalidation/GetInvalidation after the copy (index.html and "
                        "config.json must not be served stale); CDK's BucketDeployment grants them on '*'.")
        nag.ack(policy, "AwsSolutions-IAM5[Resource::*]", invalidation)
        nag.skip_checkov(policy, "CKV_AWS_111", invalidation)


def _asset_bucket_arn(stack: Stack) -> str:
    """CDK's asset bucket as cdk-nag names it: literal when the stage's account and region are given
    (infra/config.py requires them for a deploy), tokens otherwise."""
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>"
    return f"arn:aws:s3:::cdk-hnb659fds-assets-{stack.account}-{stack.region}"
