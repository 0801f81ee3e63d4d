-- Email flood limits (issue 9).
-- One row per public link: when its last "downloaded" email went out and how many downloads
-- happened since (the next email, at most one per LINK_EMAIL_DIGEST_SECONDS, reports them).
CREATE TABLE link_email_digests (
    link_id       uuid PRIMARY KEY,                  -- no FK: the digest may outlive a purged link
    user_id       text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    file_id       uuid NOT NULL,
    name          text NOT NULL,                     -- the file's name at the last download
    pending       integer NOT NULL DEFAULT 0,        -- downloads not reported by email yet
    total         integer NOT NULL DEFAULT 0,        -- downloads so far, as of the last event
    last_sent_at  timestamptz
);
-- The sweeper mails what is pending once the period since the last email is over.
CREATE INDEX link_email_digests_pending ON link_email_digests (last_sent_at) WHERE pending > 0;

-- Emails sent to each recipient per UTC day (EMAIL_DAILY_CAP); the sweeper prunes old days.
CREATE TABLE email_daily_counts (
    user_id  text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    day      date NOT NULL,
    sent     integer NOT NULL,
    PRIMARY KEY (user_id, day)
);
