"""Phase (a): one cold start per declared function, measured while nothing else runs.

The bench runs the local runtime's own ``lambdarun.runtime.Runtime`` in this process (the same
worker pool the gateway uses, so the same spawn + import + invoke path), one function at a time,
with no gateway, poller or schedule of its own. Each function gets a representative first event:

- API functions: a REST proxy event for one of their routes (``GET /files/{id}`` for files, ...),
  with an authorizer's claims for a throwaway caller (answers may be 4xx: it is the path that counts);
- the SQS processor: an S3 ``ObjectCreated`` notification for a key with no file row (one lookup);
- Kafka consumers: a ``file.deleted`` event for a file that does not exist (each consumer does its
  real, idempotent work for it: the notifier finds no recipient, the indexer removes no document,
  the deleter purges nothing);
- scheduled functions: EventBridge's ``Scheduled Event`` (a real run of the relay or the sweep).

The baseline: a minimal Powertools REST handler (``tests/bench/baseline``), cold-started in the same
worker pool at the start and the end of every round; each function's Init Duration is reported as a
ratio of the baseline's median, so the goal (API functions at most 0.6x, the others 0.8x) does not
move with the machine. Tracing is on, as deployed (``POWERTOOLS_TRACE_DISABLED=false``).

Before each cold start the bench waits (up to 3 s) for a moment when the machine is under 30 % busy;
the machine's busy share during the invoke is recorded (on 2 cores the cold start alone is ~50 %).
Per function and round: Init Duration (interpreter start + handler import, what Lambda reports),
the import alone, the first invoke's duration, and a second (warm) invoke for comparison. With
several rounds each function is cold-started again in a fresh process; the median is reported.
"""

from __future__ import annotations

import json
import secrets
import statistics
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.bench.common import REPO_ROOT, STOP, CpuMeter, wait_cpu_quiet

LOG_DIR = REPO_ROOT / ".local" / "logs" / "lambda-bench-cold"
BASELINE_DIR = Path(__file__).resolve().parent  # tests/bench/baseline/handler.py
BASELINE = "baseline"
RATIO_GOAL_API, RATIO_GOAL_OTHER = 0.6, 0.8
AS_DEPLOYED = {"POWERTOOLS_TRACE_DISABLED": "false"}  # tracing on, as CDK configures every function
CLUSTER_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/fileshare-local/bench"

#: The route each API function's first invoke goes to; others fall back to their first GET route
#: (``tests/unit/test_coldstart_probes.py`` fails an API function without one: a placeholder path
#: parameter would be a 422 from validation, and the first invoke would measure no real work).
API_PROBES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "meta": ("GET", "/health", None),
    "auth": ("POST", "/auth/login", {"email": "nobody-bench@example.com", "password": "Not-a-user-1"}),
    "files": ("GET", "/files/{uuid}", None),
    "search": ("GET", "/search?q=report", None),
    "sharing": ("GET", "/shared-with-me", None),
    "public_link": ("GET", "/s/{token}", None),
    "notifications": ("GET", "/notifications", None),
    "trash": ("GET", "/trash", None),
    "activity": ("GET", "/files/{uuid}/activity", None),  # a real id: the first invoke reaches the DB
    "archives": ("GET", "/archives/{uuid}", None),
}


def _api_event(runtime: Any, method: str, target: str, body: dict[str, Any] | None,
               claims: Mapping[str, str]) -> dict[str, Any]:
    from lambdarun.events import rest_event

    target = target.replace("{uuid}", str(uuid.uuid4())).replace("{token}", secrets.token_urlsafe(32))
    path, _, query = target.partition("?")
    match = runtime.routes.match(method, path)
    if match.route is None or match.resource is None:
        raise LookupError(f"no route for {method} {path}")
    raw = json.dumps(body).encode() if body is not None else b""
    headers = [("Host", "localhost:8080"), ("Accept", "application/json"), ("User-Agent", "fileshare-bench")]
    if body is not None:
        headers.append(("Content-Type", "application/json"))
    return rest_event(method=method, path=path, query=query, headers=headers, body=raw,
                      resource=match.resource.path, path_parameters=match.path_parameters,
                      source_ip="127.0.0.1", claims=dict(claims) if match.route.auth else None)


