"""Traces in AWS: the functions' OpenTelemetry spans reach X-Ray through the ADOT collector.

Each function gets AWS's ADOT collector layer (a Lambda extension; collector only, the SDK is ours in
the dependency layer). Its default configuration receives OTLP on ``localhost:4318`` and exports to
X-Ray with ``xray:PutTraceSegments``/``PutTelemetryRecords``, which active tracing grants every role
(``infra/functions.py``). ``fileshare.adapters.tracing`` exports there because of :data:`ENVIRONMENT`; its
trace ids carry their start time as X-Ray requires. Locally the same code exports to Zipkin.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

#: AWS's account publishing the ADOT Lambda layers, and the pinned collector layer (arm64, like the
#: functions). A new collector version is a new name here; the layer is regional, the name is not.
ADOT_ACCOUNT = "901920570463"
ADOT_COLLECTOR_LAYER = "aws-otel-collector-arm64-ver-0-117-0:1"

#: What turns tracing on in a function (OpenTelemetry's own variables) and where spans go.
ENVIRONMENT = {
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://localhost:4318/v1/traces",
}


def collector_layer_arn(region: str) -> str:
    return f"arn:aws:lambda:{region}:{ADOT_ACCOUNT}:layer:{ADOT_COLLECTOR_LAYER}"


def collector_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The ADOT collector layer in the stack's region."""
    return lambda_.LayerVersion.from_layer_version_arn(scope, "AdotCollectorLayer",
                                                        collector_layer_arn(Stack.of(scope).region))
