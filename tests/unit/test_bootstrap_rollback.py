"""The bootstrap does nothing for an Update whose code hash is not its own: CloudFormation rolls the
custom resource back (old properties) before the function's code, and new code must not run against
the previous deploy's properties."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.apigw import FakeContext
from tests.support.pipeline import load_handler


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The bootstrap handler with its code hash set and ``runs`` recording each bootstrap.run()."""
    module: Any = load_handler("bootstrap")
    runs: list[str] = []

    def run() -> dict[str, Any]:
        runs.append("run")
        return {"migrations": []}

    monkeypatch.setattr(module.bootstrap, "run", run)
    monkeypatch.setenv(module.CODE_HASH_ENV, "aaaa000011112222")
    monkeypatch.setattr(module, "runs", runs, raising=False)
    return module


def _event(request: str, code_hash: str | None) -> dict[str, Any]:
    properties = {"ServiceToken": "arn"} | ({"CodeHash": code_hash} if code_hash else {})
    return {"RequestType": request, "ResourceType": "Custom::FileshareBootstrap", "RequestId": "r",
            "LogicalResourceId": "Bootstrap", "PhysicalResourceId": "fileshare-bootstrap",
            "ResourceProperties": properties}


def test_an_update_with_another_code_hash_is_a_rollback_and_runs_nothing(handler: Any) -> None:
    result = handler.lambda_handler(_event("Update", "ffff999988887777"), FakeContext("bootstrap"))
    assert result == {"PhysicalResourceId": "fileshare-bootstrap"}  # SUCCESS, same resource
    assert handler.runs == []


@pytest.mark.parametrize(("request_type", "code_hash"), [
    ("Update", "aaaa000011112222"),  # a forward deploy: the resource's hash is this code's
    ("Create", "ffff999988887777"),  # only an Update can be a rollback
    ("Update", None),  # the local stack's event carries no hash
])
def test_otherwise_the_bootstrap_runs(handler: Any, request_type: str, code_hash: str | None) -> None:
    result = handler.lambda_handler(_event(request_type, code_hash), FakeContext("bootstrap"))
    assert result["Data"] == {"migrations": []}
    assert handler.runs == ["run"]


def test_without_its_own_hash_it_runs(handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(handler.CODE_HASH_ENV)  # make up: no CDK environment
    handler.lambda_handler(_event("Update", "ffff999988887777"), FakeContext("bootstrap"))
    assert handler.runs == ["run"]
