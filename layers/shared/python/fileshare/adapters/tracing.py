"""OpenTelemetry traces: one trace per upload, from the API request to the notifier.

Tracing is on when ``OTEL_TRACES_EXPORTER`` (OpenTelemetry's own variable) names an exporter:

- ``otlp`` in AWS: OTLP/HTTP to the ADOT collector extension (a Lambda layer, ``infra/functions.py``)
  on ``localhost:4318``, which sends the spans to X-Ray with ``PutTraceSegments``. Trace ids carry
  their start time in the first 32 bits (``AwsXRayIdGenerator``), as X-Ray requires.
- ``zipkin`` locally: Zipkin's JSON API (``OTEL_EXPORTER_ZIPKIN_ENDPOINT``), the server ``make up``
  starts (``localstack/stackctl/services/zipkin.py``).

Unset (unit tests, tools), nothing of OpenTelemetry is imported and every helper here is a no-op.
The SDK is set up at the first span, not at import, so an invocation that traces nothing pays
nothing, and SnapStart warms it before the snapshot (``fileshare.adapters.snapstart``).

What is traced: each invocation (Powertools' ``capture_lambda_handler`` and ``capture_method``
through :class:`PowertoolsProvider`), the API request (:func:`span` in ``fileshare.api``), every AWS
call (botocore instrumentation), every SQL statement (psycopg instrumentation, statements without
their parameters), every OpenSearch request (:func:`opensearch_transport`), each Kafka record
produced (``fileshare.events``) and consumed (``fileshare.consumers``). Every span carries the
correlation id and file id the function logs under when it starts (``fileshare.correlation_id``,
``fileshare.file_id``).

The trace context crosses each hop as a W3C ``traceparent``: S3 object metadata
(``x-amz-meta-traceparent``, set by the presigned POST and the multipart upload), the outbox row
(its ``traceparent`` column, so the relay publishes in the producer's trace too) and the Kafka
record header. Spans are batched and sent when an invocation's or a record's span ends, so nothing
waits in a frozen Lambda environment.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

if TYPE_CHECKING:
    from opensearchpy import Transport
    from opentelemetry.trace import Span, Tracer

EXPORTER_ENV = "OTEL_TRACES_EXPORTER"
EXPORTERS = ("otlp", "zipkin")
TRACEPARENT = "traceparent"  # the W3C header: Kafka header, S3 metadata key, outbox column
CORRELATION_ATTRIBUTE = "fileshare.correlation_id"
FILE_ATTRIBUTE = "fileshare.file_id"  # what `make trace FILE=<id>` asks Zipkin for
FLUSH_TIMEOUT_MS = 2_000  # at the end of an invocation or record: the collector is on localhost
INSTRUMENTATION = "fileshare"

_lock = threading.Lock()
_tracer: Tracer | None = None
_flush_after: dict[int, bool] = {}  # span ids whose end sends the batch (invocations, records)


def exporter_name() -> str | None:
    """The exporter tracing uses, or None when tracing is off."""
    name = os.environ.get(EXPORTER_ENV, "").strip().lower()
    return name if name in EXPORTERS else None


def enabled() -> bool:
    return exporter_name() is not None


def setup() -> Tracer | None:
    """Set the SDK up once per process (idempotent): the tracer, or None when tracing is off."""
    global _tracer
    if _tracer is not None or not enabled():
        return _tracer
    with _lock:
        if _tracer is None:
            _tracer = _build()
    return _tracer


def _build() -> Tracer:
    from opentelemetry import trace
    from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = (os.environ.get("OTEL_SERVICE_NAME") or os.environ.get("POWERTOOLS_SERVICE_NAME")
            or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "fileshare")
    # Resource(...) rather than Resource.create: no resource detectors read from entry points
    resource = Resource({"service.name": name, "cloud.provider": "aws", "faas.name": name,
                         "cloud.region": os.environ.get("AWS_REGION", "")})
    provider = TracerProvider(resource=resource, id_generator=AwsXRayIdGenerator())
    provider.add_span_processor(_processor(BatchSpanProcessor(_exporter())))
    trace.set_tracer_provider(provider)
    _instrument(provider)
    return provider.get_tracer(INSTRUMENTATION)


def _exporter() -> Any:
    if exporter_name() == "zipkin":  # OTEL_EXPORTER_ZIPKIN_ENDPOINT, set by the local stack
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        return ZipkinExporter()
    # OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OpenTelemetry's default is the collector on localhost:4318
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _instrument(provider: Any) -> None:
    """botocore (every AWS call) and psycopg (every statement, without parameters)."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    # skip_dep_check: the versions are pinned by the lock; the check would scan package metadata
    BotocoreInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    PsycopgInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True,
                                     enable_commenter=False, capture_parameters=False)


