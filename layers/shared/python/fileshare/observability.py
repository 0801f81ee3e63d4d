"""The one Logger, Tracer and Metrics every function shares (Powertools)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()  # service name from POWERTOOLS_SERVICE_NAME (set per function)
tracer = Tracer()  # disabled locally with POWERTOOLS_TRACE_DISABLED=true
metrics = Metrics()  # namespace from POWERTOOLS_METRICS_NAMESPACE; EMF on stdout
