-- processed_events (0001) was never used: every consumer is idempotent by its own writes (unique keys,
-- conditional updates), so no (consumer, event) ledger is kept.
DROP TABLE IF EXISTS processed_events;