def _processor(batch: Any) -> Any:
    """A span processor around ``batch`` that labels each span with the correlation and file ids and
    flushes when an invocation's or a record's span ends (:func:`span` with ``flush``). Spans outside
    those (a function without a traced handler) go with the batch's schedule or at exit: flushing
    each would cost an export per SQL statement."""
    from opentelemetry.sdk.trace import SpanProcessor

    class _FlushAtLocalRoot(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            for attribute, value in _log_keys().items():
                span.set_attribute(attribute, value)
            batch.on_start(span, parent_context=parent_context)

        def on_end(self, span: Any) -> None:
            batch.on_end(span)
            if _flush_after.pop(span.context.span_id, None) is not None:
                batch.force_flush(FLUSH_TIMEOUT_MS)

        def shutdown(self) -> None:
            batch.shutdown()

        def force_flush(self, timeout_millis: int = 30_000) -> bool:
            return bool(batch.force_flush(timeout_millis))

    return _FlushAtLocalRoot()


_current_log_keys: Callable[[], Mapping[str, Any]] = dict


def read_log_keys_from(current_keys: Callable[[], Mapping[str, Any]]) -> None:
    """Where spans find the keys the function logs under (the one Logger's, set by
    ``fileshare.adapters.observability``, which imports this module)."""
    global _current_log_keys
    _current_log_keys = current_keys


def _log_keys() -> dict[str, str]:
    """The correlation id and file id the function logs under now, as span attributes."""
    keys = _current_log_keys()
    values = {CORRELATION_ATTRIBUTE: keys.get("correlation_id"), FILE_ATTRIBUTE: keys.get("file_id")}
    return {name: str(value) for name, value in values.items() if value}


def flush() -> None:
    """Send what is batched (tests; the end of a process)."""
    if _tracer is not None:
        from opentelemetry import trace

        provider: Any = trace.get_tracer_provider()
        provider.force_flush(FLUSH_TIMEOUT_MS)


# --- Spans --------------------------------------------------------------------------------------


@contextmanager
def span(name: str, *, kind: str = "internal", parent: str | None = None,
         attributes: Mapping[str, Any] | None = None, flush: bool = False) -> Iterator[Span | None]:
    """A span around the block (None when tracing is off). ``kind`` is OpenTelemetry's
    (``server``, ``client``, ``producer``, ``consumer``, ``internal``); ``parent`` a W3C traceparent
    the span continues (a record's, an object's), else the current span is the parent. With
    ``flush`` (an invocation's or a record's span) its end sends every span batched so far."""
    tracer = setup()
    if tracer is None:
        yield None
        return
    from opentelemetry.trace import SpanKind

    context = _extract(parent) if parent else None
    with tracer.start_as_current_span(name, context=context, kind=SpanKind[kind.upper()],
                                      attributes=dict(attributes or {})) as current:
        if flush:
            _flush_after[current.get_span_context().span_id] = True
        yield current


def _extract(traceparent: str) -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({TRACEPARENT: traceparent})


def traceparent() -> str | None:
    """The current span as a W3C traceparent, or None (tracing off, no span)."""
    if _tracer is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get(TRACEPARENT)


def traceparent_of(metadata: Mapping[str, Any] | None) -> str | None:
    """The traceparent an S3 object's metadata or a record's decoded headers carry, if any."""
    value = (metadata or {}).get(TRACEPARENT)
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return value if isinstance(value, str) and value else None


def trace_id_of(traceparent_value: str | None) -> str | None:
    """The 32-hex trace id of a traceparent (``00-<trace id>-<span id>-<flags>``)."""
    parts = (traceparent_value or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def opensearch_transport() -> type[Transport]:
    """opensearch-py's ``Transport`` with a client span around every request (method and path;
    never the body, which holds the file's name and the caller's query)."""
    from opensearchpy import Transport

    class TracedTransport(Transport):
        def perform_request(self, method: str, url: str, params: Any = None, body: Any = None,
                            timeout: Any = None, ignore: Any = (), headers: Any = None) -> Any:
            attributes = {"db.system.name": "opensearch", "http.request.method": method, "url.path": url}
            with span(f"opensearch {method} {_path_template(url)}", kind="client", attributes=attributes):
                return super().perform_request(method, url, params=params, body=body, timeout=timeout,
                                               ignore=ignore, headers=headers)

    return TracedTransport


def _path_template(url: str) -> str:
    """A low-cardinality span name: the first path segment and the endpoint (``_search``, ``_doc``)."""
    parts = [p for p in url.split("/") if p]
    endpoint = next((p for p in parts if p.startswith("_")), "")
    return "/".join(p for p in (parts[0] if parts else "", endpoint) if p) or "/"


# --- Powertools' Tracer on OpenTelemetry ---------------------------------------------------------


class _SpanSegment(BaseSegment):
    """Powertools' segment interface over an OpenTelemetry span (or nothing when tracing is off)."""

    def __init__(self, current: Span | None) -> None:
        self._span = current

    def close(self, end_time: int | None = None) -> None:
        """The span ends with its block."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Children are spans of their own."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Children are spans of their own."""

    def put_annotation(self, key: str, value: Any) -> None:
        if self._span is not None:
            self._span.set_attribute(key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Dropped: metadata is the handler's response or a method's result (captured off in AWS)."""

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        if self._span is not None:
            from opentelemetry.trace import Status, StatusCode

            self._span.record_exception(exception)
            self._span.set_status(Status(StatusCode.ERROR, type(exception).__name__))


def _outermost() -> bool:
    """No span is open in this process: the segment about to start is the invocation's."""
    if _tracer is None:
        return True
    from opentelemetry import trace

    return not trace.get_current_span().get_span_context().is_valid


class PowertoolsProvider(BaseProvider):
    """The provider of Powertools' ``Tracer``: its handler and method segments become spans."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Iterator[BaseSegment]:
        with span(str(name or "segment"), flush=_outermost()) as current:
            yield _SpanSegment(current)

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        with span(str(name or "segment"), flush=_outermost()) as current:
            yield _SpanSegment(current)

    def put_annotation(self, key: str, value: Any) -> None:
        if _tracer is not None:
            from opentelemetry import trace

            trace.get_current_span().set_attribute(key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Dropped, as on segments."""

    def patch(self, modules: Sequence[str]) -> None:
        """Instrumentation is :func:`setup`'s (botocore, psycopg), whatever Powertools asks."""

    def patch_all(self) -> None:
        """As :meth:`patch`."""


# --- The hops: the API request, a consumed record ------------------------------------------------


@contextmanager
def request_span(event: Mapping[str, Any]) -> Iterator[Span | None]:
    """The server span of an API Gateway (REST) request, named by its route template
    (``POST /files/{file_id}``): never the concrete path, which may hold a link's token. Each
    request starts its trace (a caller's ``traceparent`` header is not trusted to join one)."""
    method = str(event.get("httpMethod") or "?")
    route = str(event.get("resource") or "unknown")
    with span(f"{method} {route}", kind="server", flush=True,
              attributes={"http.request.method": method, "http.route": route}) as current:
        yield current


def record_span(name: str, headers: Mapping[str, Any] | None, **attributes: Any) -> Any:
    """The consumer span of one record, continuing the trace its ``traceparent`` header carries."""
    return span(name, kind="consumer", parent=traceparent_of(headers), flush=True,
                attributes={k: v for k, v in attributes.items() if v is not None})
