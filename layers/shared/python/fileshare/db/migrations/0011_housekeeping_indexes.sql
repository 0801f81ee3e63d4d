-- The sweeper prunes published outbox rows and read notifications past their retention, oldest
-- first in bounded batches; these partial indexes find them without scanning the live rows.
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX notifications_read ON notifications (read_at) WHERE read_at IS NOT NULL;
