-- s3_checksum: the checksum S3 itself verified for the object version the processor accepted, as
-- "<algorithm>:<value>", e.g. "SHA256:<base64>" (whole object) or "SHA256-COMPOSITE:<base64>-<parts>"
-- (a multipart upload whose parts were each checked against their signed SHA-256). Large objects
-- are not re-read by the processor: this is their integrity record; checksum_sha256 (hex, whole
-- object) is set whenever the whole-object SHA-256 is known (hashed, or S3's full-object value).
ALTER TABLE files ADD COLUMN IF NOT EXISTS s3_checksum text;
