"""Every handler runs from its bundled assets alone: CDK stages each function's code, the shared layer
and the dependency layer (pip from requirements.lock with --require-hashes, as ``infra/bundling.py``
does for Lambda, here for this machine's architecture); the layers are unpacked into one ``opt/``
the way Lambda does, and each handler is imported and invoked in ``python -I -S`` (standard library
only: no venv, no PYTHONPATH, nothing from the source tree) with an event it can answer, against the
shared local stack. A module loaded from anywhere but the assets fails the test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from infra import bundling
from infra.declaration import (
    EVENTS_TOPIC,
    FUNCTIONS,
    REPO_ROOT,
    DeployTrigger,
    Function,
    KafkaTrigger,
    ScheduleTrigger,
    SqsTrigger,
)
from lambdarun.environment import function_env, load_env_file
from lambdarun.events import KafkaRecord, msk_event, sqs_event
from tests.support.apigw import event as rest_event

TEST_ENV = REPO_ROOT / ".local" / "test.env"

RUNNER = r'''
import importlib, json, os, sys, traceback
spec = json.loads(open(sys.argv[1]).read())
sys.path[:0] = [spec["task"], os.path.join(spec["opt"], "python")]

class Context:
    aws_request_id = "assets-test"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + spec["name"]
    function_name = spec["name"]
    function_version = "$LATEST"
    memory_limit_in_mb = "256"
    log_group_name = "/aws/lambda/" + spec["name"]
    log_stream_name = "assets-test"
    def get_remaining_time_in_millis(self):
        return 30000

module_name, attribute = spec["handler"].rsplit(".", 1)
out = {}
try:
    handler = getattr(importlib.import_module(module_name), attribute)
    out["result"] = handler(spec["event"], Context())
except BaseException as exc:
    out["error"] = "".join(traceback.format_exception(exc))
allowed = (spec["task"], spec["opt"], spec["stdlib"])
out["foreign"] = sorted({
    getattr(m, "__file__", None) for m in list(sys.modules.values())
    if getattr(m, "__file__", None) and m.__name__ != "__main__"
    and not os.path.realpath(m.__file__).startswith(allowed)
})
print("\n@@RESULT@@" + json.dumps(out, default=str))
'''


@dataclass(frozen=True)
class Bundle:
    task: dict[str, Path]  # function name -> its staged code asset
    opt: Path  # the layers, unpacked in order as Lambda does into /opt


def asset_dir(outdir: Path, code: dict[str, Any]) -> Path:
    key = code["S3Key"]
    assert isinstance(key, str) and key.endswith(".zip"), code
    return outdir / f"asset.{key.removesuffix('.zip')}"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    outdir = tmp_path_factory.mktemp("assets-cdk-out")
    app = App(outdir=str(outdir))
    stack = Stack(app, "Assets")
    layers = [
        lambda_.LayerVersion(stack, "Dependencies", code=bundling.dependency_layer_code(
            real=True, platforms=bundling.host_platforms())),
        lambda_.LayerVersion(stack, "Shared", code=bundling.shared_layer_code()),
    ]
    for fn in FUNCTIONS:
        lambda_.Function(stack, fn.name, function_name=fn.name, runtime=lambda_.Runtime.PYTHON_3_13,
                         handler=fn.handler, code=bundling.function_code(fn.code_dir), layers=layers)
    app.synth()
    template = json.loads((outdir / "Assets.template.json").read_text())
    resources = template["Resources"]
    opt = tmp_path_factory.mktemp("opt")
    layer_ids = [stack.get_logical_id(layer.node.default_child) for layer in layers]  # type: ignore[arg-type]
    for logical in layer_ids:  # Lambda extracts layers in order into /opt, later ones on top
        layer_asset = asset_dir(outdir, resources[logical]["Properties"]["Content"])
        shutil.copytree(layer_asset, opt, dirs_exist_ok=True)
    task = {
        r["Properties"]["FunctionName"]: asset_dir(outdir, r["Properties"]["Code"])
        for r in resources.values() if r["Type"] == "AWS::Lambda::Function"
    }
    return Bundle(task, opt)


def test_the_layer_holds_exactly_the_locked_packages(bundle: Bundle) -> None:
    locked = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1].split()[0]
              for line in (REPO_ROOT / "requirements.lock").read_text().splitlines()
              if "==" in line and not line.startswith((" ", "#"))}
    installed = {}
    for dist in (bundle.opt / "python").glob("*.dist-info"):
        name, version = dist.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[name.lower().replace("_", "-")] = version
    assert installed == locked


def invocation(fn: Function) -> tuple[dict[str, Any], str]:
    """An event ``fn`` can answer from its assets, and what kind of answer to expect."""
    if any(isinstance(t, DeployTrigger) for t in fn.triggers):
        return {"RequestType": "Delete", "ResourceProperties": {}}, "deploy"
    # Lambda never delivers an empty batch (Powertools refuses one): one record the consumer
    # acknowledges without touching a store, S3's test event or an event type it does not handle.
    if any(isinstance(t, SqsTrigger) for t in fn.triggers):
        message = {"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": json.dumps({"Event": "s3:TestEvent"})}
        return sqs_event([message], "arn:aws:sqs:us-east-1:000000000000:uploads", "us-east-1"), "batch"
    if any(isinstance(t, KafkaTrigger) for t in fn.triggers):
        record = KafkaRecord(EVENTS_TOPIC, 0, 0, 0, 0, None, json.dumps({"type": "assets.test"}).encode())
        return msk_event([record], cluster_arn="arn:aws:kafka:local", bootstrap="localhost:9092"), "batch"
    if any(isinstance(t, ScheduleTrigger) for t in fn.triggers):
        return {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, "schedule"
    if fn.name == "meta":
        return rest_event("GET", "/health"), "200"
    public = [r for r in fn.routes if not r.auth]
    if fn.name == "public_link":
        return rest_event("GET", "/s/no-such-token", resource="/s/{token}",
                          path_parameters={"token": "no-such-token"}), "4xx"
    if public:  # auth: an empty body is refused by validation before Cognito is asked
        return rest_event(public[0].method, public[0].path, raw_body="{}"), "4xx"
    # A GET, without path parameters where there is one, so nothing but the missing claims is wrong;
    # a parameter gets a well-formed id (validation would answer a 422 before the claims are read).
    route = min(fn.routes, key=lambda r: (r.method != "GET", "{" in r.path))
    names = re.findall(r"{(\w+)}", route.path)
    parameters = {name: "00000000-0000-4000-8000-000000000000" for name in names}
    path = route.path.format(**parameters)
    return rest_event(route.method, path, resource=route.path, path_parameters=parameters), "401"


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.name)
def test_handler_runs_from_its_assets_alone(bundle: Bundle, fn: Function, tmp_path: Path) -> None:
    if not TEST_ENV.exists():
        pytest.fail("the local stack is not up (.local/test.env is missing): run `make up`")
    event, expect = invocation(fn)
    task = bundle.task[fn.name]
    spec = {"name": fn.name, "handler": fn.handler, "event": event, "task": str(task), "opt": str(bundle.opt),
            "stdlib": sysconfig.get_paths()["stdlib"]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "runner.py").write_text(RUNNER)
    env = function_env(fn, load_env_file(TEST_ENV), task)
    assert "PYTHONPATH" not in env
    base_python = getattr(sys, "_base_executable", sys.executable)
    proc = subprocess.run([base_python, "-I", "-S", str(tmp_path / "runner.py"), str(tmp_path / "spec.json")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert "@@RESULT@@" in proc.stdout, proc.stderr[-4000:]
    out = json.loads(proc.stdout.rsplit("@@RESULT@@", 1)[1])
    assert "error" not in out, out["error"]
    assert out["foreign"] == [], f"modules loaded from outside the assets: {out['foreign']}"
    result = out["result"]
    if expect == "batch":
        assert result == {"batchItemFailures": []}
    elif expect in ("schedule", "deploy"):
        assert isinstance(result, dict), result
    else:
        status = int(result["statusCode"])
        body = json.loads(result["body"])
        if expect == "200":
            assert status == 200, body
        else:
            assert (status == 401) if expect == "401" else (400 <= status < 500), (status, body)
            assert set(body["error"]) >= {"code", "message"}, body


def test_runner_catches_a_module_from_the_source_tree(bundle: Bundle, tmp_path: Path) -> None:
    """The isolation check can fail: a handler that reaches into the repository is reported."""
    task = tmp_path / "task"
    task.mkdir()
    (task / "handler.py").write_text(
        f"import sys\nsys.path.append({str(REPO_ROOT / 'infra')!r})\nimport declaration\n"
        "def lambda_handler(event, context):\n    return {}\n")
    spec = {"name": "probe", "handler": "handler.lambda_handler", "event": {}, "task": str(task),
            "opt": str(bundle.opt), "stdlib": sysconfig.get_paths()["stdlib"]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "runner.py").write_text(RUNNER)
    proc = subprocess.run([getattr(sys, "_base_executable", sys.executable), "-I", "-S",
                           str(tmp_path / "runner.py"), str(tmp_path / "spec.json")],
                          capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "")},
                          timeout=60, check=False)
    out = json.loads(proc.stdout.rsplit("@@RESULT@@", 1)[1])
    assert out["foreign"] == [str(REPO_ROOT / "infra" / "declaration.py")]
