"""``infra.templates``: reading a stage's root and nested templates, and folding them into one (the
view most infra tests read), on a small hand-written assembly, so a wrong merge cannot hide behind a
test that happens to pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.templates import merged, read_assembly

DIGEST = "ab" * 32


def _write(tmp_path: Path, root: dict[str, Any], nested: dict[str, Any]) -> Path:
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {
        "S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}},
        "Tree": {"type": "cdk:tree"},
    }}))
    (tmp_path / "S.assets.json").write_text(json.dumps({"files": {
        DIGEST: {"source": {"path": "SChild1234.nested.template.json", "packaging": "file"}}}}))
    (tmp_path / "S.template.json").write_text(json.dumps(root))
    (tmp_path / "SChild1234.nested.template.json").write_text(json.dumps(nested))
    return tmp_path


def _root(**child: Any) -> dict[str, Any]:
    return {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Boot": {"Type": "Custom::FileshareBootstrap", "Properties": {}},
        "Child": {"Type": "AWS::CloudFormation::Stack", "DependsOn": ["Boot"], "Properties": {
            "TemplateURL": {"Fn::Join": ["", ["https://s3.", {"Ref": "AWS::Region"},
                                              f"/bucket/{DIGEST}.json"]]},
            "Parameters": {"refFnArn": {"Fn::GetAtt": ["Fn", "Arn"]}},
        }, **child},
        "Assoc": {"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {
            "ResourceArn": {"Fn::GetAtt": ["Child", "Outputs.ApiId"]}}},
    }, "Outputs": {"Url": {"Value": {"Fn::GetAtt": ["Child", "Outputs.ApiId"]}}}}


NESTED: dict[str, Any] = {
    "Parameters": {"refFnArn": {"Type": "String"}},
    "Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
        "Method": {"Type": "AWS::ApiGateway::Method", "DependsOn": "Api", "Properties": {
            "Integration": {"Uri": {"Fn::Join": ["", ["arn:", {"Ref": "refFnArn"}, "/invocations"]]}}}},
    },
    "Outputs": {"ApiId": {"Value": {"Ref": "Api"}}},
}


def test_a_stage_reads_its_nested_templates_and_folds_them_into_one(tmp_path: Path) -> None:
    (stage,) = read_assembly(_write(tmp_path, _root(), NESTED)).values()
    assert list(stage.files()) == ["S.template.json", "SChild1234.nested.template.json"]
    view = merged(stage)
    assert set(view["Resources"]) == {"Fn", "Boot", "Assoc", "Api", "Method"}  # the stack resource folds away
    method = view["Resources"]["Method"]
    # the parameter became the value the parent passes ...
    assert method["Properties"]["Integration"]["Uri"]["Fn::Join"][1][1] == {"Fn::GetAtt": ["Fn", "Arn"]}
    # ... the nested resource waits for what its stack waited for, and for its own dependency ...
    assert method["DependsOn"] == ["Api", "Boot"]
    assert view["Resources"]["Api"]["DependsOn"] == ["Boot"]
    # ... and the root's reads of nested outputs point at the nested resource.
    assert view["Resources"]["Assoc"]["Properties"]["ResourceArn"] == {"Ref": "Api"}
    assert view["Outputs"]["Url"]["Value"] == {"Ref": "Api"}


def test_a_logical_id_in_two_templates_is_refused(tmp_path: Path) -> None:
    clash = {**NESTED, "Resources": {**NESTED["Resources"], "Fn": {"Type": "AWS::SNS::Topic"}}}
    (stage,) = read_assembly(_write(tmp_path, _root(), clash)).values()
    with pytest.raises(ValueError, match="Fn in more than one template"):
        merged(stage)


def test_a_nested_stack_without_its_template_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _root(), NESTED)
    (path / "S.assets.json").write_text(json.dumps({"files": {}}))
    with pytest.raises(ValueError, match="nested stack Child has no template"):
        read_assembly(path)
