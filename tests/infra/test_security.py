"""Security-critical properties of the synthesized stacks (both stages, real declaration and the
full test declaration)."""

from __future__ import annotations

import json

import pytest

from infra.declaration import FUNCTIONS, KafkaTrigger
from infra.observability import throttle_alarms

from .conftest import FULL_FUNCTIONS, Assembly
from .helpers import (
    STAGES,
    actions_of,
    as_list,
    function_by_name,
    logical_id,
    policy_statements,
    ref_id,
    refs,
    resources,
    role_statements,
    stack,
)

# CDK's BucketDeployment function (infra/hosting.py): CDK writes its policy with s3:GetObject*-style
# wildcards on the asset bucket and the web bucket, and CloudFront invalidations on "*" (each
# acknowledged in cdk-nag and checkov there); every policy of ours is held to the rules below.
CDK_BUCKET_DEPLOYMENT = "CustomCDKBucketDeployment"
# Actions that AWS does not scope to a resource; the only ones allowed on Resource "*".
RESOURCELESS_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}


def _upload_bucket(template):
    buckets = {
        lid: res
        for lid, res in resources(template, "AWS::S3::Bucket").items()
        if "uploads" in str(res["Properties"].get("BucketName", ""))
    }
    assert len(buckets) == 1, buckets.keys()
    return next(iter(buckets.items()))


