"""Notifications (a satellite): the in-app inbox and the emails built from events (notices), their
table (rows) and API shapes (models)."""
