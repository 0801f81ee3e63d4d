"""Fileshare's local stack manager: installs, starts, provisions and stops the local services.

Deliberately not named ``localstack`` (that would shadow the real LocalStack package).
"""
