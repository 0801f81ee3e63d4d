"""Time budgets of every outbound client, in one place: what a call may cost at worst.

Each client is built from these numbers (``search.index``, ``adapters.aws``, ``db.connection``,
``adapters.cache``, ``adapters.kafka``), and ``tests/unit/test_time_budgets.py`` proves, over
``infra/declaration.py``, that for every function the worst case of each client it can use
(per-attempt timeout x attempts) stays below the function's own timeout: a slow dependency ends in
the function's 503 or retry, never in a Lambda timeout that kills the invocation half-way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    name: str
    per_attempt_s: float  # connect + response, the longest one attempt can take
    attempts: int

    @property
    def worst_s(self) -> float:
        return self.per_attempt_s * self.attempts


# OpenSearch: 3 s per request, one retry on timeout/connection errors (opensearch-py max_retries=1).
OPENSEARCH_TIMEOUT_S = 3.0
OPENSEARCH_RETRIES = 1
# boto3 (S3, SES, Cognito, Secrets Manager): connect 1 s + read 3.5 s, standard mode, 2 attempts.
# read_timeout bounds each socket read, not a whole transfer: the processor's streamed reads of
# large objects are not cut off by it.
AWS_CONNECT_TIMEOUT_S = 1.0
AWS_READ_TIMEOUT_S = 3.5
AWS_MAX_ATTEMPTS = 2
# PostgreSQL: waiting for a pooled connection (which covers connecting, 2 s) at most 3 s, then a
# statement may run at most 5 s (``statement_timeout``: the database's default, which the bootstrap
# sets; RDS Proxy refuses it as a startup option).
DATABASE_POOL_WAIT_S = 3.0
DATABASE_CONNECT_TIMEOUT_S = 2
DATABASE_STATEMENT_TIMEOUT_MS = 5_000
# Redis: 0.25 s to connect and 0.25 s per reply, no retry (a cache and a limiter fail open).
REDIS_TIMEOUT_S = 0.25
# Kafka (inline publish after a write): up to 3 s blocked on metadata, then a 3 s bounded flush.
KAFKA_MAX_BLOCK_S = 3.0
KAFKA_INLINE_FLUSH_S = 3.0
# Kafka admin (bootstrap: topics): 30 s per request, one request at a time.
KAFKA_ADMIN_REQUEST_TIMEOUT_S = 30.0

BUDGETS = {
    "opensearch": Budget("opensearch", OPENSEARCH_TIMEOUT_S, 1 + OPENSEARCH_RETRIES),
    "aws": Budget("aws", AWS_CONNECT_TIMEOUT_S + AWS_READ_TIMEOUT_S, AWS_MAX_ATTEMPTS),
    "database": Budget("database", DATABASE_POOL_WAIT_S + DATABASE_STATEMENT_TIMEOUT_MS / 1000, 1),
    "redis": Budget("redis", 2 * REDIS_TIMEOUT_S, 1),
    "kafka": Budget("kafka", KAFKA_MAX_BLOCK_S + KAFKA_INLINE_FLUSH_S, 1),
    "kafka_admin": Budget("kafka_admin", KAFKA_ADMIN_REQUEST_TIMEOUT_S, 1),
}
