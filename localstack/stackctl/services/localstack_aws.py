"""LocalStack (community, host mode, no Docker): S3, SQS, SES, Secrets Manager and SSM.

LocalStack runs from its own Python 3.13 venv under ``.local/opt`` (its pins clash with the
project's), installed with ``pip --require-hashes`` from ``localstack/requirements.lock`` (the
``localstack`` group of uv.lock, exported by ``make lock``; the pins and why they stay are in
pyproject.toml). The community build keeps everything in memory (its ``PERSISTENCE=1`` saves nothing), so
it is started through ``localstack/aws_state.py``, which keeps S3 objects (bytes and metadata), SQS
messages, the SES mailbox, secrets and parameters under ``.local/data/localstack/state`` across
``make down``/``make up`` and crashes. ``provision()`` stays idempotent (it finds what survived);
the values created there (queue URLs) are written to ``.local/run/localstack.json`` so ``env()``
works in a later process.

Queues: the upload queue with its DLQ, and one on-failure queue per function with asynchronous
triggers (``Function.failure_queue`` in ``infra/declaration.py``, the same queue CDK creates), whose
URLs reach the local runtime as ``queue_url_env(<logical name>)`` variables.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from infra.declaration import DEV_NAMESPACE, UPLOAD_QUEUE, LocalNamespace
from stackctl import proc
from stackctl.base import Service
from stackctl.paths import CACHE_DIR, DATA_DIR, OPT_DIR, REPO_ROOT, RUN_DIR

if TYPE_CHECKING:
    from infra.declaration import Function

LOCALSTACK_VERSION = "4.14.0"  # as pinned in pyproject.toml's localstack group (tests/infra/test_lock.py)
REQUIREMENTS = REPO_ROOT / "localstack" / "requirements.lock"  # every package, with its hashes
SERVICES = ("s3", "sqs", "ses", "secretsmanager", "ssm")

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"  # LocalStack's default account for the "test" access key
WEB_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
UPLOAD_PREFIX = "u/"  # originals; derived objects (thumbnails) live under t/ and must not retrigger
# The upload queue's visibility timeout is the processor's timeout (infra/declaration.py, sized in
# infra/sizing.py): locally 1x rather than AWS's 6x, so a failed record comes back sooner.
DLQ_MAX_RECEIVES = 3
FAILURE_QUEUE_RETENTION_S = 14 * 24 * 3600  # as the CDK stack's on-failure queues
NOTIFICATION_ID = "uploads-to-queue"

VENV_DIR = OPT_DIR / "localstack-venv"
STATE_FILE = RUN_DIR / "localstack.json"
VOLUME_DIR = DATA_DIR / "localstack"
FILESYSTEM_ROOT = VOLUME_DIR / "fs"  # LocalStack's host-mode root: cache, certificate, catalog
PERSIST_DIR = VOLUME_DIR / "state"  # what survives a restart: <service>.pickle + s3-objects/ (aws_state.py)
STATE_RUNNER = REPO_ROOT / "localstack" / "aws_state.py"


def find_python313() -> Path:
    """LocalStack 4.14 needs Python 3.13 (``warnings.deprecated``, PEP 695)."""
    for candidate in sorted(glob.glob("/root/.pyenv/versions/3.13*/bin/python"), reverse=True):
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    on_path = shutil.which("python3.13")
    if on_path:
        check = proc.run([on_path, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"])
        if check.stdout.strip() == "True":
            return Path(on_path)
    raise proc.StackError(
        "LocalStack 4.14 needs Python 3.13: none found in /root/.pyenv/versions/3.13*/bin/python "
        "or as python3.13 on PATH (install one, e.g. `pyenv install 3.13`)."
    )


class LocalStack(Service):
    name: ClassVar[str] = "localstack"
    port: ClassVar[int] = 4566
    reuse_env: ClassVar[str] = "AWS_ENDPOINT_URL"
    start_timeout_s: ClassVar[float] = 120.0

    @property
    def venv_python(self) -> Path:
        return VENV_DIR / "bin" / "python"

    def url(self) -> str:
        return self.external_url or f"http://localhost:{self.port}"

    # -- install -------------------------------------------------------------------------------

    def installed_version(self) -> str | None:
        if not self.venv_python.exists():
            return None
        try:
            result = proc.run([self.venv_python, "-c",
                               "import importlib.metadata as m; print(m.version('localstack-core'))"])
        except proc.StackError:
            return None
        return result.stdout.strip() or None

    def install(self) -> None:
        if self.reused:
            return
        if self.installed_version() != LOCALSTACK_VERSION or not self._lock_stamp().exists():
            self._install_venv()
            for stale in VENV_DIR.glob(".lock-*"):
                stale.unlink()
            self._lock_stamp().touch()
        self._build_service_catalog()

    def _lock_stamp(self) -> Path:
        """Marks a venv installed from this very lock: a changed lock (``make lock``) re-installs."""
        digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
        return VENV_DIR / f".lock-{digest}"

    def _install_venv(self) -> None:
        python = find_python313()
        if not self.venv_python.exists():
            proc.run([python, "-m", "venv", VENV_DIR])
        pip: list[str | os.PathLike[str]] = [self.venv_python, "-m", "pip"]
        pip_env = {"PIP_CACHE_DIR": str(CACHE_DIR / "pip"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        # Every file checked against the lock's hashes. One package (airspeed-ext) is an sdist only,
        # built in an isolated environment whose setuptools comes from the index, so this is online;
        # pip's cache under .local/cache/pip (kept by `make reset`) serves the files again.
        proc.run([*pip, "install", "--quiet", "--require-hashes", "--no-deps", "--requirement", REQUIREMENTS],
                 env=pip_env)
        if self.installed_version() != LOCALSTACK_VERSION:
            raise proc.StackError(f"localstack-core {LOCALSTACK_VERSION} did not install into {VENV_DIR}")

    def _build_service_catalog(self) -> None:
        """Pre-build LocalStack's service catalog index, as its Docker image does at build time.

        Without it the first request builds it (~5 s, every service spec loaded) and the process
        stays at ~650 MB resident instead of ~300 MB.
        """
        static_libs = FILESYSTEM_ROOT / "usr" / "lib" / "localstack"
        if any(static_libs.glob("service-catalog-*.dill")):
            return
        static_libs.mkdir(parents=True, exist_ok=True)
        proc.run([self.venv_python, "-m", "localstack.aws.spec"], env=self._runtime_env(), cwd=VOLUME_DIR)

    # -- run -----------------------------------------------------------------------------------

    def start(self) -> None:
        VOLUME_DIR.mkdir(parents=True, exist_ok=True)
        proc.spawn(self.name, launch_command(self.venv_python, PERSIST_DIR),
                   env=self._runtime_env(), cwd=VOLUME_DIR)

    def _runtime_env(self) -> dict[str, str]:
        return runtime_env(self.port)

    def health(self) -> dict[str, Any] | None:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url()}/_localstack/health", timeout=2) as response:  # noqa: S310
                body: dict[str, Any] = json.load(response)
                return body
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def healthy(self) -> bool:
        body = self.health()
        if not body:
            return False
        states = body.get("services", {})
        return all(states.get(service) in ("available", "running") for service in SERVICES)

    # -- provision -----------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client for this LocalStack (path-style S3, test credentials)."""
        return aws_client(service, self.url())

    def provision(self) -> None:
        from fileshare.config import settings

        config = settings()
        state = provision_namespace_resources(self, DEV_NAMESPACE, bucket=config.upload_bucket,
                                              email_sender=config.email_sender)
        STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
        STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")

    # -- env -----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(STATE_FILE.read_text())
            return loaded
        except (FileNotFoundError, ValueError):
            return {}

    def provision_namespace(self, namespace: LocalNamespace) -> dict[str, str]:
        """A namespace's bucket, queues and parameters (the dev one through :meth:`provision`)."""
        if namespace.is_dev:
            self.provision()
            return self.env()
        return self.env(provision_namespace_resources(self, namespace, bucket=namespace.bucket,
                                                      email_sender=settings_email_sender()))

    def env(self, state: dict[str, Any] | None = None) -> dict[str, str]:
        """Endpoint, region and credentials, plus what provision() created (from localstack.json)
        or, given ``state``, what :func:`provision_namespace_resources` returned for a namespace."""
        state = self.state() if state is None else state
        env = {
            "AWS_ENDPOINT_URL": self.url(),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "UPLOAD_BUCKET": state.get("bucket", "fileshare-uploads"),
            "EMAIL_SENDER": state.get("email_sender", "no-reply@fileshare.local"),
        }
        for key, name in (("queue_url", "UPLOAD_QUEUE_URL"), ("dlq_url", "UPLOAD_DLQ_URL")):
            if state.get(key):
                env[name] = state[key]
        from infra.declaration import queue_url_env

        for queue, url in sorted(state.get("failure_queues", {}).items()):
            env[queue_url_env(queue)] = url
        return env


