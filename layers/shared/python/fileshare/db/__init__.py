"""PostgreSQL access: connections, the migration runner and one small module per table group."""
