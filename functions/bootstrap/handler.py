"""Bootstrap: creates what must exist before the first request (schema, search index, topics).

CDK calls it on every deploy as the ``onEvent`` handler of a ``custom_resources.Provider`` (the
Provider framework owns the CloudFormation response: a returned dict is SUCCESS, an exception is
FAILED and rolls the deployment back). The local stack invokes the same handler with the same
event shape through the local Lambda runtime at ``make up``. Delete does nothing: the schema,
index and topics hold the users' data and outlive a stack update that replaces this resource.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import bootstrap
from fileshare.observability import logger

PHYSICAL_ID = "fileshare-bootstrap"


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("RequestType", "Create")
    logger.info("bootstrap request", extra={"request_type": request})
    if request == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_ID)}
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": bootstrap.run()}
