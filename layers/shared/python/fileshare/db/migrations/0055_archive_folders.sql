-- Issue 14: zip a whole folder, and list one's archive jobs.
-- The folder a job zips (NULL: a selection of files). No foreign key: the folder may be purged before
-- the job runs, and the archiver then fails the job (source_unavailable) rather than lose the row.
ALTER TABLE archives ADD COLUMN folder_id uuid;
-- GET /archives: the owner's jobs, newest first (keyset on created_at, archive_id).
CREATE INDEX archives_owner_created ON archives (owner_id, created_at DESC, archive_id DESC);
