"""SnapStart for the API functions only (``Function.snap_start`` in ``infra.declaration``): their
published version is what API Gateway invokes, through the ``live`` alias; a replaced version is
deleted (each one with SnapStart keeps a cached snapshot); every other function runs $LATEST
without a snapshot."""

from __future__ import annotations

from .conftest import FULL_FUNCTIONS, Assembly
from .helpers import logical_id, resources, stack
from .parity import template_routes


def test_api_functions_snap_start_and_the_api_invokes_their_alias(full_assembly: Assembly) -> None:
    template = full_assembly.templates[stack("dev")]
    functions = resources(template, "AWS::Lambda::Function")
    aliases = resources(template, "AWS::Lambda::Alias")
    versions = resources(template, "AWS::Lambda::Version")
    api = {fn.name for fn in FULL_FUNCTIONS if fn.snap_start}
    assert api == {fn.name for fn in FULL_FUNCTIONS if fn.routes}
    names = {lid: str(f["Properties"].get("FunctionName", "")).removeprefix("fileshare-dev-")
             for lid, f in functions.items()}
    snap = {names[lid] for lid, f in functions.items()
            if f["Properties"].get("SnapStart") == {"ApplyOn": "PublishedVersions"}}
    assert snap == api
    alias_of = {names[logical_id(a["Properties"]["FunctionName"]) or ""]: lid for lid, a in aliases.items()}
    assert set(alias_of) == api and all(a["Properties"]["Name"] == "live" for a in aliases.values())
    for version in versions.values():
        assert version["DeletionPolicy"] == "Delete"
    for (_method, _path, _fn), props in template_routes(template).items():
        uri_refs = {logical_id(part) for part in props["Integration"]["Uri"]["Fn::Join"][1]
                    if isinstance(part, dict)}
        assert uri_refs & set(aliases), props["Integration"]  # the alias, never $LATEST
    for permission in resources(template, "AWS::Lambda::Permission").values():
        if permission["Properties"]["Principal"] == "apigateway.amazonaws.com":
            assert logical_id(permission["Properties"]["FunctionName"]) in aliases
