-- Trash, purge and expiry.
-- GET /trash: one owner's trashed files, most recently trashed first (keyset pagination).
CREATE INDEX IF NOT EXISTS files_owner_trashed ON files (owner_id, trashed_at DESC, file_id DESC)
    WHERE status = 'trashed';
-- The sweeper finishes purges that stalled (status 'deleting' for long: updated_at is when it began).
CREATE INDEX IF NOT EXISTS files_deleting ON files (updated_at) WHERE status = 'deleting';
