"""Part of phase ``coldimport``: what tracing adds to a cold start, OpenTelemetry against X-Ray.

The functions trace with OpenTelemetry (``fileshare.adapters.tracing``); until it they traced with the X-Ray
SDK through Powertools. Both are measured in the same run from the same staged dependency layer (the
X-Ray SDK copied beside it from the dev venv, where ``requirements-dev.txt`` keeps it for this
comparison and the cold-start baseline), in fresh ``python -B -I -S`` interpreters that have already
imported what both instrument (botocore, psycopg, requests) and Powertools, as every function has:

- ``xray``: import the SDK, configure it as Powertools did, ``patch_all()``, one segment with one
  subsegment, sent over UDP to a socket the bench holds (the X-Ray daemon's part);
- ``otel``: ``fileshare.adapters.tracing``'s first span (SDK, OTLP exporter, botocore and psycopg
  instrumentation, the X-Ray id generator) and a child, exported over OTLP/HTTP to a sink the bench
  serves (the ADOT collector extension's part).

The medians and their ratio are the cold-start cost of the switch (what SnapStart moves before the
snapshot for the API functions, and every other function pays on its first traced invocation).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import statistics
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.bench.common import STOP, wait_cpu_quiet

TRACERS = ("xray", "otel")

PROBE = r'''
import json, os, sys, time
opt, extra, which, target = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
sys.path[:0] = [extra, os.path.join(opt, "python")]
import botocore.client, psycopg, requests  # loaded by every function before its first traced call
import aws_lambda_powertools.tracing.base
started = time.perf_counter()
if which == "xray":
    from aws_xray_sdk.core import patch_all, xray_recorder
    xray_recorder.configure(streaming_threshold=0, context_missing="IGNORE_ERROR", daemon_address=target)
    patch_all()
    with xray_recorder.in_segment("probe"):
        with xray_recorder.in_subsegment("## probe"):
            pass
else:
    from fileshare.adapters import tracing
    with tracing.span("probe"):
        with tracing.span("## probe"):
            pass
print("@@TRACER@@" + json.dumps({"ms": (time.perf_counter() - started) * 1000}))
'''


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def _receivers() -> Iterator[tuple[str, str]]:
    """An OTLP/HTTP sink and a UDP socket for X-Ray's segments: (OTLP endpoint, daemon address)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    try:
        yield (f"http://127.0.0.1:{server.server_address[1]}/v1/traces",
               f"127.0.0.1:{udp.getsockname()[1]}")
    finally:
        server.shutdown()
        server.server_close()
        udp.close()


def stage_xray_sdk(target: Path) -> None:
    """Copy the dev venv's X-Ray SDK (``aws_xray_sdk``) into ``target`` (no longer in the layer)."""
    spec = importlib.util.find_spec("aws_xray_sdk")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("aws_xray_sdk is not installed in the dev venv (requirements-dev.txt)")
    shutil.copytree(Path(next(iter(spec.submodule_search_locations))), target / "aws_xray_sdk",
                    dirs_exist_ok=True)


def measure(python: str, opt: Path, xray_dir: Path, env: dict[str, str], *, rounds: int,
            quiet_limit_s: float) -> dict[str, Any]:
    """Per tracer the median cost (ms) over ``rounds`` alternating runs, and OTel's over X-Ray's."""
    samples: dict[str, list[float]] = {name: [] for name in TRACERS}
    errors: dict[str, list[str]] = {name: [] for name in TRACERS}
    with _receivers() as (otlp, daemon):
        for round_index in range(rounds):
            for which in TRACERS if round_index % 2 == 0 else tuple(reversed(TRACERS)):
                if STOP.is_set():
                    break
                wait_cpu_quiet(limit_s=quiet_limit_s)
                run_env = {**env, "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": otlp,
                           "POWERTOOLS_SERVICE_NAME": "probe"}
                proc = subprocess.run([python, "-B", "-I", "-S", "-c", PROBE, str(opt), str(xray_dir), which,
                                       daemon], capture_output=True, text=True, env=run_env, timeout=120,
                                      check=False)
                if "@@TRACER@@" in proc.stdout:
                    samples[which].append(json.loads(proc.stdout.rsplit("@@TRACER@@", 1)[1])["ms"])
                else:
                    lines = proc.stderr.strip().splitlines()
                    errors[which].append(lines[-1] if lines else f"exit {proc.returncode}")
    medians = {name: round(statistics.median(v), 1) if v else None for name, v in samples.items()}
    ratio = (round(medians["otel"] / medians["xray"], 2)
             if medians["otel"] is not None and medians["xray"] else None)
    return {"median_ms": medians, "samples_ms": {k: [round(x, 1) for x in v] for k, v in samples.items()},
            "errors": errors, "otel_over_xray": ratio}


def report_lines(result: dict[str, Any]) -> list[list[str]]:
    """The table ``make bench`` prints: one row per tracer, and the ratio."""
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    rows = [["tracer (import, set-up, first span exported)", "median", "samples", "errors"]]
    labels = {"xray": "X-Ray SDK via Powertools (before)",
              "otel": "OpenTelemetry (fileshare.adapters.tracing)"}
    for name in TRACERS:
        rows.append([labels[name], ms(result["median_ms"][name]),
                     " ".join(f"{x:.0f}" for x in result["samples_ms"][name]),
                     (result["errors"][name] or [""])[0]])
    ratio = result.get("otel_over_xray")
    rows.append(["OpenTelemetry / X-Ray", "-" if ratio is None else f"{ratio:.2f}x", "", ""])
    return rows


def broken(result: dict[str, Any], log: Callable[[str], None] = print) -> list[str]:
    """A tracer that could not run breaks the flow (timings never do)."""
    return [f"tracer {name}: {errors[0]}" for name, errors in result.get("errors", {}).items() if errors]
