-- Upload verification follows the object, not just the first event about it.
-- verified_etag: the ETag of the object version the processor verified (checksum, type, thumbnail).
-- A presigned POST stays valid for its lifetime, so the same key can be written again after the file
-- became ready; an ObjectCreated event whose object has another ETag is verified again. NULL: not
-- verified yet (pending, rejected), or verified before this column existed.
ALTER TABLE files ADD COLUMN verified_etag text;

-- The sweeper rejects pending uploads that never arrived, oldest first.
CREATE INDEX IF NOT EXISTS files_pending_created ON files (created_at) WHERE status = 'pending';
