"""Small readers over synthesized CloudFormation templates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

STAGES = ("dev", "prod")


def stack(stage: str) -> str:
    return f"Fileshare-{stage}"


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def logical_id(value: Any) -> str | None:
    """The logical id behind a ``Ref`` or ``Fn::GetAtt``."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def ref_id(value: Any) -> str:
    """Like :func:`logical_id`, for values that must be a reference."""
    lid = logical_id(value)
    assert lid is not None, f"not a Ref/GetAtt: {value!r}"
    return lid


def refs(value: Any) -> set[str]:
    """Every logical id referenced anywhere inside ``value``."""
    found: set[str] = set()
    if isinstance(value, dict):
        lid = logical_id(value)
        if lid:
            found.add(lid)
        for inner in value.values():
            found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(policy logical id, statement) for every IAM policy and every role's inline policy."""
    for lid, res in resources(template, "AWS::IAM::Policy").items():
        for statement in res["Properties"]["PolicyDocument"]["Statement"]:
            yield lid, statement
    for lid, res in resources(template, "AWS::IAM::Role").items():
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield lid, statement


def function_by_name(template: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    for lid, res in resources(template, "AWS::Lambda::Function").items():
        if res["Properties"].get("FunctionName", "").endswith(f"-{name}") and re.fullmatch(
            rf"fileshare-(dev|prod)-{re.escape(name)}", res["Properties"]["FunctionName"]
        ):
            return lid, res
    raise KeyError(name)


def is_web_config(resource: Any) -> bool:
    """The web bucket's ``config.json``, which every function may read without a custom domain
    (``infra/hosting.py``: where public links point); not a grant of any ``Uses``."""
    return str(resource).endswith(("/config.json", "/config.json']]}"))


def _without_web_config(statement: dict[str, Any]) -> dict[str, Any] | None:
    """``statement`` without the config.json read (CDK merges it into other s3:GetObject statements)."""
    if as_list(statement.get("Action")) != ["s3:GetObject"]:
        return statement
    kept = [r for r in as_list(statement.get("Resource", [])) if not is_web_config(r)]
    return {**statement, "Resource": kept} if kept else None


def role_statements(template: dict[str, Any], role_lid: str, *,
                    web_config: bool = False) -> list[dict[str, Any]]:
    """Statements of every policy attached to ``role_lid`` (the web config read only with ``web_config``)."""
    out = []
    for res in resources(template, "AWS::IAM::Policy").values():
        if role_lid in refs(res["Properties"].get("Roles", [])):
            out += res["Properties"]["PolicyDocument"]["Statement"]
    role = template["Resources"][role_lid]["Properties"]
    for policy in role.get("Policies", []):
        out += policy["PolicyDocument"]["Statement"]
    if web_config:
        return out
    return [kept for s in out if (kept := _without_web_config(s)) is not None]


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    return {
        a for s in statements if s.get("Effect", "Allow") == "Allow" for a in as_list(s.get("Action", []))
    }
