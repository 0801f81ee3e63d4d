"""One file's whole story from the local function logs (``make trace FILE=<file_id>``).

Every function logs JSON (Powertools) with ``file_id`` on the lines about a file and
``correlation_id`` on every line of a request or of a record that carries one (the API request's id,
passed on through the object's S3 metadata, the outbox and the Kafka header ``correlation-id``).
The timeline is every line with the file's id, plus every line under a correlation id seen on one of
them, in time order across ``.local/logs/lambda/*.log``. In AWS the CloudWatch Logs Insights query
in the README does the same over the functions' log groups.

After the timeline it prints the Zipkin UI link of each trace with a span about the file (the spans'
``fileshare.file_id`` tag): the upload's one trace holds the request, the processing, the search
document, the published event and the consumers' work. In AWS the same trace is in X-Ray.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
DEFAULT_LOG_DIR = _HERE.parent.parent / ".local" / "logs" / "lambda"
DEFAULT_ENV_FILE = _HERE.parent.parent / ".local" / "stack.env"
SHOWN = ("route", "status", "outcome", "reason", "event_type", "type", "action", "key", "error")
_SKIP = {"level", "location", "message", "timestamp", "service", "cold_start", "function_name",
         "function_memory_size", "function_arn", "function_request_id", "correlation_id", "file_id",
         "xray_trace_id", "sampling_rate"}


@dataclass(frozen=True)
class Line:
    when: float
    function: str
    record: dict[str, Any]

    @property
    def step(self) -> str:
        """What part of the story this line tells (request, processing, index, event, notification)."""
        message = str(self.record.get("message", ""))
        if message == "request handled":
            return "request"
        if message == "event published":
            return "event"
        if "search document" in message:
            return "index"
        if self.function == "notifier":
            return "notification"
        if self.function == "processor":
            return "processing"
        return self.function


def _iso(text: str) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace(",", ".")).timestamp()
    except ValueError:
        return None


def read(log_dir: Path) -> Iterator[Line]:
    for path in sorted(log_dir.glob("*.log")):
        with path.open("rb") as lines:
            for raw in lines:
                if not raw.startswith(b"{"):
                    continue
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(record, dict) or "message" not in record or "_aws" in record:
                    continue
                when = _iso(str(record.get("timestamp", "")))
                if when is not None:
                    yield Line(when, path.stem, record)


def timeline(file_id: str, lines: Iterable[Line]) -> list[Line]:
    """The lines about ``file_id`` and those under a correlation id seen with it, oldest first."""
    every = list(lines)
    mine = [line.record for line in every if str(line.record.get("file_id")) == file_id]
    keys = ("correlation_id", "event_correlation_id")
    correlations = {str(r[key]) for r in mine for key in keys if r.get(key)}
    story = [line for line in every if str(line.record.get("file_id")) == file_id
             or str(line.record.get("correlation_id")) in correlations]
    return sorted(story, key=lambda line: line.when)


def render(story: Sequence[Line]) -> str:
    from datetime import UTC, datetime

    out = []
    for line in story:
        stamp = datetime.fromtimestamp(line.when, UTC).strftime("%H:%M:%S.%f")[:-3]
        details = " ".join(f"{k}={line.record[k]}" for k in SHOWN if line.record.get(k) is not None)
        extra = " ".join(f"{k}={v}" for k, v in line.record.items() if k not in _SKIP and k not in SHOWN
                         and isinstance(v, str | int | float | bool))
        correlation = str(line.record.get("correlation_id") or "-")[:8]
        out.append(f"{stamp}  {line.step:<12} {line.function:<13} {line.record.get('level', ''):<7} "
                   f"[{correlation}] {line.record.get('message')}  {details} {extra}".rstrip())
    return "\n".join(out)


def trace_ids(file_id: str, zipkin_url: str, *, lookback_s: int = 7 * 24 * 3600) -> list[str]:
    """The ids of the traces in Zipkin with a span about ``file_id`` (its ``fileshare.file_id``
    tag), oldest first: one per upload (a new version, a trash or a share starts its own)."""
    import urllib.parse
    import urllib.request

    query = urllib.parse.urlencode({"annotationQuery": f"fileshare.file_id={file_id}", "limit": 50,
                                    "lookback": lookback_s * 1000})
    with urllib.request.urlopen(f"{zipkin_url.rstrip('/')}/api/v2/traces?{query}",  # noqa: S310 - loopback
                                timeout=10) as response:
        traces = json.loads(response.read())
    starts = {spans[0]["traceId"]: min(int(span.get("timestamp", 0)) for span in spans)
              for spans in traces if spans}
    return sorted(starts, key=starts.__getitem__)


def zipkin_url(env_file: Path = DEFAULT_ENV_FILE) -> str | None:
    """Where the local Zipkin is: ``ZIPKIN_URL`` from the shell, else from ``.local/stack.env``."""
    if os.environ.get("ZIPKIN_URL"):
        return os.environ["ZIPKIN_URL"]
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            if line.startswith("ZIPKIN_URL="):
                return line.split("=", 1)[1].strip() or None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file_id")
    parser.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR)
    parser.add_argument("--zipkin", help="Zipkin's URL (default: ZIPKIN_URL, or .local/stack.env's)")
    args = parser.parse_args(argv)
    story = timeline(args.file_id, read(args.log_dir))
    if story:
        print(render(story))
    else:
        print(f"no log line mentions {args.file_id} in {args.log_dir}", file=sys.stderr)
    found = False
    zipkin = args.zipkin or zipkin_url()
    if zipkin:
        try:
            ids = trace_ids(args.file_id, zipkin)
        except OSError as exc:
            print(f"Zipkin at {zipkin} did not answer ({exc}): is the stack up (make up)?", file=sys.stderr)
            ids = []
        for trace_id in ids:
            print(f"trace {trace_id}: {zipkin.rstrip('/')}/zipkin/traces/{trace_id}")
        found = bool(ids)
        if not ids:
            print(f"no trace in Zipkin ({zipkin}) has a span about {args.file_id}", file=sys.stderr)
    return 0 if story or found else 1


if __name__ == "__main__":
    sys.exit(main())
