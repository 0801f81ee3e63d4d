"""The local ops page: the dashboard panels of ``infra.panels`` plotted from the local runtime's logs.

What CloudWatch would compute from the functions' EMF documents and Lambda's REPORT lines is
computed here from ``.local/logs/lambda/<function>.log``, where the local runtime writes both:
``Fileshare`` metrics come from the EMF documents (matched by name and dimension set, as CloudWatch
extracts them), ``AWS/Lambda`` Errors / Duration / Throttles from the REPORT lines, ``AWS/ApiGateway``
from the local gateway's own EMF lines (``gateway.log``), the queues' depth from LocalStack SQS at
page load (SQS keeps no history; a dead-letter queue that is not empty is listed as lost work).
Panels fed only by services that do not exist locally (MSK, OpenSearch Service, Aurora,
ElastiCache) and the SQS message age are drawn empty with a note. Each SLO of ``infra.slos`` gets
its bad fraction over the page's window and its burn rate, and each lost-work alarm the value it
would see.

Served by the local gateway at ``GET /ops`` (HTML with inline SVG) and ``GET /ops.json``.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.declaration import FUNCTIONS, Function, local_queue_name, namespace_of
from infra.panels import consumer_queues, dead_letter_queues, panels
from infra.slos import API_STAGE, LOST_WORK, SLOS, LatencySlo, MetricSpec, Slo

BUCKET_S = 30
WINDOW_S = 900
_REPORT = re.compile(r"^REPORT RequestId: (?P<id>\S+)\tDuration: (?P<ms>[\d.]+) ms(?P<rest>.*)$")
_LAMBDA_FN = re.compile(r"^\{prefix\}-(?P<fn>.+)$")
LOCAL_API_NAME = "fileshare-local"  # ``{prefix}`` of the API's own dimensions, locally


@dataclass(frozen=True)
class Point:
    """One value of one metric as CloudWatch would store it."""

    namespace: str
    name: str
    dimensions: frozenset[tuple[str, str]]
    timestamp: float  # seconds
    value: float


def emf_points(document: dict[str, Any]) -> Iterator[Point]:
    """The metric values an EMF document holds, one per dimension set (CloudWatch's extraction)."""
    meta = document.get("_aws")
    if not isinstance(meta, dict):
        return
    when = float(meta.get("Timestamp", 0)) / 1000
    for directive in meta.get("CloudWatchMetrics", []):
        namespace = directive.get("Namespace", "")
        for dims in directive.get("Dimensions", []) or [[]]:
            dimset = frozenset((d, str(document.get(d, ""))) for d in dims)
            for metric in directive.get("Metrics", []):
                raw = document.get(metric.get("Name"))
                for value in raw if isinstance(raw, list) else [raw]:
                    if isinstance(value, int | float):
                        yield Point(namespace, metric["Name"], dimset, when, float(value))


def read_log(path: Path, function: str) -> Iterator[Point]:
    """EMF points and, from REPORT lines, ``AWS/Lambda`` points of one function's log file.

    REPORT lines carry no time, so each takes the time of the last timestamped line before it.
    """
    dims = frozenset({("FunctionName", function)})
    last = path.stat().st_mtime if path.exists() else time.time()
    seen_time = False
    pending: list[tuple[float, bool]] = []
    with path.open("rb") as lines:
        for raw in lines:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith("{"):
                try:
                    document = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(document, dict):
                    continue
                if "_aws" in document:
                    points = list(emf_points(document))
                    yield from points
                    if points:
                        last, seen_time = points[0].timestamp, True
                elif isinstance(document.get("timestamp"), str):
                    when = _iso(document["timestamp"])
                    if when is not None:
                        last, seen_time = when, True
                if seen_time and pending:
                    for ms, error in pending:
                        yield from _report_points(dims, last, ms, error)
                    pending.clear()
                continue
            match = _REPORT.match(line)
            if match:
                error = "Status: error" in match["rest"]
                if seen_time:
                    yield from _report_points(dims, last, float(match["ms"]), error)
                else:
                    pending.append((float(match["ms"]), error))
    for ms, error in pending:
        yield from _report_points(dims, last, ms, error)


def _report_points(dims: frozenset[tuple[str, str]], when: float, ms: float, error: bool) -> Iterator[Point]:
    yield Point("AWS/Lambda", "Duration", dims, when, ms)
    yield Point("AWS/Lambda", "Errors", dims, when, 1.0 if error else 0.0)
    yield Point("AWS/Lambda", "Invocations", dims, when, 1.0)
    yield Point("AWS/Lambda", "Throttles", dims, when, 0.0)  # the local pools queue, never throttle


def _iso(text: str) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace(",", ".")).timestamp()
    except ValueError:
        return None


