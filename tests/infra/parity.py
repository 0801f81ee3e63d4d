"""Routes and triggers read back from a synthesized template, in the local runtime's table format.

Pass a stage's merged template (``Assembly.templates``, ``infra.templates.merged``): the API's methods
live in the nested API stack and reach their functions in the root through parameters, which the merge
resolves back to the functions' logical ids."""

from __future__ import annotations

import re
from typing import Any

from .helpers import logical_id, ref_id, refs, resources

_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def _function_names(template: dict[str, Any]) -> dict[str, str]:
    """Function (or its SnapStart alias's) logical id -> declared name (FunctionName is
    ``fileshare-<stage>-<name>``; an alias names its function by Ref)."""
    names = {}
    for lid, res in resources(template, "AWS::Lambda::Function").items():
        match = re.fullmatch(r"fileshare-(?:dev|prod)-(.+)", str(res["Properties"].get("FunctionName", "")))
        if match:
            names[lid] = match.group(1)
    for lid, res in resources(template, "AWS::Lambda::Alias").items():
        function = logical_id(res["Properties"]["FunctionName"])
        if function in names:
            names[lid] = names[function]
    return names


def template_routes(template: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(METHOD, /path, function) -> the method's properties, for every non-OPTIONS API method."""
    api_resources = resources(template, "AWS::ApiGateway::Resource")
    functions = _function_names(template)

    def path_of(resource_ref: Any) -> str:
        lid = logical_id(resource_ref)
        if lid not in api_resources:  # Fn::GetAtt RestApi.RootResourceId
            return ""
        props = api_resources[lid]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    routes = {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] in ("OPTIONS", "ANY"):  # CORS preflight, 405 for undeclared methods
            continue
        targets = [functions[lid] for lid in refs(props["Integration"].get("Uri")) if lid in functions]
        assert len(targets) == 1, props["Integration"]
        routes[(props["HttpMethod"], path_of(props["ResourceId"]) or "/", targets[0])] = props
    return routes


def _rate_seconds(expression: str) -> int:
    match = re.fullmatch(r"rate\((\d+) (\w+)\)", expression)
    assert match, expression
    return int(match.group(1)) * _RATE_UNITS[match.group(2)]


def template_triggers(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, source, function) like ``lambdarun.triggers.trigger_table()``."""
    functions = _function_names(template)
    rows = []
    for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        function = functions[ref_id(props["FunctionName"])]
        source = template["Resources"][logical_id(props["EventSourceArn"])]
        if source["Type"] == "AWS::SQS::Queue":
            queue = re.fullmatch(r"fileshare-(?:dev|prod)-(.+)", source["Properties"]["QueueName"])
            assert queue
            rows.append(("sqs", queue.group(1), function))
        elif source["Type"] == "AWS::MSK::ServerlessCluster":
            for topic in props["Topics"]:
                rows.append(("kafka", topic, function))
        else:
            raise AssertionError(f"unexpected event source {source['Type']}")
    for schedule in resources(template, "AWS::Scheduler::Schedule").values():
        props = schedule["Properties"]
        function = functions[ref_id(props["Target"]["Arn"])]
        rows.append(("schedule", f"rate({_rate_seconds(props['ScheduleExpression'])} seconds)", function))
    for custom in resources(template, "Custom::FileshareBootstrap").values():
        framework = template["Resources"][logical_id(custom["Properties"]["ServiceToken"])]
        on_event = framework["Properties"]["Environment"]["Variables"]["USER_ON_EVENT_FUNCTION_ARN"]
        rows.append(("deploy", "custom-resource", functions[ref_id(on_event)]))
    return sorted(rows)


def template_socket_routes(template: dict[str, Any]) -> dict[str, str]:
    """The WebSocket API's route keys -> the function each one's integration invokes."""
    functions = _function_names(template)
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    table = {}
    for route in resources(template, "AWS::ApiGatewayV2::Route").values():
        target = str(route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"])  # "integrations/<id>"
        uri = integrations[target]["Properties"]["IntegrationUri"]
        (function,) = [functions[lid] for lid in refs(uri) if lid in functions]
        table[route["Properties"]["RouteKey"]] = function
    return table