def _probe_target(fn: Any) -> tuple[str, str, dict[str, Any] | None]:
    if fn.name in API_PROBES:
        return API_PROBES[fn.name]
    route = next((r for r in fn.routes if r.method == "GET"), fn.routes[0])
    return route.method, route.path.replace("{", "").replace("}", ""), None


def probe_event(fn: Any, runtime: Any, env: Mapping[str, str], claims: Mapping[str, str]) -> tuple[str, Any]:
    """(what it is, the event) for ``fn``'s measured first invoke."""
    from fileshare.event_types import Event, EventType
    from infra.declaration import DeployTrigger, KafkaTrigger, ScheduleTrigger, SqsTrigger
    from lambdarun.events import KafkaRecord, msk_event, scheduled_event, sqs_event

    region = env.get("AWS_REGION", "us-east-1")
    if fn.name == BASELINE:
        return "GET /hello", _api_event(runtime, "GET", "/hello", None, claims)
    if fn.routes:
        method, target, body = _probe_target(fn)
        return f"{method} {target.split('?')[0]}", _api_event(runtime, method, target, body, claims)
    trigger = fn.triggers[0]
    if isinstance(trigger, SqsTrigger):
        key = f"u/{claims['sub']}/{uuid.uuid4()}/bench-cold.bin"
        body = {"Records": [{"eventName": "ObjectCreated:Post", "s3": {
            "bucket": {"name": env.get("UPLOAD_BUCKET", "fileshare-uploads")},
            "object": {"key": key, "size": 1, "eTag": "0"}}}]}
        message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "bench", "Body": json.dumps(body),
                   "Attributes": {"ApproximateReceiveCount": "1"}}
        arn = f"arn:aws:sqs:{region}:000000000000:{trigger.queue}"
        return "SQS: S3 ObjectCreated, no file row", sqs_event([message], arn, region)
    if isinstance(trigger, KafkaTrigger):
        event = Event(type=EventType.FILE_DELETED, file_id=uuid.uuid4(), owner_id=claims["sub"],
                      data={"name": "bench-cold.bin"})
        record = KafkaRecord(topic=trigger.topic, partition=0, offset=0, timestamp=int(time.time() * 1000),
                             timestamp_type=0, key=str(event.file_id).encode(), value=event.to_json())
        bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS", "")
        return ("Kafka: file.deleted, unknown file",
                msk_event([record], cluster_arn=CLUSTER_ARN, bootstrap=bootstrap))
    if isinstance(trigger, ScheduleTrigger):
        return "schedule", scheduled_event(f"arn:aws:events:{region}:000000000000:rule/{fn.name}", region)
    if isinstance(trigger, DeployTrigger):  # Delete touches nothing: the import is what is measured
        return "deploy: Delete", {"RequestType": "Delete", "PhysicalResourceId": "fileshare-bootstrap",
                                  "RequestId": str(uuid.uuid4()), "ResourceProperties": {}}
    raise TypeError(f"{fn.name}: no probe for trigger {trigger!r}")


def _outcome(inv: Any) -> str:
    """A short word on what the invoke answered: an HTTP status, failed batch items, or an error."""
    if not inv.ok:
        return f"error {(inv.error or {}).get('errorType')}"
    result = inv.result
    if isinstance(result, dict) and "statusCode" in result:
        return f"HTTP {result['statusCode']}"
    if isinstance(result, dict) and result.get("batchItemFailures"):
        return f"{len(result['batchItemFailures'])} item(s) failed"
    return "ok"


def baseline_function() -> Any:
    from infra.declaration import Function, Route

    return Function(name=BASELINE, description="minimal Powertools REST handler (the ratio's baseline)",
                    routes=(Route("GET", "/hello", auth=False),))