def api_gateway_emf(status: int, latency_ms: float, now: float | None = None) -> str:
    """One request as API Gateway's metrics would count it, as an EMF document."""
    names = ("Count", "4XXError", "5XXError", "Latency")
    return json.dumps({
        "_aws": {"Timestamp": int((time.time() if now is None else now) * 1000), "CloudWatchMetrics": [{
            "Namespace": "AWS/ApiGateway", "Dimensions": [["ApiName", "Stage"]],
            "Metrics": [{"Name": n, "Unit": "Milliseconds" if n == "Latency" else "Count"} for n in names]}]},
        "ApiName": LOCAL_API_NAME, "Stage": API_STAGE, "Count": 1, "4XXError": int(400 <= status < 500),
        "5XXError": int(status >= 500), "Latency": round(latency_ms, 2)})


def read_logs(log_dir: Path, functions: Sequence[Function] = FUNCTIONS) -> list[Point]:
    points: list[Point] = []
    gateway = log_dir / "gateway.log"
    if gateway.exists():
        points.extend(read_log(gateway, "gateway"))
    for fn in functions:
        path = log_dir / f"{fn.name}.log"
        if path.exists():
            points.extend(read_log(path, fn.name))
    return points


def local_dimensions(spec: MetricSpec) -> frozenset[tuple[str, str]]:
    """The dimensions a metric has locally: ``{prefix}-<fn>`` is just ``<fn>`` (the local name)."""
    dims = set()
    for key, value in spec.dimensions:
        match = _LAMBDA_FN.match(value)
        dims.add((key, match["fn"] if match else value.replace("{prefix}", LOCAL_API_NAME)))
    return frozenset(dims)


def statistic(values: Sequence[float], stat: str) -> float | None:
    """CloudWatch's statistic over ``values`` (Sum, Average, Maximum, Minimum, SampleCount, pNN, PR(:x))."""
    if not values:
        return None
    if stat == "Sum":
        return sum(values)
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat == "SampleCount":
        return float(len(values))
    if stat.startswith("p"):
        ordered = sorted(values)
        rank = max(0, math.ceil(float(stat[1:]) / 100 * len(ordered)) - 1)
        return ordered[rank]
    match = re.fullmatch(r"PR\(:(?P<hi>[\d.]+)\)", stat)
    if match:
        return 100.0 * sum(1 for v in values if v <= float(match["hi"])) / len(values)
    raise ValueError(f"unsupported statistic {stat}")


