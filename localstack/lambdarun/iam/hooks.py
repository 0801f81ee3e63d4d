"""The gate in front of a function's AWS calls, as AWS answers them.

``install(gate)`` hooks, in the process it runs in:
- botocore (every client created afterwards): each call's checks before it is sent; a refusal is
  the service's own error (S3's 403 ``AccessDenied``, ``AccessDeniedException`` for JSON services)
  raised by botocore itself. A presigned URL or POST is checked when it is signed. ``DeleteObjects``
  answers a per-key ``AccessDenied`` for the keys the role may not delete. A missing key is 403,
  not 404, unless the role may ``s3:ListBucket`` with that key as ``s3:prefix``.
- opensearch-py: ``es:ESHttp<Method>`` on the request's path, refused with 403 as the domain does.
- kafka-python: ``Connect`` (and ``WriteDataIdempotently`` for an idempotent producer) on the
  cluster, ``WriteData`` on a topic for ``send``, ``CreateTopic``/``DescribeTopic``/``AlterTopic``
  for the admin client, refused with Kafka's authorization errors as MSK IAM does.

Whose role applies is ``gate.current()``: a worker process is one function for its whole life;
the test process sets it around each handler call (``acting_as``). With no current function a call
is not checked (the test harness arranging state, like an administrator).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from lambdarun.iam.calls import (
    Check,
    kafka_arn,
    list_bucket_check,
    opensearch_check,
    queue_name,
    s3_object_arn,
    sdk_checks,
)
from lambdarun.iam.policy import Decision, Resolver, Role

#: Set by the local runtime for a worker (the roles file made at ``make up``); "off" disables.
ROLES_ENV = "FILESHARE_IAM_ROLES"
USAGE_ENV = "FILESHARE_IAM_USAGE_DIR"
_acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("iam_function", default=None)
#: Services that refuse with AccessDenied/403; the JSON ones answer AccessDeniedException/400.
_QUERY_PROTOCOL_SERVICES = ("s3", "ses", "sqs", "sts")
#: The reads S3 answers 403 instead of 404 for a missing key unless the caller may list it.
_READS_OF_A_KEY = frozenset({"GetObject", "HeadObject", "GetObjectAttributes", "GetObjectTagging"})


class Gate:
    """The roles of one namespace's functions and the record of what each call asked for."""

    def __init__(self, roles: Mapping[str, Any], env: Mapping[str, str], *,
                 fixed_function: str | None = None, usage_dir: Path | None = None) -> None:
        from infra.declaration import namespace_of

        self.roles_doc = roles
        self.env = env  # read at each decision: a test may point UPLOAD_BUCKET at a bucket of its own
        self.namespace = namespace_of(env)
        self.region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.fixed_function = fixed_function
        self.usage_dir = usage_dir
        self._roles: dict[tuple[str, ...], Role | None] = {}
        self._seen: set[tuple[str, str, bool]] = set()

    @classmethod
    def from_file(cls, path: Path, env: Mapping[str, str], **kwargs: Any) -> Gate:
        return cls(json.loads(path.read_text()), env, **kwargs)

    def current(self) -> str | None:
        return self.fixed_function or _acting.get()

    def role(self, function: str) -> Role | None:
        """``function``'s role with its ARNs in the names it is configured with now (its bucket,
        user pool and sender, as CDK grants on the resources whose names it sets in its env)."""
        local = {"bucket": self.env.get("UPLOAD_BUCKET") or self.namespace.bucket,
                 "user_pool_id": self.env.get("USER_POOL_ID", "local"),
                 "queue_prefix": self.namespace.prefix,
                 "email_sender": self.env.get("EMAIL_SENDER", ""),
                 "events_topic": self.env.get("EVENTS_TOPIC") or self.namespace.events_topic,
                 "database_secret_arn": self.env.get("DATABASE_SECRET_ARN", ""),
                 "upload_queue": queue_name(self.env.get("UPLOAD_QUEUE_URL", ""))}
        key = (function, *local.values())
        if key not in self._roles:
            self._roles[key] = Role.load(self.roles_doc, function, region=self.region, local=local,
                                         physical=self.namespace.physical)
        return self._roles[key]

    @functools.cached_property
    def cluster_name(self) -> str:
        """The MSK cluster's name in the ARNs the resolver writes (so a call's ARN matches them)."""
        return Resolver(self.roles_doc["stage"], self.region, self.roles_doc["resources"], {}).cluster_name

    def decide(self, checks: list[Check], function: str | None = None) -> Decision | None:
        """The first refusal among ``checks`` for ``function`` (by default the current one; None:
        all allowed, or no function is acting, or it has no synthesized role, e.g. a test fixture)."""
        function = function or self.current()
        if function is None:
            return None
        role = self.role(function)
        if role is None:
            return None
        refusal = None
        for check in checks:
            decision = role.decide(check.action, check.resource, check.context, check.modelled)
            self._record(function, decision)
            if not decision.allowed and refusal is None:
                refusal = decision
        return refusal

    def message(self, decision: Decision, function: str | None = None) -> str:
        function = function or self.current() or "?"
        return (f"User: arn:aws:sts::000000000000:assumed-role/fileshare-{function}-role/{function} "
                f"is not authorized to perform: {decision.action} on resource: \"{decision.resource}\" "
                f"because {decision.reason}")

    def _record(self, function: str, decision: Decision) -> None:
        key = (function, decision.action, decision.allowed)
        if self.usage_dir is None or (key in self._seen and not decision.unevaluable):
            return
        self._seen.add(key)
        self.usage_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"function": function, "action": decision.action, "resource": decision.resource,
                           "allowed": decision.allowed, "reason": decision.reason,
                           "unevaluable": list(decision.unevaluable)})
        with open(self.usage_dir / f"{os.getpid()}.jsonl", "a") as out:
            out.write(line + "\n")


