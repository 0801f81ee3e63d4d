-- part_checksum_algorithm: 'SHA256' when the file's multipart upload was created with S3 checksums,
-- so every part URL must sign its part's SHA-256 (and S3 rejects bytes that do not match it).
ALTER TABLE files ADD COLUMN IF NOT EXISTS part_checksum_algorithm text;
