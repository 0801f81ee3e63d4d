"""Synthesize the CDK app once per test session (no pip bundling, cdk-nag on).

``assembly`` is the real app (infra.declaration, both stages); ``full_assembly`` is the dev stage built
from a declaration that exercises every trigger kind and every ``Uses`` value, so the generated
wiring is proven even for functions the real declaration does not have yet.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from infra.declaration import (
    EVENTS_TOPIC,
    UPLOAD_QUEUE,
    Function,
    KafkaTrigger,
    Route,
    ScheduleTrigger,
    SqsTrigger,
    Uses,
)
from infra.templates import StageTemplates, merged, read_assembly

FULL_FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="meta",
        description="public routes only",
        routes=(Route("GET", "/health", auth=False),),
        uses=frozenset({Uses.DATABASE, Uses.CACHE}),
    ),
    Function(
        name="files",
        description="every use",
        routes=(
            Route("POST", "/files"),
            Route("GET", "/files/{file_id}"),
            Route("GET", "/s/{token}", auth=False),
        ),
        uses=frozenset(Uses),
    ),
    Function(
        name="auth",
        description="no VPC store",
        routes=(Route("POST", "/auth/login", auth=False),),
        uses=frozenset({Uses.USER_POOL}),
    ),
    Function(
        name="processor",
        description="sqs",
        timeout_s=60,
        triggers=(SqsTrigger(UPLOAD_QUEUE, batch_size=5, max_batching_window_s=2),),
        uses=frozenset(
            {Uses.BUCKET_READ, Uses.BUCKET_WRITE, Uses.DATABASE, Uses.SEARCH, Uses.EVENTS_PUBLISH}
        ),
    ),
    Function(
        name="notifier",
        description="kafka",
        triggers=(KafkaTrigger(EVENTS_TOPIC, "notifier", batch_size=50),),
        uses=frozenset({Uses.DATABASE, Uses.EMAIL}),
    ),
    Function(
        name="deleter",
        description="kafka",
        triggers=(KafkaTrigger(EVENTS_TOPIC, "deleter"),),
        uses=frozenset({Uses.DATABASE, Uses.BUCKET_DELETE, Uses.SEARCH, Uses.CACHE}),
    ),
    Function(
        name="sweeper",
        description="schedule",
        triggers=(ScheduleTrigger(every_seconds=300, local_every_seconds=5),),
        uses=frozenset({Uses.DATABASE, Uses.EVENTS_PUBLISH}),
    ),
)


@dataclass
class Assembly:
    """A synthesized app. ``templates``: stack name -> the stage as one template, its nested stacks
    folded in (``infra.templates.merged``: what is deployed, wherever a resource lives);
    ``stages``: the real templates, root and nested, for what depends on where a resource lives."""

    outdir: Path
    templates: dict[str, dict[str, Any]]  # stack name -> merged template
    stages: dict[str, StageTemplates]

    def resources(self, stack: str, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[stack]["Resources"].items() if v["Type"] == type_}

    def files(self) -> dict[str, dict[str, Any]]:
        """Every template file CloudFormation receives (root and nested) -> template."""
        return {path: t for stage in self.stages.values() for path, t in stage.files().items()}


#: The settings cdk.json cannot know (infra/README.md, "Settings"): what a deploy passes with -c.
TEST_SETTINGS: dict[str, str] = {
    **{f"fileshare:{stage}:{name}": value for stage in ("dev", "prod") for name, value in (
        ("account", "111111111111"), ("region", "us-east-1"),
        ("availabilityZones", "us-east-1a,us-east-1b"))},
    "fileshare:prod:webOrigin": "https://files.fileshare-ci.dev",
    "fileshare:prod:publicBaseUrl": "https://files.fileshare-ci.dev",
    "fileshare:prod:alarmEmail": "oncall@fileshare-ci.dev",
}
PROD_ORIGIN = TEST_SETTINGS["fileshare:prod:webOrigin"]

#: A configured sender (cdk.json has none: Cognito's email, no notification emails), for the full app.
FULL_EMAIL_SENDER = "no-reply@mail.fileshare-ci.dev"


def synthesize(outdir: Path, context: dict[str, Any] | None = None, **kwargs: Any) -> Assembly:
    from infra.app import build_app

    app = build_app(context={"fileshare:bundle": "false", **TEST_SETTINGS, **(context or {})},
                    outdir=str(outdir), **kwargs)
    try:
        app.synth()
    except RuntimeError as error:  # cdk-nag (or another validation plugin) reported findings
        report = outdir / "validation-report.json"
        details = report.read_text() if report.exists() else ""
        pytest.fail(f"synthesis failed validation: {error}\n{details[:20000]}")
    report = outdir / "validation-report.json"
    if report.exists():  # cdk-nag warnings do not fail synthesis; nothing may be left unacknowledged
        violations = [v for p in json.loads(report.read_text())["pluginReports"] for v in p["violations"]]
        assert not violations, f"cdk-nag findings: {json.dumps(violations)[:5000]}"
    stages = read_assembly(outdir)
    return Assembly(outdir, {name: merged(stage) for name, stage in stages.items()}, stages)


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    return synthesize(tmp_path_factory.mktemp("cdk-out"))


@pytest.fixture(scope="session")
def full_assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    code_root = tmp_path_factory.mktemp("functions")
    for fn in FULL_FUNCTIONS:
        (code_root / fn.name).mkdir()
        (code_root / fn.name / "handler.py").write_text(
            "def lambda_handler(event, context):\n    return {}\n"
        )
    return synthesize(
        tmp_path_factory.mktemp("cdk-out-full"),
        context={f"fileshare:{stage}:emailSender": FULL_EMAIL_SENDER for stage in ("dev", "prod")},
        functions=FULL_FUNCTIONS,
        code_root=code_root,
    )
