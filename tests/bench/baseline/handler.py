"""The cold-start baseline of ``make bench``: a minimal Powertools REST handler, as the Powertools
documentation writes one (Logger, Tracer, Metrics, a validating resolver, one route). Every
function's Init Duration is reported as a ratio of this one's, measured in the same run and worker
pool with tracing on as deployed, so the figures do not move with the machine."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)


@app.get("/hello")
@tracer.capture_method
def hello() -> dict[str, str]:
    return {"message": "hello"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
