"""The one declaration of Fileshare's functions, API routes and triggers.

Both the CDK app (``infra/``) and the local runtime (``localstack/runtime``) read this module, so
the cloud and the laptop cannot drift apart; ``tests/infra`` proves they match. It imports nothing
but the standard library so the local runtime can load it without the CDK.

A function says *what* it uses (``uses``); the CDK turns that into least-privilege grants and
environment variables, and the local runtime into environment variables pointing at local services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"

EVENTS_TOPIC = "fileshare.events"
UPLOAD_QUEUE = "uploads"


class Uses(str, Enum):
    """Resources a function may touch; each maps to grants in CDK and env vars locally."""

    DATABASE = "database"
    CACHE = "cache"
    SEARCH = "search"
    EVENTS_PUBLISH = "events_publish"
    BUCKET_READ = "bucket_read"  # GetObject/HeadObject on u/* and derived prefixes, presign GET
    BUCKET_WRITE = "bucket_write"  # PutObject on u/* (presigned POST, multipart) and t/* thumbnails
    BUCKET_DELETE = "bucket_delete"  # DeleteObject on u/* and t/*
    USER_POOL = "user_pool"
    EMAIL = "email"
    LINK_SECRET = "link_secret"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. "/files/{file_id}"
    auth: bool = True  # Cognito user-pool authorizer on this route


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


@dataclass(frozen=True)
class ScheduleTrigger:
    every_seconds: int  # cloud: EventBridge Scheduler rate(); locally a timer
    local_every_seconds: int | None = None  # faster cadence on a laptop, if different


Trigger = SqsTrigger | KafkaTrigger | ScheduleTrigger


@dataclass(frozen=True)
class Function:
    name: str  # folder under functions/, and the function's logical name
    description: str
    handler: str = "handler.lambda_handler"  # module.attribute inside the function folder
    memory_mb: int = 256
    timeout_s: int = 10
    routes: tuple[Route, ...] = ()
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


FUNCTIONS: tuple[Function, ...] = (
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
)


def by_name(name: str) -> Function:
    for function in FUNCTIONS:
        if function.name == name:
            return function
    raise KeyError(name)


def all_routes() -> list[tuple[Route, Function]]:
    return [(route, fn) for fn in FUNCTIONS for route in fn.routes]
