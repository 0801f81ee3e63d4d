"""Adapters: the clients of the services the domain uses (AWS SDK, S3, Redis and its limiter, Kafka) and the
process plumbing (logging/metrics/tracing, telemetry, SnapStart hooks). They import nothing from the
domain: only config, errors and timeouts (the import contract in .importlinter)."""
