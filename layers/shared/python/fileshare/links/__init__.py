"""Public links (a satellite): link use cases (links), the public page (page), the downloader's client
summary (clientinfo), the links table (rows) and API shapes (models)."""
