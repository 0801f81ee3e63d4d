"""The templates of a synthesized cloud assembly: each stage's root stack and its nested stacks.

No CDK import (the report, the gates and the tests read ``cdk.out`` JSON only). A stage is one
top-level stack (``Fileshare-<stage>.template.json``) plus one ``*.nested.template.json`` per
``AWS::CloudFormation::Stack`` resource in it, found through the stack's asset manifest (the nested
template is an asset whose hash ends the resource's ``TemplateURL``).

:func:`merged` folds a stage back into one template-shaped dict, as CloudFormation deploys it: every
nested ``{"Ref": <parameter>}`` is replaced by the value the parent passes, every parent
``{"Fn::GetAtt": [<nested stack>, "Outputs.<name>"]}`` by the nested output's value, and each nested
resource inherits its nested stack's ``DependsOn`` (nothing in a nested stack is created before what
its stack resource waits for). Readers that follow a ``Ref`` from an API method to its function keep
working whichever template either lives in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NESTED_STACK = "AWS::CloudFormation::Stack"
MAX_RESOURCES = 500  # CloudFormation's hard limit per template (root or nested)
BUDGET_RESOURCES = 450  # ours: a template above it fails the tests while the next feature still fits
MAX_TEMPLATE_BYTES = 1_000_000  # a template uploaded through the CDK asset bucket
_ASSET_KEY = re.compile(r"/([0-9a-f]{64})\.json$")


@dataclass
class StageTemplates:
    """One top-level stack: its template and its nested stacks' (logical id -> template file)."""

    name: str
    root_file: str
    root: dict[str, Any]
    nested: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def files(self) -> dict[str, dict[str, Any]]:
        """Template file name -> template, the root's first."""
        return {self.root_file: self.root, **dict(self.nested.values())}


def _template_url_hash(url: Any) -> str | None:
    parts = url.get("Fn::Join", ["", []])[1] if isinstance(url, dict) else [url]
    tail = parts[-1] if parts and isinstance(parts[-1], str) else ""
    match = _ASSET_KEY.search(tail)
    return match.group(1) if match else None


def read_stage(assembly: Path, name: str, template_file: str) -> StageTemplates:
    root = json.loads((assembly / template_file).read_text())
    stage = StageTemplates(name, template_file, root)
    assets_file = assembly / f"{name}.assets.json"
    assets = json.loads(assets_file.read_text()).get("files", {}) if assets_file.exists() else {}
    for lid, res in root["Resources"].items():
        if res["Type"] != NESTED_STACK:
            continue
        digest = _template_url_hash(res["Properties"].get("TemplateURL"))
        path = assets.get(digest, {}).get("source", {}).get("path") if digest else None
        if not path:
            raise ValueError(f"{name}: nested stack {lid} has no template in {assembly}")
        stage.nested[lid] = (path, json.loads((assembly / path).read_text()))
    return stage


def read_assembly(assembly: Path) -> dict[str, StageTemplates]:
    """Every top-level stack of ``assembly`` (``cdk.out``) with its nested stacks."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    return {
        name: read_stage(assembly, name, artifact["properties"]["templateFile"])
        for name, artifact in manifest["artifacts"].items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }


def _substitute(value: Any, refs: dict[str, Any], outputs: dict[tuple[str, str], Any]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "Ref" in value and value["Ref"] in refs:
            return refs[value["Ref"]]
        if len(value) == 1 and "Fn::GetAtt" in value:
            lid, attr = value["Fn::GetAtt"][0], value["Fn::GetAtt"][1]
            if (lid, attr) in outputs:
                return outputs[(lid, attr)]
        return {k: _substitute(v, refs, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, refs, outputs) for v in value]
    return value


def merged(stage: StageTemplates) -> dict[str, Any]:
    """The stage as one template (see the module docstring); a logical id used twice is an error."""
    resources: dict[str, Any] = {}
    outputs: dict[tuple[str, str], Any] = {}
    for lid, (_path, nested) in stage.nested.items():
        parent = stage.root["Resources"][lid]
        params = parent["Properties"].get("Parameters", {})
        inherited = parent.get("DependsOn", [])
        inherited = [inherited] if isinstance(inherited, str) else list(inherited)
        for name, output in nested.get("Outputs", {}).items():
            outputs[(lid, f"Outputs.{name}")] = _substitute(output["Value"], params, {})
        for nested_lid, res in nested["Resources"].items():
            if nested_lid in resources or nested_lid in stage.root["Resources"]:
                raise ValueError(f"{stage.name}: logical id {nested_lid} in more than one template")
            res = _substitute(res, params, {})
            own = res.get("DependsOn", [])
            depends = ([own] if isinstance(own, str) else list(own)) + inherited
            if depends:
                res = {**res, "DependsOn": depends}
            resources[nested_lid] = res
    for lid, res in stage.root["Resources"].items():
        if lid not in stage.nested:
            resources[lid] = _substitute(res, {}, outputs)
    return {
        **{k: v for k, v in stage.root.items() if k not in ("Resources", "Outputs")},
        "Resources": resources,
        "Outputs": _substitute(stage.root.get("Outputs", {}), {}, outputs),
    }
