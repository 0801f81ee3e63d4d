"""The one Logger, Tracer and Metrics every function shares (Powertools)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from fileshare.adapters import snapstart, tracing


def _tracer() -> Tracer:
    """Powertools' Tracer on OpenTelemetry (``fileshare.adapters.tracing``): its decorators make spans when
    ``OTEL_TRACES_EXPORTER`` turns tracing on, and cost nothing otherwise. Never ``disabled=True``:
    Powertools would then switch the X-Ray SDK off, importing it (it is not in the layer)."""
    return Tracer(provider=tracing.PowertoolsProvider(), disabled=False, auto_patch=False)


logger = Logger()  # service name from POWERTOOLS_SERVICE_NAME (set per function)
tracer = _tracer()
metrics = Metrics()  # namespace from POWERTOOLS_METRICS_NAMESPACE; EMF on stdout

# Before a snapshot: OpenTelemetry's SDK, exporter and instrumentation (at the first span otherwise).
snapstart.warm(tracing.setup, name="otel")
# Spans carry the correlation id and file id the function logs under.
tracing.read_log_keys_from(logger.get_current_keys)


# SnapStart (the API functions in AWS): warm before the snapshot, reset after each restore. Every
# function imports this module, so every snapshot gets the hooks; elsewhere this imports nothing.
snapstart.install()
