-- Issue 14 part 3: a new version can go up as S3 multipart like a first upload (its upload id and
-- whether every part is checksummed, while pending; cleared when it is verified).
ALTER TABLE file_versions ADD COLUMN upload_id text;
ALTER TABLE file_versions ADD COLUMN part_checksum_algorithm text;