def settings_email_sender() -> str:
    from fileshare.config import settings

    return settings().email_sender


def provision_namespace_resources(localstack: LocalStack, namespace: LocalNamespace, *, bucket: str,
                                  email_sender: str) -> dict[str, Any]:
    """Idempotently, everything of one namespace (``infra.declaration.LocalNamespace``) in LocalStack:
    its bucket wired to its upload queue and DLQ, its failure queues, the sender identity and the
    SSM copies of the names. Returns the state ``env()`` reads (dev's is kept in localstack.json)."""
    s3, sqs = localstack.client("s3"), localstack.client("sqs")
    wiring = wire_upload_bucket(s3, sqs, bucket, queue_name=namespace.queue(UPLOAD_QUEUE),
                                dlq_name=namespace.queue(f"{UPLOAD_QUEUE}-dlq"),
                                origins=WEB_ORIGINS if namespace.is_dev else namespace.web_origins)
    localstack.client("ses").verify_email_identity(EmailAddress=email_sender)
    failure_urls = ensure_failure_queues(sqs, namespace=namespace)
    ssm = localstack.client("ssm")  # small, discoverable copies of the names (the app reads env)
    for key, value in (("upload-bucket", bucket), ("upload-queue-url", wiring["queue_url"])):
        ssm.put_parameter(Name=f"{namespace.ssm_prefix}/{key}", Value=value, Type="String", Overwrite=True)
    return {**wiring, "bucket": bucket, "email_sender": email_sender, "endpoint": localstack.url(),
            "failure_queues": failure_urls}


