"""Activity (a satellite): the per-file and per-user activity feed built from events (feed), its table
(rows) and API shapes (models)."""
