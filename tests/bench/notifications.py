"""Notification delivery latency: an event produced to Kafka -> its row in the recipient's inbox.

    .venv/bin/python tests/bench/notifications.py [--count 200] [--rate 20] [--consumer own|gateway]

``measure_notification_latency`` is what ``make bench`` (tests/bench/run.py) calls. It gives a
fresh bench user an account, produces ``file.ready`` events for them to ``fileshare.events`` at a
steady ``rate`` (a burst would measure queueing, not delivery), and waits for every inbox row.
Latency per event = the row's ``created_at`` (PostgreSQL's clock, when the notifier's transaction
began) minus the event's ``occurred_at`` (set just before it is produced); one machine, one clock.

The consumer is either the notifier of a running local runtime (``gateway``: group
``fileshare-notifier``, exactly as deployed) or, by default, the same function run by the local
runtime's own Kafka poller in this process with a private consumer group (``own``), so the number
does not depend on what else is running. One warm-up event is delivered first and reported apart
(it includes the worker's cold start). Nothing is asserted; the bench user is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
for extra in (REPO_ROOT, REPO_ROOT / "layers" / "shared" / "python", REPO_ROOT / "localstack"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from tests.support.runtime import load_test_env  # noqa: E402

TOPIC = "fileshare.events"


def _percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return round(ordered[rank - 1], 2)


class _OwnConsumer:
    """The notifier behind the runtime's MSK poller, with a private consumer group, in a thread."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        from dataclasses import replace

        from infra.declaration import KafkaTrigger, by_name
        from lambdarun.runtime import Runtime
        from lambdarun.sources.kafka import KafkaPoller

        function = by_name("notifier")
        [declared] = function.triggers
        assert isinstance(declared, KafkaTrigger)
        trigger = replace(declared, consumer_group=f"bench-notifier-{uuid.uuid4().hex[:8]}",
                          starting_position="LATEST")
        self.runtime = Runtime([function], base_env=env, log_dir=log_dir)
        self.poller = KafkaPoller(self.runtime.invoke, function.name, trigger,
                                  bootstrap=env["KAFKA_BOOTSTRAP_SERVERS"], aws_region="us-east-1")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.poller.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> _OwnConsumer:
        self.poller.connect()
        self.poller.join(limit_s=30)  # join and pin LATEST before producing
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.runtime.close()


def measure_notification_latency(*, count: int = 200, rate_per_s: float = 20.0, consumer: str = "own",
                                 limit_s: float = 120.0) -> dict[str, Any]:
    """Produce ``count`` events at ``rate_per_s`` and return the event -> inbox row latency (ms)."""
    env = {**load_test_env(), **os.environ}
    for key in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AWS_ENDPOINT_URL"):
        if not env.get(key):
            raise RuntimeError(f"{key} is not set: is the local stack up (make dev)?")
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})

    import psycopg
    from kafka import KafkaProducer

    from fileshare.event_types import Event, EventType

    user_id = f"bench-{uuid.uuid4()}"
    producer = KafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"].split(","), acks="all",
                             linger_ms=0)
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as db:
        db.execute("INSERT INTO users (user_id, email, quota_bytes) VALUES (%s, %s, 1)",
                   (user_id, f"{user_id}@bench.example"))

        def send() -> Event:
            event = Event(type=EventType.FILE_READY, file_id=uuid.uuid4(), owner_id=user_id,
                          data={"name": "bench.txt"})
            producer.send(TOPIC, key=str(event.file_id).encode(), value=event.to_json())
            return event

        def delivered(events: list[Event]) -> dict[uuid.UUID, float]:
            rows = db.execute("SELECT event_id, created_at FROM notifications WHERE user_id = %s",
                              (user_id,)).fetchall()
            sent = {e.id: e.occurred_at for e in events}
            return {r[0]: (r[1] - sent[r[0]]).total_seconds() * 1000 for r in rows if r[0] in sent}

        def wait_for(events: list[Event]) -> dict[uuid.UUID, float]:
            deadline = time.monotonic() + limit_s
            got = delivered(events)
            while len(got) < len(events) and time.monotonic() < deadline:
                time.sleep(0.05)
                got = delivered(events)
            return got

        def run() -> dict[str, Any]:
            warmup = send()
            producer.flush()
            warm = wait_for([warmup]).get(warmup.id)
            measured: list[Event] = []
            started = time.monotonic()
            for i in range(count):
                pause = started + i / rate_per_s - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                measured.append(send())
            producer.flush()
            latencies = list(wait_for(measured).values())
            return {"count": count, "delivered": len(latencies), "rate_per_s": rate_per_s,
                    "consumer": consumer, "warmup_ms": round(warm, 2) if warm is not None else None,
                    "p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95),
                    "p99_ms": _percentile(latencies, 99),
                    "max_ms": round(max(latencies), 2) if latencies else None}

        try:
            if consumer == "own":
                with _OwnConsumer(env, REPO_ROOT / ".local" / "logs" / "lambda-bench-notifier"):
                    return run()
            return run()
        finally:
            producer.close()
            db.execute("DELETE FROM users WHERE user_id = %s", (user_id,))  # its inbox goes with it


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="events per second")
    parser.add_argument("--consumer", choices=("own", "gateway"), default="own")
    args = parser.parse_args()
    result = measure_notification_latency(count=args.count, rate_per_s=args.rate, consumer=args.consumer)
    print(json.dumps(result, indent=2))
    return 0 if result["delivered"] == result["count"] else 1


if __name__ == "__main__":
    sys.exit(main())