def runtime_env(port: int, volume_dir: Path = VOLUME_DIR) -> dict[str, str]:
    """LocalStack's settings for one instance on ``port`` keeping its files under ``volume_dir``
    (the stack's, or a test's private one)."""
    return {
        # This machine has /.dockerenv, so LocalStack would think it runs in its own container
        # and write to /var/lib/localstack and /tmp/localstack. Host mode keeps its files
        # (certificate, service catalog) under FILESYSTEM_ROOT.
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(volume_dir / "fs"),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "LOCALSTACK_VOLUME_DIR": str(volume_dir),
        "LOCALSTACK_HOST": f"localhost:{port}",
        # Default queue URLs use *.localhost.localstack.cloud, which needs public DNS.
        "SQS_ENDPOINT_STRATEGY": "path",
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
        # S3 checks SigV4 signatures of presigned URLs and POST policies as AWS does (LocalStack skips
        # them by default): an edited key or a forged policy is refused, so the presigned policies
        # are really tested. It validates when the signing secret is "test", which every local
        # client and function uses (tests/integration/stack/test_s3_signatures.py).
        "S3_SKIP_SIGNATURE_VALIDATION": "0",
        "SERVICES": ",".join(SERVICES),
        "PYTHONPATH": "",
    }


def launch_command(python: Path, persist_dir: Path) -> list[str | os.PathLike[str]]:
    """LocalStack's runtime started through ``aws_state.py``, which restores ``persist_dir`` before
    the gateway serves and keeps it current (see that module)."""
    return [python, STATE_RUNNER, "--state-dir", persist_dir]


