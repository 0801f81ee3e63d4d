"""The one declaration of Fileshare's functions, API routes and triggers.

Both the CDK app (``infra/``) and the local runtime (``localstack/runtime``) read this module, so
the cloud and the laptop cannot drift apart; ``tests/infra`` proves they match. It imports nothing
but the standard library so the local runtime can load it without the CDK.

A function says *what* it uses (``uses``); the CDK turns that into least-privilege grants and
environment variables, and the local runtime into environment variables pointing at local services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"

EVENTS_TOPIC = "fileshare.events"
UPLOAD_QUEUE = "uploads"


class Uses(StrEnum):
    """Resources a function may touch; each maps to grants in CDK and env vars locally."""

    DATABASE = "database"
    CACHE = "cache"
    SEARCH = "search"
    EVENTS_PUBLISH = "events_publish"
    EVENTS_ADMIN = "events_admin"  # create topics and grow their partitions (the bootstrap)
    BUCKET_READ = "bucket_read"  # GetObject/HeadObject on u/* and derived prefixes, presign GET
    BUCKET_WRITE = "bucket_write"  # PutObject on u/* (presigned POST, multipart) and t/* thumbnails
    BUCKET_DELETE = "bucket_delete"  # DeleteObject (and AbortMultipartUpload) on u/* and t/*
    ARCHIVE_OBJECTS = "archive_objects"  # Get/Put/Delete/AbortMultipartUpload on a/* (ZIP archives)
    USER_POOL = "user_pool"
    EMAIL = "email"
    SOCKETS = "sockets"  # the WebSocket API: post to its @connections; verify id tokens on $connect


@dataclass(frozen=True)
class Resource:
    """One row of the resource table: what a function that ``uses`` it is given, and how.

    ``env`` is every variable the grant sets (CDK sets exactly these, the local runtime hides them
    from functions that do not declare the use); ``required`` are those configuration must find at
    cold start (``fileshare.config`` fails naming any missing); ``grant`` says what the resource's
    construct grants in AWS (``Data``, ``Storage``, ``CognitoUsers``, the SES identity); ``local`` how the
    local stack provides it.
    """

    env: tuple[str, ...]
    required: tuple[str, ...]
    grant: str
    local: str


#: The one resource table (CDK grants and env, local env, configuration's required settings).
RESOURCES: dict[Uses, Resource] = {
    Uses.DATABASE: Resource(
        env=("DATABASE_URL", "DATABASE_SECRET_ARN"),
        required=("DATABASE_URL",),
        grant="RDS Proxy (5432, TLS) from the function's security group; GetSecretValue on the secret",
        local="PostgreSQL on 127.0.0.1:55432, password in the URL (no secret)",
    ),
    Uses.CACHE: Resource(
        env=("REDIS_URL",),
        required=("REDIS_URL",),
        grant="ElastiCache Serverless (6379/6380, TLS) from the function's security group",
        local="Redis on 127.0.0.1:56379",
    ),
    Uses.SEARCH: Resource(
        env=("OPENSEARCH_URL", "OPENSEARCH_AUTH"),
        required=("OPENSEARCH_URL",),
        grant="es:ESHttp* on the domain (SigV4), 443 from the function's security group",
        local="OpenSearch on 127.0.0.1:9200, no auth",
    ),
    Uses.EVENTS_PUBLISH: Resource(
        env=("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY", "EVENTS_TOPIC"),
        required=("KAFKA_BOOTSTRAP_SERVERS",),
        grant="kafka-cluster:Connect and WriteDataIdempotently on the cluster, WriteData on the events "
              "topic (MSK IAM, 9098)",
        local="Kafka on 127.0.0.1:9092, plaintext",
    ),
    Uses.EVENTS_ADMIN: Resource(
        env=("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY", "EVENTS_TOPIC"),
        required=("KAFKA_BOOTSTRAP_SERVERS",),
        grant="kafka-cluster:Connect, CreateTopic and AlterTopic on the events topic (MSK IAM, 9098)",
        local="Kafka on 127.0.0.1:9092, plaintext",
    ),
    **{
        use: Resource(
            env=("UPLOAD_BUCKET",),
            required=("UPLOAD_BUCKET",),
            grant=f"the {use.value.removeprefix('bucket_')} object actions on u/* and t/*",
            local="LocalStack S3 on 127.0.0.1:4566 (AWS_ENDPOINT_URL)",
        )
        for use in (Uses.BUCKET_READ, Uses.BUCKET_WRITE, Uses.BUCKET_DELETE)
    },
    Uses.ARCHIVE_OBJECTS: Resource(
        env=("UPLOAD_BUCKET",),
        required=("UPLOAD_BUCKET",),
        grant="Get/Put/DeleteObject and AbortMultipartUpload on a/* (archives) only",
        local="LocalStack S3 on 127.0.0.1:4566 (AWS_ENDPOINT_URL)",
    ),
    Uses.USER_POOL: Resource(
        env=("USER_POOL_ID", "USER_POOL_CLIENT_ID"),
        required=("USER_POOL_ID", "USER_POOL_CLIENT_ID"),
        grant="the Cognito admin actions the auth flows need, on this user pool",
        local="moto's Cognito on 127.0.0.1:4599 (AWS_ENDPOINT_URL_COGNITO_IDP)",
    ),
    # EMAIL_SENDER may be empty: no sender configured (the stage's emailSender), so no emails, the
    # in-app inbox only (fileshare.notifications.notices logs it); the user pool then uses Cognito's email.
    Uses.EMAIL: Resource(
        env=("EMAIL_SENDER",),
        required=(),
        grant="ses:SendEmail on the sender's (existing, verified) domain identity, from that "
              "address only; nothing when no sender is configured",
        local="LocalStack SES (mails readable at /_aws/ses)",
    ),
    # PUSH_ENDPOINT is the stage's @connections endpoint (https://<api>.execute-api.<region>.
    # amazonaws.com/<stage>); the user pool's ids only let $connect verify an id token (its JWKS is
    # public), no Cognito action is granted.
    Uses.SOCKETS: Resource(
        env=("PUSH_ENDPOINT", "USER_POOL_ID", "USER_POOL_CLIENT_ID"),
        required=("PUSH_ENDPOINT", "USER_POOL_ID", "USER_POOL_CLIENT_ID"),
        grant="execute-api:ManageConnections on the WebSocket stage's @connections only",
        local="the local gateway's @connections API (GATEWAY_PORT, path /_ws/<stage>)",
    ),
}

#: The environment variable listing a function's required settings (set by CDK and the local runtime).
REQUIRED_SETTINGS_ENV = "FILESHARE_REQUIRED_SETTINGS"


def resource_env(uses: Iterable[Uses]) -> tuple[str, ...]:
    """Every variable the resources in ``uses`` set, sorted."""
    return tuple(sorted({name for use in uses for name in RESOURCES[use].env}))


def required_settings(uses: Iterable[Uses]) -> str:
    """The value of :data:`REQUIRED_SETTINGS_ENV` for a function with these ``uses``."""
    return ",".join(sorted({name for use in uses for name in RESOURCES[use].required}))


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. "/files/{file_id}"
    auth: bool = True  # Cognito user-pool authorizer on this route


@dataclass(frozen=True)
class SocketRoute:
    """A route of the WebSocket API (API Gateway v2 ``routeKey``): ``$connect`` (authenticates the
    caller), ``$disconnect``, ``$default`` (every message whose ``action`` names no other route) or an
    ``action`` value such as ``resume``."""

    route_key: str


@dataclass(frozen=True)
class SocketApi:
    """The one WebSocket API: its stage and the limits AWS enforces (the local gateway enforces the
    same). The id token comes in the ``token`` query parameter: a browser's WebSocket cannot set an
    ``Authorization`` header, and a token passed as ``Sec-WebSocket-Protocol`` must be echoed back in
    the handshake's response (the whole token, in a header access logs and proxies keep); the access
    log format (infra/sockets.py) leaves the query string out, and the id token expires in an hour."""

    stage: str = "live"
    token_parameter: str = "token"  # noqa: S105 (the query parameter's name, not a secret)
    idle_timeout_s: int = 600  # API Gateway closes a connection silent this long: the page pings
    max_connection_s: int = 7200  # and any connection after two hours: the page reconnects
    max_message_bytes: int = 128 * 1024  # a frame is at most 32 KB, a message 128 KB
    throttle_rate: int = 500  # messages and connects per second, the stage's default route throttle
    throttle_burst: int = 1000


SOCKET_API = SocketApi()


@dataclass(frozen=True)
class SqsTrigger:
    queue: str  # logical queue name, e.g. UPLOAD_QUEUE
    batch_size: int = 10
    max_batching_window_s: int = 0


@dataclass(frozen=True)
class KafkaTrigger:
    topic: str
    consumer_group: str
    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    max_retries: int = 3  # retries of a failing batch before it goes to the function's failure_queue


@dataclass(frozen=True)
class ScheduleTrigger:
    every_seconds: int  # cloud: EventBridge Scheduler rate(); locally a timer
    local_every_seconds: int | None = None  # faster cadence on a laptop, if different


@dataclass(frozen=True)
class DeployTrigger:
    """Run on every deploy before the API takes traffic: a CloudFormation custom resource in AWS
    (through ``custom_resources.Provider``), an invocation at ``make up`` on the local stack."""


Trigger = SqsTrigger | KafkaTrigger | ScheduleTrigger | DeployTrigger


@dataclass(frozen=True)
class Function:
    name: str  # folder under functions/, and the function's logical name
    description: str
    handler: str = "handler.lambda_handler"  # module.attribute inside the function folder
    memory_mb: int = 256
    timeout_s: int = 10
    routes: tuple[Route, ...] = ()
    socket_routes: tuple[SocketRoute, ...] = ()  # routes of the WebSocket API (SOCKET_API)
    triggers: tuple[Trigger, ...] = ()
    uses: frozenset[Uses] = field(default_factory=frozenset)
    environment: tuple[tuple[str, str], ...] = ()  # extra static env vars

    @property
    def code_dir(self) -> Path:
        return FUNCTIONS_DIR / self.name

    @property
    def module_name(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def failure_queue(self) -> str | None:
        """The logical name of this function's on-failure SQS queue, if it has asynchronous triggers.

        Kafka triggers hand records that failed ``max_retries`` retries to it, schedules their failed
        invocations. The one place the name is derived: CDK names it ``fileshare-<stage>-<name>``, the
        local stack ``fileshare-<name>`` (:func:`local_queue_name`).
        """
        if any(isinstance(t, (KafkaTrigger, ScheduleTrigger)) for t in self.triggers):
            return f"{self.name}-failures"
        return None

    @property
    def snap_start(self) -> bool:
        """SnapStart in AWS: the API functions, whose cold start a caller waits on (Powertools'
        validation, psycopg and the models are most of it; infra/README.md, "Cold starts and
        SnapStart"). Consumers and schedules run behind a queue, a topic or a timer: nobody waits on
        their init, and each published version's snapshot costs caching for no visible gain. CDK
        publishes a version behind a ``live`` alias for these; ``make bench`` marks them."""
        return bool(self.routes)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="bootstrap",
        description="Creates what must exist before the first request: applies the schema "
                    "migrations, the search index behind its alias and the Kafka topics (idempotent)",
        memory_mb=512,
        timeout_s=600,  # a search index rebuild copies every document; the custom resource waits
        triggers=(DeployTrigger(),),
        uses=frozenset({Uses.DATABASE, Uses.SEARCH, Uses.EVENTS_ADMIN}),
    ),
    Function(
        name="meta",
        description="Health check, OpenAPI document and Swagger UI",
        memory_mb=256,
        routes=(
            Route("GET", "/health", auth=False),
            Route("GET", "/openapi.json", auth=False),
            Route("GET", "/docs", auth=False),
        ),
        uses=frozenset({Uses.DATABASE, Uses.CACHE}),
    ),
    Function(
        name="auth",
        description="Sign up and confirm with the emailed code, log in, refresh tokens, log out, "
                    "reset a forgotten password, through the Cognito user pool",
        memory_mb=256,
        routes=(
            Route("POST", "/auth/register", auth=False),
            Route("POST", "/auth/confirm", auth=False),
            Route("POST", "/auth/resend", auth=False),
            Route("POST", "/auth/forgot", auth=False),
            Route("POST", "/auth/reset", auth=False),
            Route("POST", "/auth/login", auth=False),
            Route("POST", "/auth/refresh", auth=False),
            Route("POST", "/auth/logout", auth=False),
        ),
        # EMAIL: registering a taken address mails its owner instead of answering 409; CACHE: the
        # per-IP limits of these public routes, and the decoy a taken address's registration leaves
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.USER_POOL, Uses.EMAIL}),
    ),
    Function(
        name="files",
        description="Files API: presigned uploads (POST or multipart), list, read (cached), change, "
                    "trash, presigned download, versions; the caller's account and usage",
        memory_mb=512,
        timeout_s=29,  # API Gateway's longest integration: completing a 10 000-part upload takes a while
        routes=(
            Route("POST", "/files"),
            Route("GET", "/files"),
            Route("POST", "/files/batch"),
            Route("GET", "/files/status"),
            Route("GET", "/files/{file_id}"),
            Route("PATCH", "/files/{file_id}"),
            Route("DELETE", "/files/{file_id}"),
            Route("POST", "/files/{file_id}/complete"),
            Route("POST", "/files/{file_id}/parts"),
            Route("GET", "/files/{file_id}/parts"),
            Route("DELETE", "/files/{file_id}/upload"),
            Route("GET", "/files/{file_id}/download"),
            # Versions (fileshare.versions) ride here too: 8 routes on 6 resources, no new function.
            Route("POST", "/files/{file_id}/versions"),
            Route("GET", "/files/{file_id}/versions"),
            Route("GET", "/files/{file_id}/versions/{version_id}/download"),
            Route("POST", "/files/{file_id}/versions/{version_id}/current"),
            Route("POST", "/files/{file_id}/versions/{version_id}/complete"),
            Route("POST", "/files/{file_id}/versions/{version_id}/parts"),
            Route("GET", "/files/{file_id}/versions/{version_id}/parts"),
            Route("DELETE", "/files/{file_id}/versions/{version_id}"),
            Route("GET", "/me"),
            # Folders ride on this function (no new function), in 7 routes on 3 resources, because
            # the stack is near CloudFormation's 500 resources: GET /folders?folder_id lists a folder
            # with its breadcrumbs, restore is a PATCH, purge DELETE ?permanent, revoke ?share_id.
            Route("POST", "/folders"),
            Route("GET", "/folders"),
            Route("PATCH", "/folders/{folder_id}"),
            Route("DELETE", "/folders/{folder_id}"),
            Route("POST", "/folders/{folder_id}/shares"),
            Route("GET", "/folders/{folder_id}/shares"),
            Route("DELETE", "/folders/{folder_id}/shares"),
        ),
        # BUCKET_WRITE: presigned POSTs and multipart uploads are signed with this function's role.
        # BUCKET_DELETE: deleting a version (fileshare.versions) removes its object and thumbnail at
        # once with DeleteObjects (s3:DeleteObject per key), and aborts a pending version's upload.
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.EVENTS_PUBLISH, Uses.BUCKET_READ,
                        Uses.BUCKET_WRITE, Uses.BUCKET_DELETE}),
    ),
    Function(
        name="search",
        description="Search the caller's files by name, type, tag and date (OpenSearch, ACL-filtered)",
        memory_mb=512,
        routes=(Route("GET", "/search"),),
        # BUCKET_READ: thumbnail URLs; CACHE: the per-user rate limit
        uses=frozenset({Uses.DATABASE, Uses.SEARCH, Uses.BUCKET_READ, Uses.CACHE}),
    ),
    Function(
        name="processor",
        description="Verifies uploaded objects (size, type, SHA-256), thumbnails images, marks files "
                    "ready or rejected, indexes them for search and announces them",
        memory_mb=1024,  # CPU scales with memory: hashing and thumbnailing are CPU-bound
        # Sized in infra/sizing.py: a batch of 4 worst-case messages (24 s each: 256 MiB read whole,
        # or a 50 MiB image read and thumbnailed, plus a stalled publish) and a cold start fit 120 s,
        # so one slow message never times out the others; the queue's visibility is 6 x 120 = 720 s.
        timeout_s=120,
        triggers=(SqsTrigger(UPLOAD_QUEUE, batch_size=4),),
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.SEARCH, Uses.EVENTS_PUBLISH, Uses.BUCKET_READ,
                        Uses.BUCKET_WRITE, Uses.BUCKET_DELETE}),
    ),
    Function(
        name="sharing",
        description="Share files with users (viewers), files shared with me, public links "
                    "(create, list, revoke); keeps the search ACL in step with every share change",
        memory_mb=512,
        routes=(
            Route("POST", "/files/{file_id}/shares"),
            Route("GET", "/files/{file_id}/shares"),
            Route("DELETE", "/files/{file_id}/shares/{share_id}"),
            Route("GET", "/shared-with-me"),
            Route("POST", "/files/{file_id}/links"),
            Route("GET", "/files/{file_id}/links"),
            Route("DELETE", "/links/{link_id}"),
        ),
        # BUCKET_READ: thumbnail URLs in /shared-with-me; SEARCH: the readers ACL of shared files.
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.SEARCH, Uses.EVENTS_PUBLISH, Uses.BUCKET_READ}),
    ),
    Function(
        name="public_link",
        description="Opens a public link (no login): password, expiry and download limit checks, then "
                    "a redirect to a one-minute presigned download",
        memory_mb=512,  # scrypt password checks are CPU-bound; CPU scales with memory
        routes=(Route("GET", "/s/{token}", auth=False),),
        # CACHE: wrong-password attempt counters in Redis.
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.EVENTS_PUBLISH, Uses.BUCKET_READ}),
        # The token is the link's secret: no trace records it. Every function's tracer already leaves
        # responses out (the link page names its token); an exception's message and stack stay out too.
        environment=(("POWERTOOLS_TRACER_CAPTURE_ERROR", "false"),),
    ),
    Function(
        name="outbox_relay",
        description="Publishes outbox events the inline publish could not (in order per file)",
        memory_mb=256,
        timeout_s=60,
        triggers=(ScheduleTrigger(every_seconds=60, local_every_seconds=5),),
        uses=frozenset({Uses.DATABASE, Uses.EVENTS_PUBLISH}),
    ),
    Function(
        name="notifier",
        description="Notification service: events -> the recipient's in-app inbox and an SES email, "
                    "once per event and recipient",
        memory_mb=256,
        timeout_s=60,
        # LATEST: a first deployment does not mail users about the topic's history.
        triggers=(KafkaTrigger(EVENTS_TOPIC, consumer_group="fileshare-notifier", batch_size=50,
                               starting_position="LATEST"),),
        uses=frozenset({Uses.DATABASE, Uses.EMAIL}),
    ),
    Function(
        name="notifications",
        description="The caller's in-app notifications: list (unread filter) and mark read",
        memory_mb=256,
        routes=(
            Route("GET", "/notifications"),
            Route("POST", "/notifications/{notification_id}/read"),
        ),
        uses=frozenset({Uses.DATABASE, Uses.CACHE}),  # CACHE: the per-user rate limit
    ),
    Function(
        name="activity",
        description="Activity feed: events -> one row per action on a file (idempotent per event); "
                    "the owner's feed of a file and the export of everything done to their files",
        memory_mb=256,
        timeout_s=29,  # it serves API routes too (API Gateway's longest integration)
        routes=(
            Route("GET", "/files/{file_id}/activity"),
            Route("GET", "/activity/export"),
        ),
        # One function for the consumer and its routes: the stack is at CloudFormation's resource limit.
        triggers=(KafkaTrigger(EVENTS_TOPIC, consumer_group="fileshare-activity", batch_size=100),),
        uses=frozenset({Uses.DATABASE, Uses.CACHE}),  # CACHE: the routes' per-user rate limit
    ),
    Function(
        name="indexer",
        description="Keeps search documents in step with PostgreSQL after renames, retags, trash, "
                    "restore and share changes (re-reads the current row: idempotent, order-insensitive)",
        memory_mb=256,
        timeout_s=60,
        triggers=(KafkaTrigger(EVENTS_TOPIC, consumer_group="fileshare-indexer", batch_size=100),),
        uses=frozenset({Uses.DATABASE, Uses.SEARCH}),
    ),
    Function(
        name="trash",
        description="Trash API: list my trash, restore a file within the retention period, purge a "
                    "trashed file for good (the deleter removes its objects)",
        memory_mb=256,
        routes=(
            Route("GET", "/trash"),
            Route("POST", "/files/{file_id}/restore"),
            Route("DELETE", "/trash/{file_id}"),
        ),
        # SEARCH: a restored file is re-indexed at once; BUCKET_READ: thumbnail URLs in the list.
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.SEARCH, Uses.EVENTS_PUBLISH, Uses.BUCKET_READ}),
    ),
    Function(
        name="deleter",
        description="Deletion service: on file.deleted / file.expired removes the file's objects, search "
                    "document, cache entry, shares, links and row (idempotent, resumable)",
        memory_mb=256,
        timeout_s=60,
        triggers=(KafkaTrigger(EVENTS_TOPIC, consumer_group="fileshare-deleter", batch_size=50),),
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.SEARCH, Uses.BUCKET_DELETE}),
    ),
    Function(
        name="archives",
        description="Archives API: zip several files or a folder as an asynchronous job, list jobs, "
                    "progress, a presigned download once ready, delete",
        memory_mb=256,
        routes=(
            Route("POST", "/archives"),
            Route("GET", "/archives"),
            Route("GET", "/archives/{archive_id}"),
            Route("GET", "/archives/{archive_id}/download"),
            Route("DELETE", "/archives/{archive_id}"),
        ),
        # EVENTS_PUBLISH: archive.requested (outbox); ARCHIVE_OBJECTS: the presigned download, and
        # DELETE removes the archive's object (and aborts a running job's upload); CACHE: the per-user
        # rate limit.
        uses=frozenset({Uses.DATABASE, Uses.EVENTS_PUBLISH, Uses.ARCHIVE_OBJECTS, Uses.CACHE}),
    ),
    Function(
        name="archiver",
        description="Builds the ZIP an archive.requested event asks for: streams ZIP64 into an S3 "
                    "multipart upload (bounded memory), reports progress, announces zip.ready",
        memory_mb=1024,  # CPU and network scale with memory; the ZIP holds ~3 parts of 32 MiB at once
        timeout_s=900,  # Lambda's longest: ARCHIVE_MAX_BYTES (16 GiB) at ~40 MB/s and more
        # LATEST: a new group has no jobs behind it (a job queued before the mapping existed is
        # re-announced by the sweeper). batch_size 20: most records are other types, acknowledged unread.
        triggers=(KafkaTrigger(EVENTS_TOPIC, consumer_group="fileshare-archiver", batch_size=20,
                               starting_position="LATEST"),),
        # BUCKET_READ: the sources (u/*); ARCHIVE_OBJECTS: the ZIP's multipart upload under a/*.
        uses=frozenset({Uses.DATABASE, Uses.EVENTS_PUBLISH, Uses.BUCKET_READ, Uses.ARCHIVE_OBJECTS}),
    ),
    Function(
        name="pusher",
        description="Push to browsers: the WebSocket API's routes ($connect checks the id token, "
                    "$disconnect, resume from a cursor) and events -> each reader's connections "
                    "through @connections",
        memory_mb=256,
        timeout_s=29,  # it serves the socket's routes too (API Gateway's longest integration)
        # One function for the routes and the consumer: the stage's root stack holds the WebSocket API
        # (the endpoint in the function's environment and the integration naming the function would be
        # a cycle across a nested stack), and each function costs ~10 resources there.
        socket_routes=(SocketRoute("$connect"), SocketRoute("$disconnect"), SocketRoute("resume"),
                       SocketRoute("$default")),
        # LATEST: pushes are for who is connected now; a client that missed some resumes from the
        # outbox with its cursor.
        triggers=(KafkaTrigger(EVENTS_TOPIC, consumer_group="fileshare-pusher", batch_size=100,
                               starting_position="LATEST", max_retries=1),),
        # DATABASE: a file's readers and the replay from the outbox; CACHE: the connections
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.SOCKETS}),
    ),
    Function(
        name="sweeper",
        description="Expiry sweeper: expired files and trash past retention go down the purge path; "
                    "finishes purges that stalled; rejects uploads that never arrived",
        memory_mb=256,
        timeout_s=120,
        triggers=(ScheduleTrigger(every_seconds=300, local_every_seconds=15),),
        # The purge uses (CACHE, SEARCH, BUCKET_DELETE) finish stalled purges without a new event;
        # BUCKET_DELETE also aborts and deletes abandoned uploads; EMAIL sends link download digests;
        # ARCHIVE_OBJECTS: expired archives are deleted, dead archive jobs' uploads aborted.
        uses=frozenset({Uses.DATABASE, Uses.CACHE, Uses.SEARCH, Uses.EVENTS_PUBLISH, Uses.BUCKET_DELETE,
                        Uses.EMAIL, Uses.ARCHIVE_OBJECTS}),
    ),
)


LOCAL_PREFIX = "fileshare"  # physical names on the local stack; the cloud uses fileshare-<stage>
TEST_PREFIX = "fileshare-test"  # the namespace `make test` uses on the same local services
#: Names the local runtime which namespace it serves (written into each namespace's env file).
NAMESPACE_ENV = "FILESHARE_LOCAL_PREFIX"


@dataclass(frozen=True)
class LocalNamespace:
    """One set of physical resource names on the local stack's shared services.

    ``make dev`` uses the ``fileshare`` namespace (``.local/stack.env``), ``make test`` the
    ``fileshare-test`` one (``.local/test.env``): its own database, bucket, queues, topic, consumer
    groups, search alias, user pool, Redis database and gateway port, so a developer's files and
    accounts never mix with the tests' and ``make dev``'s consumers never see the tests' events.
    Both are provisioned by the same code (``stackctl``) and bootstrapped by the same function.
    """

    prefix: str = LOCAL_PREFIX
    env_file_name: str = "stack.env"
    redis_db: int = 0
    gateway_port: int = 8080

    @property
    def is_dev(self) -> bool:
        return self.prefix == LOCAL_PREFIX

    def physical(self, name: str) -> str:
        """A dev-namespace name (``fileshare-…`` or ``fileshare.…``) in this namespace; other names
        (a test's own topic or group) and names already in this namespace are kept as they are."""
        for sep in ("-", "."):
            if name.startswith(self.prefix + sep):
                return name
        for sep in ("-", "."):
            if name.startswith(LOCAL_PREFIX + sep):
                return self.prefix + name[len(LOCAL_PREFIX):]
        return name

    def queue(self, logical: str) -> str:
        """A logical queue's name (``uploads``, ``notifier-failures``) in LocalStack SQS."""
        return f"{self.prefix}-{logical}"

    @property
    def bucket(self) -> str:
        return f"{self.prefix}-uploads"

    @property
    def database(self) -> str:
        return self.prefix.replace("-", "_")

    @property
    def events_topic(self) -> str:
        return self.physical(EVENTS_TOPIC)

    @property
    def search_alias(self) -> str:
        return "files" if self.is_dev else f"{self.prefix}-files"

    @property
    def user_pool(self) -> str:
        return self.prefix

    @property
    def user_pool_client(self) -> str:
        return f"{self.prefix}-web"

    @property
    def ssm_prefix(self) -> str:
        return f"/{self.prefix}/local"

    @property
    def web_origin(self) -> str:
        return f"http://localhost:{self.gateway_port}"

    @property
    def socket_port(self) -> int:
        """The local WebSocket API's port (in AWS the API has a host of its own, too)."""
        return self.gateway_port + 10

    @property
    def push_endpoint(self) -> str:
        """The local @connections endpoint (served by the gateway), as ``PUSH_ENDPOINT`` names it."""
        return f"http://127.0.0.1:{self.gateway_port}/_ws/{SOCKET_API.stage}"

    @property
    def web_origins(self) -> tuple[str, ...]:
        return (self.web_origin, f"http://127.0.0.1:{self.gateway_port}")

    def env(self) -> dict[str, str]:
        """The namespace-wide variables (the services add their own endpoints and ids)."""
        return {NAMESPACE_ENV: self.prefix, "EVENTS_TOPIC": self.events_topic,
                "SEARCH_ALIAS": self.search_alias, "GATEWAY_PORT": str(self.gateway_port),
                "WEB_ORIGIN": self.web_origin, "PUBLIC_BASE_URL": self.web_origin,
                "PUSH_ENDPOINT": self.push_endpoint, "SOCKET_URL": f"ws://127.0.0.1:{self.socket_port}"}


DEV_NAMESPACE = LocalNamespace()
TEST_NAMESPACE = LocalNamespace(TEST_PREFIX, env_file_name="test.env", redis_db=1, gateway_port=8081)


def namespace_of(env: Mapping[str, str]) -> LocalNamespace:
    """The namespace an environment (a namespace's env file) belongs to; dev when it does not say."""
    prefix = env.get(NAMESPACE_ENV, LOCAL_PREFIX)
    for namespace in (DEV_NAMESPACE, TEST_NAMESPACE):
        if namespace.prefix == prefix:
            return namespace
    return LocalNamespace(prefix)


def local_queue_name(queue: str, namespace: LocalNamespace = DEV_NAMESPACE) -> str:
    """A logical queue's name on the local stack (LocalStack SQS)."""
    return namespace.queue(queue)


def queue_url_env(queue: str) -> str:
    """The environment variable holding a logical queue's URL, e.g. ``notifier-failures`` ->
    ``NOTIFIER_FAILURES_QUEUE_URL``; the upload queue keeps its historical ``UPLOAD_QUEUE_URL``.

    The stack manager writes these into ``.local/stack.env``; the local runtime reads them.
    """
    if queue == UPLOAD_QUEUE:
        return "UPLOAD_QUEUE_URL"
    return "".join(c if c.isalnum() else "_" for c in queue).upper() + "_QUEUE_URL"


def failure_queues(functions: Iterable[Function] | None = None) -> dict[str, Function]:
    """Logical failure-queue name -> its function, for every function that has one."""
    return {fn.failure_queue: fn for fn in (FUNCTIONS if functions is None else functions)
            if fn.failure_queue}


def deploy_functions(functions: Iterable[Function] | None = None) -> list[Function]:
    """The functions that run on every deploy (the bootstrap)."""
    return [fn for fn in (FUNCTIONS if functions is None else functions)
            if any(isinstance(t, DeployTrigger) for t in fn.triggers)]


def by_name(name: str) -> Function:
    for function in FUNCTIONS:
        if function.name == name:
            return function
    raise KeyError(name)


def all_routes() -> list[tuple[Route, Function]]:
    return [(route, fn) for fn in FUNCTIONS for route in fn.routes]


def socket_routes(functions: Iterable[Function] | None = None) -> dict[str, Function]:
    """The WebSocket API's route keys -> the function serving each (CDK and the local gateway)."""
    table: dict[str, Function] = {}
    for fn in FUNCTIONS if functions is None else functions:
        for route in fn.socket_routes:
            if route.route_key in table:
                raise ValueError(f"{route.route_key} declared by {table[route.route_key].name} and {fn.name}")
            table[route.route_key] = fn
    return table
