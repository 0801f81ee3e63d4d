-- The W3C traceparent of the change that recorded the event: the Kafka record (and the consumers'
-- spans) continue that trace, whichever publisher sends it (the inline path or the relay).
ALTER TABLE outbox ADD COLUMN traceparent text;
