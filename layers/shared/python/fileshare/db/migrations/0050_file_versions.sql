-- Issue 14 part 3: file versions, as explicit version keys (not S3 bucket versioning).
--
-- The files row always describes the CURRENT version (s3_key, size, type, checksums, thumbnail),
-- so everything that reads a file (lists, downloads, shares, links, search, archives) is unchanged.
-- file_versions holds the other versions: earlier ones kept when a new one became current
-- (status 'ready'), new uploads on the way ('pending') and uploads that failed ('rejected').
-- A version's id is in its key (u/<owner>/<file>/v/<version>/<name>); the first upload's id is the
-- file's own id. Making an old version current swaps its facts with the files row's.
CREATE TABLE file_versions (
    version_id       uuid PRIMARY KEY,
    file_id          uuid NOT NULL REFERENCES files (file_id) ON DELETE CASCADE,
    owner_id         text NOT NULL REFERENCES users (user_id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    s3_key           text NOT NULL UNIQUE,
    size             bigint NOT NULL CHECK (size > 0),
    content_type     text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'ready', 'rejected')),
    reject_reason    text,
    checksum_sha256  text,
    s3_checksum      text,
    verified_etag    text,
    thumbnail_key    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- GET /files/{id}/versions, newest first; the deleter's "every version of this file".
CREATE INDEX file_versions_file ON file_versions (file_id, created_at DESC);
-- Quota: bytes an owner's kept versions occupy, and what pending ones reserve.
CREATE INDEX file_versions_owner ON file_versions (owner_id) WHERE status IN ('pending', 'ready');
-- The sweeper gives up version uploads that never arrived.
CREATE INDEX file_versions_pending ON file_versions (created_at) WHERE status = 'pending';

-- When the current version was uploaded (NULL: the first upload, files.created_at).
ALTER TABLE files ADD COLUMN version_created_at timestamptz;
