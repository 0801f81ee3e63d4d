"""Archive jobs: one ZIP of many files (fileshare.archives, the archiver)."""