@pytest.mark.parametrize("stage", STAGES)
def test_every_bucket_blocks_public_access_and_enforces_tls(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3  # uploads, its access logs, the web bucket (infra/hosting.py)
    policies = resources(template, "AWS::S3::BucketPolicy")
    for lid, bucket in buckets.items():
        block = bucket["Properties"]["PublicAccessBlockConfiguration"]
        assert block == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, lid
        assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"], lid
        tls_denies = [
            s
            for p in policies.values()
            if logical_id(p["Properties"]["Bucket"]) == lid
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert tls_denies, f"{lid} has no Deny for aws:SecureTransport=false"
        assert as_list(tls_denies[0]["Action"]) == ["s3:*"] and tls_denies[0]["Principal"] == {"AWS": "*"}


@pytest.mark.parametrize("stage", STAGES)
def test_upload_bucket_cors_lifecycle_and_notifications(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    _, bucket = _upload_bucket(template)
    props = bucket["Properties"]
    (rule,) = props["CorsConfiguration"]["CorsRules"]
    (origin,) = rule["AllowedOrigins"]  # the web origin: the distribution's domain (test_hosting.py)
    assert origin["Fn::Join"][1][0] == "https://" and "DomainName" in origin["Fn::Join"][1][1]["Fn::GetAtt"]
    assert "ETag" in rule["ExposedHeaders"]
    assert {"POST", "PUT"} <= set(rule["AllowedMethods"])
    lifecycle = props["LifecycleConfiguration"]["Rules"]
    assert any(r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 1 for r in lifecycle)
    (notification,) = props["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "u/"}]
    queue = template["Resources"][logical_id(notification["Queue"])]
    assert "deadLetterTargetArn" in queue["Properties"]["RedrivePolicy"]
    assert props.get("LoggingConfiguration", {}).get("DestinationBucketName")


@pytest.mark.parametrize("which", ["real", "full"])
def test_no_wildcard_actions_and_star_resources_only_for_resourceless_actions(
    assembly: Assembly, full_assembly: Assembly, which: str
) -> None:
    source = assembly if which == "real" else full_assembly
    checked = 0
    for name, template in source.templates.items():
        for lid, statement in policy_statements(template):
            if statement.get("Effect") != "Allow" or lid.startswith(CDK_BUCKET_DEPLOYMENT):
                continue
            actions = as_list(statement["Action"])
            checked += 1
            assert not [a for a in actions if "*" in a], f"{name}/{lid}: wildcard action in {actions}"
            if "*" in as_list(statement.get("Resource", [])):
                assert set(actions) <= RESOURCELESS_ACTIONS, f"{name}/{lid}: {actions} on Resource '*'"
    assert checked > 20


def test_function_roles_are_separate_and_have_no_managed_policies(full_assembly: Assembly) -> None:
    template = full_assembly.templates[stack("dev")]
    roles = set()
    for fn in FULL_FUNCTIONS:
        _, res = function_by_name(template, fn.name)
        role_lid = logical_id(res["Properties"]["Role"])
        assert role_lid is not None
        roles.add(role_lid)
        assert not template["Resources"][role_lid]["Properties"].get("ManagedPolicyArns"), fn.name
    assert len(roles) == len(FULL_FUNCTIONS)


def test_grants_follow_uses(full_assembly: Assembly) -> None:
    template = full_assembly.templates[stack("dev")]

    def actions(name: str) -> set[str]:
        _, res = function_by_name(template, name)
        return actions_of(role_statements(template, ref_id(res["Properties"]["Role"])))

    assert {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "es:ESHttpPost",
        "kafka-cluster:WriteData",
        "ses:SendEmail",
        "cognito-idp:AdminGetUser",
        "secretsmanager:GetSecretValue",
    } <= actions("files")
    assert not {
        a for a in actions("auth") if a.split(":")[0] in {"s3", "es", "kafka-cluster", "secretsmanager"}
    }
    assert "s3:DeleteObject" not in actions("processor")
    assert "kafka-cluster:ReadData" in actions("notifier") and "kafka-cluster:WriteData" not in actions(
        "notifier"
    )
    assert not {a for a in actions("notifier") if a.startswith("s3:")}
    assert "s3:DeleteObject" in actions("deleter") and "s3:PutObject" not in actions("deleter")
    assert "kafka-cluster:WriteData" in actions("sweeper") and "es:ESHttpGet" not in actions("sweeper")


def test_object_grants_are_scoped_to_prefixes(full_assembly: Assembly) -> None:
    template = full_assembly.templates[stack("dev")]
    for name in ("files", "processor", "deleter"):
        _, res = function_by_name(template, name)
        for statement in role_statements(template, ref_id(res["Properties"]["Role"])):
            if any(a.startswith("s3:") for a in as_list(statement["Action"])):
                rendered = [str(r) for r in as_list(statement["Resource"])]
                if as_list(statement["Action"]) == ["s3:ListBucket"]:  # the bucket, under a prefix condition
                    prefixes = set(as_list(statement["Condition"]["StringLike"]["s3:prefix"]))
                    assert prefixes in ({"u/*", "t/*"}, {"a/*"}), prefixes
                    continue
                if len(rendered) == 1 and "/a/*" in rendered[0]:
                    continue  # ARCHIVE_OBJECTS: the archives prefix only
                assert len(rendered) == 2 and all(("/u/*" in r) or ("/t/*" in r) for r in rendered), rendered


def test_environment_names_match_the_domain_settings(full_assembly: Assembly) -> None:
    from fileshare.config import REQUIRED_SETTINGS_ENV, env_names

    known = set(env_names()) | {REQUIRED_SETTINGS_ENV}
    template = full_assembly.templates[stack("dev")]
    for fn in FULL_FUNCTIONS:
        _, res = function_by_name(template, fn.name)
        env = res["Properties"]["Environment"]["Variables"]
        # the libraries' own variables (Powertools, OpenTelemetry) are theirs to read
        unknown = {k for k in env
                   if not k.startswith(("POWERTOOLS_", "OTEL_")) and k != "FILESHARE_STAGE"} - known
        assert not unknown, f"{fn.name}: {unknown} are not read by fileshare.config"
    files_env = function_by_name(template, "files")[1]["Properties"]["Environment"]["Variables"]
    assert {
        "DATABASE_URL",
        "DATABASE_SECRET_ARN",
        "REDIS_URL",
        "OPENSEARCH_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "UPLOAD_BUCKET",
        "USER_POOL_ID",
        "USER_POOL_CLIENT_ID",
        "EMAIL_SENDER",
    } <= set(files_env)
    assert files_env["KAFKA_SECURITY"] == "iam" and files_env["OPENSEARCH_AUTH"] == "sigv4"
    assert "REDIS_URL" not in function_by_name(template, "auth")[1]["Properties"]["Environment"]["Variables"]


def test_every_asynchronous_consumer_has_a_dlq_or_on_failure_destination(full_assembly: Assembly) -> None:
    for template in full_assembly.templates.values():
        mappings = resources(template, "AWS::Lambda::EventSourceMapping")
        assert len(mappings) == 3  # processor (sqs), notifier + deleter (kafka)
        for lid, mapping in mappings.items():
            props = mapping["Properties"]
            assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], lid
            source = template["Resources"][logical_id(props["EventSourceArn"])]
            if source["Type"] == "AWS::SQS::Queue":
                dlq = logical_id(source["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
                assert template["Resources"][dlq]["Type"] == "AWS::SQS::Queue"
            else:
                assert source["Type"] == "AWS::MSK::ServerlessCluster"
                destination = props["DestinationConfig"]["OnFailure"]["Destination"]
                assert template["Resources"][logical_id(destination)]["Type"] == "AWS::SQS::Queue"
                assert props["MaximumRetryAttempts"] >= 0
        schedules = resources(template, "AWS::Scheduler::Schedule")
        invoke_configs = resources(template, "AWS::Lambda::EventInvokeConfig")
        assert len(schedules) == 1
        for schedule in schedules.values():
            target = schedule["Properties"]["Target"]
            assert logical_id(target["DeadLetterConfig"]["Arn"])
            function_lid = logical_id(target["Arn"])
            configs = [
                c
                for c in invoke_configs.values()
                if logical_id(c["Properties"]["FunctionName"]) == function_lid
            ]
            assert configs and configs[0]["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]


def test_sqs_visibility_timeout_covers_the_consumer(full_assembly: Assembly) -> None:
    template = full_assembly.templates[stack("dev")]
    _, processor = function_by_name(template, "processor")
    for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values():
        source = template["Resources"][logical_id(mapping["Properties"]["EventSourceArn"])]
        if source["Type"] == "AWS::SQS::Queue":
            assert source["Properties"]["VisibilityTimeout"] >= 6 * processor["Properties"]["Timeout"]


@pytest.mark.parametrize("stage", STAGES)
def test_data_stores_are_encrypted_private_and_authenticated(assembly: Assembly, stage: str) -> None:
    template = assembly.templates[stack(stage)]
    (cluster,) = resources(template, "AWS::RDS::DBCluster").values()
    assert cluster["Properties"]["StorageEncrypted"] is True
    assert cluster["Properties"]["Engine"] == "aurora-postgresql"
    assert "ServerlessV2ScalingConfiguration" in cluster["Properties"]
    assert cluster["Properties"]["DeletionProtection"] is (stage == "prod")
    (proxy,) = resources(template, "AWS::RDS::DBProxy").values()
    assert proxy["Properties"]["RequireTLS"] is True
    assert resources(template, "AWS::SecretsManager::RotationSchedule")
    (domain,) = resources(template, "AWS::OpenSearchService::Domain").values()
    props = domain["Properties"]
    assert props["EncryptionAtRestOptions"]["Enabled"] is True
    assert props["NodeToNodeEncryptionOptions"]["Enabled"] is True
    assert props["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert props["VPCOptions"]["SubnetIds"]
    principals = [s["Principal"] for s in props["AccessPolicies"]["Statement"]]
    assert all(p != "*" and p != {"AWS": "*"} for p in principals)
    (cache,) = resources(template, "AWS::ElastiCache::ServerlessCache").values()
    assert cache["Properties"]["Engine"] == "valkey" and cache["Properties"]["SecurityGroupIds"]
    (kafka,) = resources(template, "AWS::MSK::ServerlessCluster").values()
    assert kafka["Properties"]["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True
    # Topics are the bootstrap's (one Kafka client config); CloudFormation only looks up the brokers.
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
                and "kafka" in str(r["Properties"].get("FunctionName", "")).lower()]
    # No security group is open to the world.
    for lid, sg in resources(template, "AWS::EC2::SecurityGroup").items():
        for rule in sg["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0", lid
    for lid, rule in resources(template, "AWS::EC2::SecurityGroupIngress").items():
        assert rule["Properties"].get("CidrIp") != "0.0.0.0/0", lid


def test_data_store_ingress_only_from_functions_that_use_it(full_assembly: Assembly) -> None:
    template = full_assembly.templates[stack("dev")]
    search_sg = next(lid for lid in resources(template, "AWS::EC2::SecurityGroup") if "SearchSg" in lid)
    sources = {
        logical_id(r["Properties"]["SourceSecurityGroupId"])
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if logical_id(r["Properties"]["GroupId"]) == search_sg
    }
    users = {fn.name for fn in FULL_FUNCTIONS if "search" in {u.value for u in fn.uses}}
    assert len(sources) == len(users) == 3  # files, processor, deleter
    assert all(any(f"Functions{name}Sg" in str(src) for src in sources) for name in users)


@pytest.mark.parametrize("which", ["real", "full"])
def test_functions_settings(assembly: Assembly, full_assembly: Assembly, which: str) -> None:
    source, functions = (assembly, FUNCTIONS) if which == "real" else (full_assembly, FULL_FUNCTIONS)
    for name, template in source.templates.items():
        log_groups = resources(template, "AWS::Logs::LogGroup")
        for fn in functions:
            _, res = function_by_name(template, fn.name)
            props = res["Properties"]
            assert props["Runtime"] == "python3.13" and props["Architectures"] == ["arm64"], fn.name
            assert props["TracingConfig"] == {"Mode": "Active"}
            assert props["MemorySize"] == fn.memory_mb and props["Timeout"] == fn.timeout_s
            assert props["Handler"] == fn.handler
            assert len(props["Layers"]) == 3  # dependencies, the shared package, the ADOT collector
            env = props["Environment"]["Variables"]
            assert env["POWERTOOLS_SERVICE_NAME"] == fn.name
            assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Fileshare"
            (log_group,) = refs(props["LoggingConfig"]["LogGroup"])
            assert log_groups[log_group]["Properties"]["RetentionInDays"] in (14, 90), name


@pytest.mark.parametrize("which", ["real", "full"])
def test_alarms_exist_and_notify_on_call(assembly: Assembly, full_assembly: Assembly, which: str) -> None:
    source, functions = (assembly, FUNCTIONS) if which == "real" else (full_assembly, FULL_FUNCTIONS)
    for name, template in source.templates.items():
        stage = name.split("-", 1)[1]
        (topic_lid,) = resources(template, "AWS::SNS::Topic")
        alarms = {
            a["Properties"]["AlarmName"]: a["Properties"]
            for a in resources(template, "AWS::CloudWatch::Alarm").values()
        }
        expected = {
            f"fileshare-{stage}-api-5xx",
            f"fileshare-{stage}-api-latency-p99",
            f"fileshare-{stage}-opensearch-red",
        }
        expected |= {
            f"fileshare-{stage}-{fn.name}-errors" for fn in functions
        }
        expected |= {f"fileshare-{stage}-{a.name}" for a in throttle_alarms(functions)}
        dlqs = {
            q["Properties"]["QueueName"]
            for q in resources(template, "AWS::SQS::Queue").values()
            if q["Properties"]["QueueName"].endswith(("-dlq", "-failures"))
        }
        assert dlqs
        expected |= {f"{q}-not-empty" for q in dlqs}
        expected |= {
            f"fileshare-{stage}-kafka-lag-{t.consumer_group}"
            for fn in functions
            for t in fn.triggers
            if isinstance(t, KafkaTrigger)
        }
        missing = expected - set(alarms)
        assert not missing, f"{name}: missing alarms {sorted(missing)}"
        composites = {
            a["Properties"]["AlarmName"]: a["Properties"]
            for a in resources(template, "AWS::CloudWatch::CompositeAlarm").values()
        }
        rules = json.dumps([c["AlarmRule"] for c in composites.values()])
        logical = {a["Properties"]["AlarmName"]: lid
                   for lid, a in resources(template, "AWS::CloudWatch::Alarm").items()}
        for alarm_name, alarm in {**alarms, **composites}.items():
            if "AlarmActions" not in alarm:  # a burn-rate window alarm: the composite over it notifies
                assert f'"{logical[alarm_name]}"' in rules, alarm_name
                continue
            assert topic_lid in refs(alarm["AlarmActions"]), alarm_name
        (topic,) = resources(template, "AWS::SNS::Topic").values()
        assert topic["Properties"]["KmsMasterKeyId"]


def test_each_function_gets_exactly_its_resources_variables_and_the_required_list(
    full_assembly: Assembly,
) -> None:
    from infra.declaration import REQUIRED_SETTINGS_ENV, RESOURCES, required_settings, resource_env

    every_resource_var = {name for row in RESOURCES.values() for name in row.env}
    template = full_assembly.templates[stack("dev")]
    for fn in FULL_FUNCTIONS:
        _, res = function_by_name(template, fn.name)
        env = res["Properties"]["Environment"]["Variables"]
        assert set(env) & every_resource_var == set(resource_env(fn.uses)), fn.name
        assert env[REQUIRED_SETTINGS_ENV] == required_settings(fn.uses), fn.name
