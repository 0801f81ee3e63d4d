"""Bootstrap: creates what must exist before the first request (schema, search index, topics).

CDK calls it on every deploy as the ``onEvent`` handler of a ``custom_resources.Provider`` (the
Provider framework owns the CloudFormation response: a returned dict is SUCCESS, an exception is
FAILED and rolls the deployment back). The local stack invokes the same handler with the same
event shape through the local Lambda runtime at ``make up``. Delete does nothing: the schema,
index and topics hold the users' data and outlive a stack update that replaces this resource.

A rollback must not run new code against old properties: CloudFormation rolls the custom resource
back (an Update carrying the previous deploy's properties) before it rolls this function's code
back. The resource's ``CodeHash`` and the function's ``FILESHARE_CODE_HASH`` are the same content
hash (infra/functions.py), so an Update whose hash is not this code's is that rollback: it reports
success and changes nothing (the schema, index and topics are only ever added to).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fileshare import bootstrap
from fileshare.adapters.observability import logger

PHYSICAL_ID = "fileshare-bootstrap"
CODE_HASH_ENV = "FILESHARE_CODE_HASH"  # set by CDK next to the custom resource's CodeHash property


def foreign_code_hash(event: dict[str, Any]) -> str | None:
    """The properties' code hash when it is not this code's (a rollback's Update), else None.

    Only when both are known: the local stack's invocation carries neither."""
    if event.get("RequestType") != "Update":
        return None
    wanted = (event.get("ResourceProperties") or {}).get("CodeHash")
    own = os.environ.get(CODE_HASH_ENV)
    return wanted if wanted and own and wanted != own else None


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("RequestType", "Create")
    logger.info("bootstrap request", extra={"request_type": request})
    if request == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_ID)}
    foreign = foreign_code_hash(event)
    if foreign is not None:
        logger.info("bootstrap skipped: the properties are for other code (a rollback to the previous "
                    "version); nothing changed", extra={"properties_code_hash": foreign,
                                                        "own_code_hash": os.environ.get(CODE_HASH_ENV)})
        return {"PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_ID)}
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": bootstrap.run()}
