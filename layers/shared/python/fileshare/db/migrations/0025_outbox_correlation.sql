-- The correlation id of the request (or record) that wrote an outbox event: the relay sends it as the
-- Kafka header `correlation-id`, so every consumer logs the event under the same id (the envelope,
-- a versioned contract, stays as it is).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS correlation_id text;
