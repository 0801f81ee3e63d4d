-- Fileshare's initial schema: users, files, sharing, links, inbox, outbox, idempotency.

CREATE TABLE users (
    user_id      text PRIMARY KEY,                 -- Cognito `sub`
    email        text NOT NULL,
    quota_bytes  bigint NOT NULL CHECK (quota_bytes >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE files (
    file_id          uuid PRIMARY KEY,
    owner_id         text NOT NULL REFERENCES users (user_id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    s3_key           text NOT NULL UNIQUE,
    size             bigint NOT NULL CHECK (size > 0),
    content_type     text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'ready', 'rejected', 'trashed', 'deleting')),
    reject_reason    text,
    checksum_sha256  text,
    thumbnail_key    text,
    upload_id        text,                          -- S3 multipart upload id, while pending
    tags             text[] NOT NULL DEFAULT '{}',
    expires_at       timestamptz,
    trashed_at       timestamptz,
    status_before_trash text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination of a user's files, newest first.
CREATE INDEX files_owner_created ON files (owner_id, created_at DESC, file_id DESC);
CREATE INDEX files_expiring ON files (expires_at) WHERE expires_at IS NOT NULL AND status IN ('pending', 'ready');
CREATE INDEX files_trashed ON files (trashed_at) WHERE status = 'trashed';

CREATE TABLE shares (
    share_id     uuid PRIMARY KEY,
    file_id      uuid NOT NULL REFERENCES files (file_id) ON DELETE CASCADE,
    grantee_id   text NOT NULL REFERENCES users (user_id),
    permission   text NOT NULL CHECK (permission IN ('viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file_id, grantee_id)
);
CREATE INDEX shares_grantee ON shares (grantee_id, created_at DESC);

CREATE TABLE links (
    link_id        uuid PRIMARY KEY,
    file_id        uuid NOT NULL REFERENCES files (file_id) ON DELETE CASCADE,
    token_hash     text NOT NULL UNIQUE,            -- SHA-256 of the token; the token is never stored
    password_hash  text,                            -- scrypt, with its salt and parameters
    expires_at     timestamptz,
    max_downloads  integer CHECK (max_downloads > 0),
    downloads      integer NOT NULL DEFAULT 0,
    revoked_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX links_file ON links (file_id);

CREATE TABLE notifications (
    notification_id  uuid PRIMARY KEY,
    user_id          text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    type             text NOT NULL,
    file_id          uuid,                           -- no FK: the file may be gone
    message          text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    read_at          timestamptz,
    UNIQUE (user_id, event_id, type)
);
CREATE INDEX notifications_user ON notifications (user_id, created_at DESC);

-- Transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE outbox (
    seq           bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    aggregate_id  uuid NOT NULL,                     -- the Kafka key (file_id)
    type          text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- Idempotency for at-least-once consumers: one row per (consumer, event) handled.
CREATE TABLE processed_events (
    consumer      text NOT NULL,
    event_id      text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
