"""The prod WAF lets the largest valid ``POST /files/{id}/complete`` through and still blocks large
bodies elsewhere: the web ACL of the synthesized template is evaluated against requests by a small
model of WAF's rule semantics (first terminating action wins, ``count`` overrides, body inspection
limit and oversize handling), with the AWS Common Rule Set's ``SizeRestrictions_BODY`` modelled as
the only managed rule a benign JSON body can trip."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from fileshare.adapters.storage import MAX_PARTS
from fileshare.models import CompleteIn

from .conftest import Assembly
from .helpers import resources, stack

INSPECTION_LIMIT = 16 * 1024  # what WAF sees of an API Gateway request body (default)
CRS_BODY_LIMIT = 8 * 1024  # AWSManagedRulesCommonRuleSet / SizeRestrictions_BODY


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as WAF sees it on the execute-api endpoint: with the stage prefix
    body: bytes = b""


def matches(statement: dict[str, Any], request: Request) -> bool:
    if "AndStatement" in statement:
        return all(matches(s, request) for s in statement["AndStatement"]["Statements"])
    if "OrStatement" in statement:
        return any(matches(s, request) for s in statement["OrStatement"]["Statements"])
    if "NotStatement" in statement:
        return not matches(statement["NotStatement"]["Statement"], request)
    if "ByteMatchStatement" in statement:
        s = statement["ByteMatchStatement"]
        assert s["FieldToMatch"] == {"Method": {}} and s["PositionalConstraint"] == "EXACTLY", s
        return request.method == s["SearchString"]
    if "RegexMatchStatement" in statement:
        s = statement["RegexMatchStatement"]
        assert s["FieldToMatch"] == {"UriPath": {}}, s
        return re.search(s["RegexString"], request.path) is not None
    if "SizeConstraintStatement" in statement:
        s = statement["SizeConstraintStatement"]
        body = s["FieldToMatch"]["Body"]
        assert s["ComparisonOperator"] == "GT", s
        if len(request.body) > INSPECTION_LIMIT:
            handling = body.get("OversizeHandling", "CONTINUE")
            if handling == "MATCH":
                return True
            if handling == "NO_MATCH":
                return False
            return int(s["Size"]) < INSPECTION_LIMIT
        return len(request.body) > int(s["Size"])
    if "RateBasedStatement" in statement:
        return False  # one request is never over the rate
    raise AssertionError(f"statement the model does not know: {statement}")


def managed_action(group: dict[str, Any], request: Request) -> str | None:
    """The action of the first managed rule the request trips (after overrides), or None."""
    if group["Name"] != "AWSManagedRulesCommonRuleSet" or len(request.body) <= CRS_BODY_LIMIT:
        return None
    overrides = {o["Name"]: next(iter(o["ActionToUse"])) for o in group.get("RuleActionOverrides", [])}
    return overrides.get("SizeRestrictions_BODY", "Block").capitalize()


def decide(acl: dict[str, Any], request: Request) -> tuple[str, str | None]:
    """("Allow" | "Block", the deciding rule) for ``request``."""
    for rule in sorted(acl["Rules"], key=lambda r: r["Priority"]):
        statement = rule["Statement"]
        if "ManagedRuleGroupStatement" in statement:
            action = managed_action(statement["ManagedRuleGroupStatement"], request)
            if action == "Block" and "None" in rule["OverrideAction"]:
                return "Block", rule["Name"]
        elif matches(statement, request):
            action = next(iter(rule["Action"]))
            if action in ("Block", "Allow"):
                return action, rule["Name"]
    return next(iter(acl["DefaultAction"])).capitalize(), None


def web_acl(assembly: Assembly) -> dict[str, Any]:
    (acl,) = resources(assembly.templates[stack("prod")], "AWS::WAFv2::WebACL").values()
    return dict(acl["Properties"])


def complete_body(parts: int, etag: str) -> bytes:
    """A ``POST /files/{id}/complete`` body, validated by the API's own model: every part with its
    ETag and its SHA-256 (as uploads created with part checksums send them)."""
    checksum = "A" * 43 + "="  # base64 SHA-256, as S3's x-amz-checksum-sha256
    body = json.dumps({"parts": [{"part_number": n, "etag": etag, "checksum_sha256": checksum}
                                 for n in range(1, parts + 1)]}).encode()
    CompleteIn.model_validate_json(body)
    return body


S3_ETAG = '"' + "f" * 32 + '"'  # S3 part ETags: a quoted MD5 hex
LONGEST_ETAG = "e" * 200  # the longest the API's model accepts
COMPLETE = "/v1/files/0b0e2a52-7f5c-4a43-9a57-2d07a3c0c6f5/complete"


@pytest.mark.parametrize("etag", [S3_ETAG, LONGEST_ETAG])
def test_complete_at_the_maximum_part_count_is_not_blocked(assembly: Assembly, etag: str) -> None:
    body = complete_body(MAX_PARTS, etag)
    assert len(body) > 64 * 1024  # beyond even the largest body inspection WAF can be configured for
    assert decide(web_acl(assembly), Request("POST", COMPLETE, body)) == ("Allow", None)
    # without the stage prefix (custom domain base path mapping) too
    assert decide(web_acl(assembly), Request("POST", COMPLETE.removeprefix("/v1"), body)) == ("Allow", None)


def test_the_old_rule_set_would_block_it_so_the_model_can_fail(assembly: Assembly) -> None:
    acl = copy.deepcopy(web_acl(assembly))
    for rule in acl["Rules"]:
        rule["Statement"].get("ManagedRuleGroupStatement", {}).pop("RuleActionOverrides", None)
    body = complete_body(MAX_PARTS, S3_ETAG)
    assert decide(acl, Request("POST", COMPLETE, body)) == ("Block", "AWSManagedRulesCommonRuleSet")
    # the old ceiling: ~119 parts without checksums, 60 with them (61 are over 8 KB)
    assert decide(acl, Request("POST", COMPLETE, complete_body(61, S3_ETAG)))[0] == "Block"


@pytest.mark.parametrize(
    ("method", "path", "size"),
    [
        ("POST", "/v1/files", 9 * 1024),  # over 8 KB, inspected
        ("PATCH", "/v1/files/abc", 40 * 1024),  # over the inspection limit: oversize counts as too big
        ("GET", COMPLETE, 9 * 1024),  # the exception is for POST only
        ("POST", "/v1/files/abc/complete/x", 9 * 1024),
        ("POST", "/v1/files/a/b/complete", 9 * 1024),
    ],
)
def test_large_bodies_elsewhere_are_still_blocked(
    assembly: Assembly, method: str, path: str, size: int
) -> None:
    assert decide(web_acl(assembly), Request(method, path, b"x" * size)) == ("Block", "BodySizeLimit")


def test_ordinary_requests_pass(assembly: Assembly) -> None:
    acl = web_acl(assembly)
    assert decide(acl, Request("POST", "/v1/files", b'{"name": "a.txt", "size": 1}')) == ("Allow", None)
    assert decide(acl, Request("POST", "/v1/files", b"x" * CRS_BODY_LIMIT)) == ("Allow", None)
