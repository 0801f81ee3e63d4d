"""``fileshare``: the Fileshare API from a terminal, on the client generated from its OpenAPI document."""

__version__ = "0.1.0"
