"""Search: the index side (the OpenSearch client, the versioned index behind its alias, every document
write) used by the hub, and the query side (the ACL-filtered search re-checked in PostgreSQL)."""
