-- Archive jobs (issue 14 part 2): one ZIP of many files, built asynchronously by the archiver.
-- queued -> running -> ready -> expired; queued|running -> failed; any -> deleted (DELETE /archives/{id}).
CREATE TABLE archives (
    archive_id      uuid PRIMARY KEY,
    owner_id        text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    status          text NOT NULL CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired', 'deleted')),
    file_ids        uuid[] NOT NULL,                 -- in the order the caller gave (no FK: files may go)
    files_total     integer NOT NULL CHECK (files_total > 0),
    bytes_total     bigint NOT NULL CHECK (bytes_total >= 0),
    files_done      integer NOT NULL DEFAULT 0,
    bytes_done      bigint NOT NULL DEFAULT 0,
    s3_key          text NOT NULL UNIQUE,
    upload_id       text,                            -- the attempt's S3 multipart upload, while running
    size            bigint,                          -- the ZIP's size once ready
    attempt         integer NOT NULL DEFAULT 0,      -- bumped by every claim; a stale attempt's writes miss
    heartbeat_at    timestamptz,
    failure_reason  text,                            -- machine-readable: source_missing, storage_error, ...
    failure_detail  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    ready_at        timestamptz,
    expires_at      timestamptz
);
CREATE INDEX archives_owner_active ON archives (owner_id) WHERE status IN ('queued', 'running');
CREATE INDEX archives_expiring ON archives (expires_at) WHERE status = 'ready';
CREATE INDEX archives_running ON archives (heartbeat_at) WHERE status = 'running';
