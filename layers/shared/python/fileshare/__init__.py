"""Fileshare's domain package, shared by every function through the Lambda layer.

Nothing here imports Lambda event types: handlers translate events into calls on this package.
"""
