-- A burst of uploads becomes one notice (fileshare.notice_bursts): the inbox row it keeps up to date,
-- how many uploads it stands for, and when its one email went out.
CREATE TABLE notice_bursts (
    burst_id         uuid PRIMARY KEY,
    user_id          text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    type             text NOT NULL,
    notification_id  uuid NOT NULL,                  -- no FK: read notices are pruned after retention
    count            integer NOT NULL CHECK (count > 0),
    names            text[] NOT NULL,                -- the first few names, for the notice and the email
    opened_at        timestamptz NOT NULL DEFAULT now(),
    last_at          timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,                    -- NULL: still taking uploads
    emailed_at       timestamptz
);
-- At most one open burst per user and type; the sweeper finds the ones to close and mail.
CREATE UNIQUE INDEX notice_bursts_open ON notice_bursts (user_id, type) WHERE closed_at IS NULL;
CREATE INDEX notice_bursts_unmailed ON notice_bursts (last_at) WHERE emailed_at IS NULL;
-- Each event counted once: a redelivered event finds its row and changes nothing.
CREATE TABLE notice_burst_events (
    event_id  uuid PRIMARY KEY,
    burst_id  uuid NOT NULL REFERENCES notice_bursts (burst_id) ON DELETE CASCADE
);
CREATE INDEX notice_burst_events_burst ON notice_burst_events (burst_id);