@contextlib.contextmanager
def acting_as(function: str) -> Iterator[None]:
    """Check the calls made inside the block against ``function``'s role (in-process tests)."""
    token = _acting.set(function)
    try:
        yield
    finally:
        _acting.reset(token)


_installed: Gate | None = None


def install(gate: Gate) -> None:
    """Hook botocore, opensearch-py and kafka-python in this process (once; later calls swap the gate)."""
    global _installed
    first = _installed is None
    _installed = gate
    if first:
        _install_botocore()
        _install_opensearch()
        _install_kafka()


def installed() -> Gate | None:
    return _installed


# --- botocore ---------------------------------------------------------------------------------

def _install_botocore() -> None:
    from botocore import handlers

    handlers.BUILTIN_HANDLERS.extend([
        ("before-parameter-build", _before_parameter_build),
        ("before-call", _before_call),
        ("after-call.s3", _after_s3_call),
        ("creating-client-class.s3", _wrap_presigned_post),
    ])


def _client_error(service: str, decision: Decision, gate: Gate, operation: str) -> Exception:
    from botocore.exceptions import ClientError

    query = service in _QUERY_PROTOCOL_SERVICES
    code, status = ("AccessDenied", 403) if query else ("AccessDeniedException", 400)
    return ClientError({"Error": {"Code": code, "Message": gate.message(decision)},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def _before_parameter_build(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    gate = _installed
    if gate is None or gate.current() is None:
        return
    service = model.service_model.signing_name or model.service_model.endpoint_prefix
    operation = model.name
    if context.get("is_presign_request") and operation == "CreateBucket":
        return  # the presigned POST's URL; the POST itself is checked in _wrap_presigned_post
    if service == "s3" and operation == "DeleteObjects":
        _filter_delete_objects(gate, params, context)
        return
    refusal = gate.decide(sdk_checks(service, operation, params, gate.region))
    if refusal is None:
        context["iam_bucket_key"] = (params.get("Bucket"), params.get("Key"))
        return
    if context.get("is_presign_request"):
        raise _client_error(service, refusal, gate, operation)
    context["iam_refusal"] = (service, refusal)


def _filter_delete_objects(gate: Gate, params: dict[str, Any], context: dict[str, Any]) -> None:
    """Keys the role may not delete leave the request and come back as per-key AccessDenied errors."""
    bucket = str(params.get("Bucket", ""))
    objects = params.get("Delete", {}).get("Objects", [])
    kept: list[tuple[Any, Decision | None]] = []
    refused: list[tuple[Any, Decision | None]] = []
    for obj in objects:
        refusal = gate.decide([Check("s3:DeleteObject", s3_object_arn(bucket, str(obj["Key"])))])
        (refused if refusal else kept).append((obj, refusal))
    if not refused:
        return
    params["Delete"]["Objects"] = [obj for obj, _ in kept]
    context["iam_delete_refused"] = [{"Key": obj["Key"], "Code": "AccessDenied", "Message": "Access Denied"}
                                     for obj, _ in refused]
    if not kept:
        context["iam_delete_none_left"] = True


def _before_call(model: Any, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
    from botocore.awsrequest import AWSResponse

    refusal = context.get("iam_refusal")
    gate = _installed
    if refusal is not None and gate is not None:
        service, decision = refusal
        error = _client_error(service, decision, gate, model.name)
        response = getattr(error, "response", {})
        status = response["ResponseMetadata"]["HTTPStatusCode"]
        return AWSResponse("", status, {}, None), response
    if context.get("iam_delete_none_left"):
        return AWSResponse("", 200, {}, None), {"Deleted": [], "Errors": context["iam_delete_refused"],
                                                "ResponseMetadata": {"HTTPStatusCode": 200}}
    return None


def _after_s3_call(http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
                   **_: Any) -> None:
    if model.name == "DeleteObjects" and context.get("iam_delete_refused"):
        if context.get("iam_delete_none_left"):
            return  # _before_call answered it
        parsed.setdefault("Errors", []).extend(context["iam_delete_refused"])
        return
    gate = _installed
    if (gate is None or http_response.status_code != 404 or model.name not in _READS_OF_A_KEY
            or "iam_bucket_key" not in context):
        return
    bucket, key = context["iam_bucket_key"]
    if not key or gate.decide([list_bucket_check(str(bucket), str(key))]) is None:
        return  # the role may list this key: S3 tells it the key is missing
    http_response.status_code = 403
    parsed["Error"] = {"Code": "AccessDenied" if model.name != "HeadObject" else "403",
                       "Message": "Access Denied" if model.name != "HeadObject" else "Forbidden"}
    parsed.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = 403


def _wrap_presigned_post(class_attributes: dict[str, Any], **_: Any) -> None:
    original = class_attributes.get("generate_presigned_post")
    if original is None or getattr(original, "iam_checked", False):
        return

    @functools.wraps(original)
    def generate_presigned_post(self: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:  # noqa: N803
        gate = _installed
        if gate is not None:
            refusal = gate.decide([Check("s3:PutObject", s3_object_arn(Bucket, Key))])
            if refusal is not None:
                raise _client_error("s3", refusal, gate, "PutObject")
        return original(self, Bucket, Key, *args, **kwargs)

    generate_presigned_post.iam_checked = True  # type: ignore[attr-defined]
    class_attributes["generate_presigned_post"] = generate_presigned_post


# --- opensearch-py ----------------------------------------------------------------------------

def _install_opensearch() -> None:
    try:
        from opensearchpy import transport
    except ImportError:
        return
    original = transport.Transport.perform_request

    @functools.wraps(original)
    def perform_request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        gate = _installed
        if gate is not None:
            refusal = gate.decide([opensearch_check(method, url.split("?")[0], gate.region)])
            if refusal is not None:
                from opensearchpy.exceptions import AuthorizationException

                raise AuthorizationException(403, "security_exception", {"Message": gate.message(refusal)})
        return original(self, method, url, *args, **kwargs)

    transport.Transport.perform_request = perform_request  # type: ignore[method-assign]


# --- kafka-python -----------------------------------------------------------------------------

def _kafka_refuse(checks: list[Check], error: Callable[[str], Exception]) -> None:
    gate = _installed
    if gate is None:
        return
    refusal = gate.decide(checks)
    if refusal is not None:
        raise error(gate.message(refusal))


def _cluster(action: str) -> Check:
    gate = _installed
    assert gate is not None
    return Check(f"kafka-cluster:{action}", kafka_arn("cluster", gate.cluster_name, gate.region))


def _topic(action: str, topic: str) -> Check:
    gate = _installed
    assert gate is not None
    return Check(f"kafka-cluster:{action}", kafka_arn("topic", gate.cluster_name, gate.region, topic))


def _install_kafka() -> None:
    try:
        import kafka
        from kafka import errors
        from kafka.admin import KafkaAdminClient
    except ImportError:
        return

    producer_init = kafka.KafkaProducer.__init__
    producer_send = kafka.KafkaProducer.send

    @functools.wraps(producer_init)
    def init(self: Any, *args: Any, **configs: Any) -> None:
        _kafka_refuse([_cluster("Connect")], errors.SaslAuthenticationFailedError)
        producer_init(self, *args, **configs)

    @functools.wraps(producer_send)
    def send(self: Any, topic: str, *args: Any, **kwargs: Any) -> Any:
        if _installed is not None and _installed.current() is not None:
            _kafka_refuse([_topic("DescribeTopic", topic), _topic("WriteData", topic)],
                          errors.TopicAuthorizationFailedError)
            if self.config.get("enable_idempotence"):
                # MSK answers InitProducerId with CLUSTER_AUTHORIZATION_FAILED without it
                _kafka_refuse([_cluster("WriteDataIdempotently")], errors.ClusterAuthorizationFailedError)
        return producer_send(self, topic, *args, **kwargs)

    kafka.KafkaProducer.__init__ = init
    kafka.KafkaProducer.send = send

    admin_init = KafkaAdminClient.__init__

    @functools.wraps(admin_init)
    def admin(self: Any, *args: Any, **configs: Any) -> None:
        _kafka_refuse([_cluster("Connect")], errors.SaslAuthenticationFailedError)
        admin_init(self, *args, **configs)

    KafkaAdminClient.__init__ = admin
    for method, action in (("create_topics", "CreateTopic"), ("describe_topics", "DescribeTopic"),
                           ("create_partitions", "AlterTopic")):
        setattr(KafkaAdminClient, method, _admin_method(getattr(KafkaAdminClient, method), action,
                                                        errors.TopicAuthorizationFailedError))


def _admin_method(original: Callable[..., Any], action: str, error: Callable[[str], Exception]) -> Any:
    @functools.wraps(original)
    def checked(self: Any, topics: Any = None, *args: Any, **kwargs: Any) -> Any:
        names = [getattr(t, "name", t) for t in (topics or [])]
        if names:
            _kafka_refuse([_topic(action, str(name)) for name in names], error)
        return original(self, topics, *args, **kwargs)
    return checked


def event_source_checks(gate: Gate, function: str, *, kafka_topic: str | None = None,
                        kafka_group: str | None = None, sqs_queue: str | None = None,
                        failure_queue: str | None = None) -> list[Check]:
    """What an event source mapping asks of the function's role (Lambda polls with it): for MSK,
    Connect and DescribeClusterDynamicConfiguration on the cluster, DescribeTopic and ReadData on the
    topic, DescribeGroup and AlterGroup on the group; for SQS, receive, delete and visibility on the
    queue; SendMessage on its on-failure queue."""
    from lambdarun.iam.policy import ACCOUNT_ID

    checks = []
    if kafka_topic and kafka_group:
        cluster = kafka_arn("cluster", gate.cluster_name, gate.region)
        checks += [Check(f"kafka-cluster:{a}", cluster)
                   for a in ("Connect", "DescribeClusterDynamicConfiguration")]
        topic = kafka_arn("topic", gate.cluster_name, gate.region, kafka_topic)
        checks += [Check(f"kafka-cluster:{a}", topic) for a in ("DescribeTopic", "ReadData")]
        group = kafka_arn("group", gate.cluster_name, gate.region, kafka_group)
        checks += [Check(f"kafka-cluster:{a}", group) for a in ("DescribeGroup", "AlterGroup")]
    if sqs_queue:
        queue = f"arn:aws:sqs:{gate.region}:{ACCOUNT_ID}:{sqs_queue}"
        checks += [Check(f"sqs:{a}", queue) for a in ("ReceiveMessage", "DeleteMessage",
                                                       "ChangeMessageVisibility", "GetQueueAttributes")]
    if failure_queue:
        checks.append(Check("sqs:SendMessage", f"arn:aws:sqs:{gate.region}:{ACCOUNT_ID}:{failure_queue}"))
    return checks


def gate_from_env(env: Mapping[str, str]) -> Gate | None:
    """A gate for decisions made outside a function (the event source mappings in serve.py)."""
    path = env.get(ROLES_ENV, "")
    if not path or path == "off" or not Path(path).exists():
        return None
    usage = env.get(USAGE_ENV)
    return Gate.from_file(Path(path), env, usage_dir=Path(usage) if usage else None)


def install_from_env(function: str | None = None) -> Gate | None:
    """Install the gate this process's environment asks for (``FILESHARE_IAM_ROLES``), if any."""
    gate = gate_from_env(os.environ)
    if gate is not None:
        gate.fixed_function = function
        install(gate)
    return gate