def wire_upload_bucket(s3: Any, sqs: Any, bucket: str, *, queue_name: str, dlq_name: str,
                       visibility_timeout_s: int | None = None,
                       max_receives: int = DLQ_MAX_RECEIVES,
                       origins: Iterable[str] = WEB_ORIGINS) -> dict[str, str]:
    """Idempotently: the bucket (private, encrypted, CORS for the web origin), the upload queue with
    its DLQ, and ObjectCreated notifications for ``u/`` keys only to that queue.

    Used by provision() for the real bucket and by the stack and fault tests for a bucket and queue of
    their own (a running event-source poller would consume the real queue's records); those may
    shorten the visibility timeout so a retry comes sooner.
    """
    from infra.declaration import by_name

    if visibility_timeout_s is None:
        visibility_timeout_s = by_name("processor").timeout_s
    ensure_bucket(s3, bucket, origins)
    dlq_url = ensure_queue(sqs, dlq_name, {"MessageRetentionPeriod": str(14 * 24 * 3600)})
    dlq_arn = queue_arn(sqs, dlq_url)
    queue_url = ensure_queue(sqs, queue_name, {
        "VisibilityTimeout": str(visibility_timeout_s),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                     "maxReceiveCount": str(max_receives)}),
    })
    main_arn = queue_arn(sqs, queue_url)
    sqs.set_queue_attributes(QueueUrl=queue_url,
                             Attributes={"Policy": json.dumps(s3_send_policy(main_arn, bucket))})
    ensure_notification(s3, bucket, main_arn)
    return {"queue_url": queue_url, "queue_arn": main_arn, "dlq_url": dlq_url, "dlq_arn": dlq_arn}


def ensure_failure_queues(sqs: Any, functions: Iterable[Function] | None = None, *,
                          namespace: LocalNamespace = DEV_NAMESPACE) -> dict[str, str]:
    """Idempotently, one on-failure queue per function that has one (``Function.failure_queue``):
    logical name -> URL. Kafka pollers send the records they give up on there, as the MSK event
    source mapping does in AWS."""
    from infra.declaration import failure_queues, local_queue_name

    return {queue: ensure_queue(sqs, local_queue_name(queue, namespace),
                                {"MessageRetentionPeriod": str(FAILURE_QUEUE_RETENTION_S)})
            for queue in sorted(failure_queues(functions))}


def ensure_bucket(s3: Any, bucket: str, origins: Iterable[str] = WEB_ORIGINS) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)  # us-east-1: no LocationConstraint
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": list(origins),
        "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "Location"],
        "MaxAgeSeconds": 3000,
    }]})


def ensure_queue(sqs: Any, name: str, attributes: dict[str, str]) -> str:
    try:
        url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def upload_notification(queue_arn_: str) -> list[dict[str, Any]]:
    """The bucket's notification rules: originals under ``u/`` only, never derived objects."""
    return [{
        "Id": NOTIFICATION_ID,
        "QueueArn": queue_arn_,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOAD_PREFIX}]}},
    }]


def ensure_notification(s3: Any, bucket: str, queue_arn_: str) -> None:
    wanted = upload_notification(queue_arn_)
    current = s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations", [])
    if same_notifications(current, wanted):
        return  # re-putting it would send another s3:TestEvent to the queue
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": wanted})


def aws_client(service: str, endpoint: str) -> Any:
    """A client from its own session: the stack manager checks services from several threads, and
    boto3's default session is not thread-safe."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",  # noqa: S106 - LocalStack's dummies
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}),
    )


def queue_arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def s3_send_policy(queue_arn_: str, bucket: str) -> dict[str, Any]:
    """Let S3 (only for this bucket, only this account) send to the queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowS3UploadNotifications",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn_,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
                "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
            },
        }],
    }


def same_notifications(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    """Equal queue notification rules, ignoring order and the filter-rule name's case."""
    def one(config: dict[str, Any]) -> dict[str, Any]:
        rules = config.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        return {"id": config.get("Id"), "arn": config.get("QueueArn"),
                "events": sorted(config.get("Events", [])),
                "rules": sorted((r["Name"].lower(), r["Value"]) for r in rules)}

    def key(configs: list[dict[str, Any]]) -> str:
        return json.dumps(sorted((one(c) for c in configs), key=lambda c: str(c["id"])), sort_keys=True)
    return key(current) == key(wanted)
