-- status_before_trash holds what a restore returns to: one of fileshare.lifecycle.RESTORABLE_TO (a unit
-- test checks the two agree). Added NOT VALID (no scan under the exclusive lock), then validated (a scan
-- that lets writes go on); both statements are idempotent.
DO $$ BEGIN ALTER TABLE files ADD CONSTRAINT files_status_before_trash_check CHECK (status_before_trash IS NULL OR status_before_trash IN ('pending', 'ready', 'rejected')) NOT VALID; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
ALTER TABLE files VALIDATE CONSTRAINT files_status_before_trash_check;