def measure_cold_starts(env: Mapping[str, str], *, rounds: int = 3, pause_s: float = 0.3,
                        quiet_limit_s: float = 3.0,
                        log_dir: Path = LOG_DIR) -> dict[str, Any]:
    """Cold-start every declared function ``rounds`` times, one at a time, between two cold starts
    of the baseline; per-function numbers, each with its ratio to the baseline's Init Duration."""
    from infra.declaration import FUNCTIONS
    from lambdarun.runtime import Runtime

    env = {**env, **AS_DEPLOYED}
    claims = {"sub": f"bench-cold-{uuid.uuid4().hex[:12]}", "email": "bench-cold@example.com",
              "email_verified": "true", "token_use": "id"}
    baseline = baseline_function()
    samples: dict[str, list[dict[str, Any]]] = {fn.name: [] for fn in (baseline, *FUNCTIONS)}
    probes: dict[str, str] = {}
    for _ in range(rounds):
        runtime = Runtime(FUNCTIONS, base_env=dict(env), log_dir=log_dir, max_concurrency=1)
        references = [Runtime([baseline], base_env=dict(env), code_root=BASELINE_DIR, log_dir=log_dir,
                              max_concurrency=1) for _ in range(2)]
        try:
            order = [(references[0], baseline), *((runtime, fn) for fn in FUNCTIONS),
                     (references[1], baseline)]
            for pool_of, fn in order:
                if STOP.is_set():
                    break
                time.sleep(pause_s)  # the previous function's process is gone; nothing else of ours runs
                before = wait_cpu_quiet(limit_s=quiet_limit_s)  # and, within reason, nobody else's either
                what, event = probe_event(fn, pool_of, env, claims)
                probes[fn.name] = what
                cpu = CpuMeter().start()
                first = pool_of.invoke(fn.name, event)
                busy = cpu.busy_pct()
                _, again = probe_event(fn, pool_of, env, claims)
                second = pool_of.invoke(fn.name, again)
                pool_of.pools[fn.name].close()  # one worker process alive at a time
                samples[fn.name].append({
                    "cold": first.cold, "init_ms": first.init_ms, "import_ms": first.import_ms,
                    "first_invoke_ms": round(first.duration_ms, 2),
                    "warm_invoke_ms": round(second.duration_ms, 2),
                    "outcome": _outcome(first), "warm_outcome": _outcome(second), "machine_busy_pct": busy,
                    "busy_before_pct": before,
                    "max_memory_mb": round(first.max_memory_mb, 1)})
        finally:
            runtime.close()
            for reference in references:
                reference.close()
    results = {name: _aggregate(probes.get(name, ""), runs) for name, runs in samples.items()}
    base = results[BASELINE]["init_ms"]
    base_request = results[BASELINE]["cold_request_ms"]
    for name, result in results.items():
        fn = next((f for f in FUNCTIONS if f.name == name), None)
        goal = RATIO_GOAL_API if (fn is None or fn.routes) else RATIO_GOAL_OTHER
        result["ratio"] = round(result["init_ms"] / base, 2) if base and result["init_ms"] else None
        # Init Duration + the first invoke against the baseline's: what a cold caller waits, so an
        # import moved from init into the first invoke (X-Ray, boto3) shows here, not as a gain
        result["cold_request_ratio"] = (round(result["cold_request_ms"] / base_request, 2)
                                        if base_request and result["cold_request_ms"] else None)
        result["ratio_goal"] = None if name == BASELINE else goal
        result["snap_start"] = bool(fn and fn.snap_start)  # in AWS its Init runs at publish, not here
    return results


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def _aggregate(probe: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    init = [r["init_ms"] for r in runs]
    imports = [r["import_ms"] for r in runs]
    return {
        "probe": probe,
        "rounds": len(runs),
        "init_ms": _median(init),  # Lambda's Init Duration: interpreter start + handler import
        "init_ms_max": max((v for v in init if v is not None), default=None),
        "import_ms": _median(imports),
        "interpreter_ms": _median([i - m for i, m in zip(init, imports, strict=True)
                                   if i is not None and m is not None]),
        "first_invoke_ms": _median([r["first_invoke_ms"] for r in runs]),
        "cold_request_ms": _median([i + r["first_invoke_ms"] for i, r in zip(init, runs, strict=True)
                                    if i is not None]),
        "warm_invoke_ms": _median([r["warm_invoke_ms"] for r in runs]),
        "outcome": runs[-1]["outcome"] if runs else None,
        "all_cold": all(r["cold"] for r in runs),
        "machine_busy_pct": _median([r["machine_busy_pct"] for r in runs]),
        "max_memory_mb": _median([r["max_memory_mb"] for r in runs]),
        "runs": runs,
    }
