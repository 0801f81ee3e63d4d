"""Fileshare's local Lambda runtime: API gateway, worker processes and event-source pollers.

It runs the real handlers from ``functions/`` the way AWS calls them: REST proxy events (v1) with
Cognito claims, one OS process per function instance (cold then warm), SQS and Kafka pollers with
Lambda's batch and failure rules, and scheduled invocations. ``localstack/serve.py`` starts it.
"""
