-- Issue 14 part 4: the activity feed, one row per domain event that is something done to a file.
-- The activity consumer writes it from the event stream; the event id is the key, so a redelivered
-- event is absorbed (INSERT ... ON CONFLICT DO NOTHING) and reordered ones sort by occurred_at.
-- No foreign key to files: a purged file's history stays in its owner's export until retention.
CREATE TABLE activity (
    event_id     uuid PRIMARY KEY,
    owner_id     text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    file_id      uuid NOT NULL,
    action       text NOT NULL,                  -- uploaded, renamed, shared, link_downloaded, ...
    event_type   text NOT NULL,                  -- the event it came from, e.g. file.updated
    occurred_at  timestamptz NOT NULL,           -- when the change happened (the event's time)
    file_name    text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}',    -- coarse, secret-free facts (never a token or an IP)
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- GET /files/{id}/activity: one file's feed, newest first (keyset on occurred_at, event_id).
CREATE INDEX activity_file ON activity (file_id, occurred_at DESC, event_id DESC);
-- GET /activity/export: everything done to one owner's files, oldest first.
CREATE INDEX activity_owner ON activity (owner_id, occurred_at, event_id);
-- The sweeper's retention prune, oldest first.
CREATE INDEX activity_occurred ON activity (occurred_at);