class Index:
    """Points grouped by (namespace, name, dimensions), ready to be bucketed."""

    def __init__(self, points: Iterable[Point]) -> None:
        self._by_key: dict[tuple[str, str, frozenset[tuple[str, str]]], list[Point]] = {}
        for point in points:
            self._by_key.setdefault((point.namespace, point.name, point.dimensions), []).append(point)

    def values(self, spec: MetricSpec, since: float, until: float) -> list[Point]:
        key = (spec.namespace, spec.name, local_dimensions(spec))
        return [p for p in self._by_key.get(key, []) if since <= p.timestamp < until]

    def series(self, spec: MetricSpec, since: float, until: float, bucket_s: int = BUCKET_S
               ) -> list[tuple[float, float]]:
        buckets: dict[int, list[float]] = {}
        for point in self.values(spec, since, until):
            buckets.setdefault(int(point.timestamp // bucket_s), []).append(point.value)
        result: list[tuple[float, float]] = []
        for bucket in sorted(buckets):
            value = statistic(buckets[bucket], spec.stat)
            if value is not None:
                result.append((bucket * bucket_s, value))
        return result

    def total(self, spec: MetricSpec, since: float, until: float, stat: str | None = None) -> float | None:
        return statistic([p.value for p in self.values(spec, since, until)], stat or spec.stat)


LOCAL_NAMESPACES = ("Fileshare", "AWS/Lambda", "AWS/ApiGateway")
NOT_LOCAL = {("AWS/Lambda", "ConcurrentExecutions")}
LOCAL_EXTRA = {("AWS/SQS", "ApproximateNumberOfMessagesVisible")}


def has_local_source(metric: MetricSpec) -> bool:
    key = (metric.namespace, metric.name)
    return key in LOCAL_EXTRA or (metric.namespace in LOCAL_NAMESPACES and key not in NOT_LOCAL)


def slo_status(index: Index, slo: Slo, since: float, until: float) -> dict[str, Any]:
    """The SLO's bad fraction and burn rate over [since, until) from local data (None: no samples)."""
    bad: float | None
    if isinstance(slo, LatencySlo):
        good = index.total(slo.metric, since, until, f"PR(:{slo.threshold_ms})")
        samples = len(index.values(slo.metric, since, until))
        bad = None if good is None else (100 - good) / 100
    else:
        bad_sum = sum(index.total(m, since, until, "Sum") or 0.0 for m in slo.bad)
        total = sum(index.total(m, since, until, "Sum") or 0.0 for m in slo.total)
        samples = int(total)
        bad = bad_sum / total if total else None
    budget = 1 - slo.objective
    return {"name": slo.name, "title": slo.title, "objective": slo.objective, "samples": samples,
            "bad_fraction": bad, "burn_rate": None if bad is None else bad / budget}


def queue_depths(functions: Sequence[Function], now: float) -> list[Point]:
    """The current depth of every consumer and dead-letter queue on LocalStack (SQS keeps no history,
    so one point, now); [] when SQS does not answer."""
    points = []
    try:
        import boto3  # endpoint, region and credentials from the stack's environment (AWS_ENDPOINT_URL)

        sqs = boto3.client("sqs", region_name=os.environ.get("AWS_REGION", "us-east-1"),
                           aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                           aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
        for queue in [*consumer_queues(functions), *dead_letter_queues(functions)]:
            url = sqs.get_queue_url(QueueName=local_queue_name(queue, namespace_of(os.environ)))["QueueUrl"]
            name = "ApproximateNumberOfMessages"
            depth = float(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name])
            points.append(Point("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                frozenset({("QueueName", queue)}), now, depth))
    except Exception:  # LocalStack down or a queue missing: the panel says "no data"
        return points
    return points


def snapshot(log_dir: Path, functions: Sequence[Function] = FUNCTIONS, *, window_s: int = WINDOW_S,
             now: float | None = None, sample_queues: bool = False) -> dict[str, Any]:
    """Everything the page shows, as data (``/ops.json``); ``sample_queues`` asks LocalStack SQS."""
    until = (time.time() if now is None else now) + 1
    since = until - window_s
    points = read_logs(log_dir, functions)
    queues = queue_depths(functions, until - 1) if sample_queues else []
    index = Index([*points, *queues])
    rendered = []
    for panel in panels(functions):
        local = any(has_local_source(m) for m in panel.metrics)
        rendered.append({
            "title": panel.title, "unit": panel.unit, "local": local,
            "series": [{"label": m.label, "stat": m.stat, "points": index.series(m, since, until)}
                       for m in panel.metrics],
        })
    lost = []
    for alarm in LOST_WORK:
        values = [index.total(m, since, until, alarm.stat) for m in alarm.metrics]
        present = [v for v in values if v is not None]
        value = (max(present) if alarm.stat == "Maximum" else sum(present)) if present else None
        lost.append({"name": alarm.name, "threshold": alarm.threshold, "value": value,
                     "firing": value is not None and value >= alarm.threshold})
    for point in queues:
        queue = dict(point.dimensions)["QueueName"]
        if queue in dead_letter_queues(functions):
            lost.append({"name": f"{queue}-not-empty", "threshold": 1, "value": point.value,
                         "firing": point.value >= 1})
    return {"since": since, "until": until, "window_s": window_s, "panels": rendered,
            "slos": [slo_status(index, slo, since, until) for slo in SLOS], "lost_work": lost}


# --- HTML ------------------------------------------------------------------------------------------

_COLORS = ("#2f6fdf", "#e0552f", "#2fa36b", "#9b4fd1", "#d1a13b", "#3bb7c4", "#c43b8f", "#6b7a2f")


def _format(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{text} {unit}".strip() if unit not in ("none", "short") else text


def _chart(panel: dict[str, Any], since: float, until: float) -> str:
    width, height, pad = 520, 170, 34
    series = [s for s in panel["series"] if s["points"]]
    if not series:
        note = "no data in this window" if panel["local"] else "AWS-only metric: no local source"
        return (f'<svg viewBox="0 0 {width} {height}" class="chart"><text x="{width / 2}" y="{height / 2}"'
                f' text-anchor="middle" class="empty">{note}</text></svg>')
    top = max(v for s in series for _, v in s["points"]) or 1.0
    span = max(until - since, 1.0)

    def xy(t: float, v: float) -> str:
        x = pad + (t - since) / span * (width - pad - 8)
        y = height - 20 - v / top * (height - 34)
        return f"{x:.1f},{y:.1f}"

    parts = [f'<svg viewBox="0 0 {width} {height}" class="chart">',
             f'<line x1="{pad}" y1="{height - 20}" x2="{width - 8}" y2="{height - 20}" class="axis"/>',
             f'<text x="{pad - 4}" y="18" text-anchor="end" class="tick">{_format(top)}</text>',
             f'<text x="{pad - 4}" y="{height - 20}" text-anchor="end" class="tick">0</text>']
    for i, s in enumerate(series):
        color = _COLORS[i % len(_COLORS)]
        coords = " ".join(xy(t + BUCKET_S / 2, v) for t, v in s["points"])
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
        for t, v in s["points"]:
            cx, cy = xy(t + BUCKET_S / 2, v).split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{_COLORS[i % len(_COLORS)]}"></i>'
        f'{html.escape(s["label"])} ({_format(s["points"][-1][1], panel["unit"])})</span>'
        for i, s in enumerate(series))
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def render_html(data: dict[str, Any]) -> str:
    since, until = data["since"], data["until"]
    rows = "".join(
        f'<tr class="{"bad" if (s["burn_rate"] or 0) > 1 else "ok"}"><td>{html.escape(s["name"])}</td>'
        f'<td>{html.escape(s["title"])}</td><td>{s["samples"]}</td>'
        f'<td>{_format(None if s["bad_fraction"] is None else 100 * s["bad_fraction"])} %</td>'
        f'<td>{_format(s["burn_rate"])}</td></tr>' for s in data["slos"])
    lost = "".join(
        f'<tr class="{"bad" if a["firing"] else "ok"}"><td>{html.escape(a["name"])}</td>'
        f'<td>{_format(a["value"])}</td><td>≥ {_format(a["threshold"])}</td>'
        f'<td>{"FIRING" if a["firing"] else "ok"}</td></tr>' for a in data["lost_work"])
    cards = "".join(
        f'<section class="panel"><h3>{html.escape(p["title"])}</h3>{_chart(p, since, until)}</section>'
        for p in data["panels"])
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(until))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fileshare ops (local)</title>
<meta http-equiv="refresh" content="30">
<style>
body{{font:14px system-ui,sans-serif;margin:16px;background:#f6f7f9;color:#1d2330}}
h1{{font-size:20px;margin:0 0 4px}} h2{{font-size:16px;margin:18px 0 6px}}
h3{{font-size:13px;margin:0 0 4px}} .sub{{color:#5b6475;margin-bottom:10px}}
table{{border-collapse:collapse;background:#fff;margin-bottom:8px}}
td,th{{border:1px solid #dde1e8;padding:3px 8px;text-align:left}} tr.bad td{{background:#fde8e4}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:10px}}
.panel{{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:8px}}
.chart{{width:100%;height:170px}} .axis{{stroke:#aab1bd}} .tick{{font-size:10px;fill:#5b6475}}
.empty{{font-size:12px;fill:#8a93a3}} .legend{{font-size:11px}}
.key{{margin-right:10px;white-space:nowrap}}
.key i{{display:inline-block;width:10px;height:10px;margin-right:3px}}
</style></head><body>
<h1>Fileshare ops (local)</h1>
<div class="sub">The panels of infra/panels.py (the CloudWatch and Grafana dashboards) over the last
{data["window_s"] // 60} minutes, computed from .local/logs/lambda (EMF documents and REPORT lines);
as of {stamp}.</div>
<h2>SLOs (infra/slos.py)</h2>
<table id="slos"><tr><th>SLO</th><th>objective</th><th>samples</th><th>bad</th><th>burn rate</th></tr>
{rows}</table>
<h2>Lost or delayed work</h2>
<table id="lost"><tr><th>alarm</th><th>value</th><th>threshold</th><th>state</th></tr>{lost}</table>
<h2>Panels</h2><div class="grid">{cards}</div>
</body></html>"""


def page(log_dir: Path, functions: Sequence[Function] = FUNCTIONS) -> str:
    return render_html(snapshot(log_dir, functions, sample_queues=True))


def page_json(log_dir: Path, functions: Sequence[Function] = FUNCTIONS) -> str:
    return json.dumps(snapshot(log_dir, functions, sample_queues=True))
