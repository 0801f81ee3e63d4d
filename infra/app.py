"""Builds the CDK app: one stack per selected stage, cdk-nag registered, from infra.declaration."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment

from infra import config as cfg
from infra import nag
from infra.declaration import FUNCTIONS, FUNCTIONS_DIR, Function
from infra.stack import FileshareStack


def stack_name(stage: str) -> str:
    return f"Fileshare-{stage}"


def build_app(
    *,
    context: dict[str, Any] | None = None,
    outdir: str | None = None,
    functions: Sequence[Function] = FUNCTIONS,
    code_root: Path = FUNCTIONS_DIR,
) -> App:
    """The whole app; ``context`` adds to cdk.json's (tests pass ``fileshare:bundle=false``)."""
    app = App(context=_with_cdk_json(context or {}), outdir=outdir)
    configs = [cfg.stage_config(app, stage) for stage in cfg.selected_stages(app)]
    zones: dict[str, set[str]] = {}
    for config in configs:
        key = f"availability-zones:account={config.account}:region={config.region}"
        zones.setdefault(key, set()).update(config.availabilityZones)
    for key, names in zones.items():
        # The stack's zones are the configured ones: CDK checks the VPC's against them, and this
        # answers that lookup (which would need credentials) before any stack exists.
        app.node.set_context(key, sorted(names))
    for config in configs:
        stage = config.stage
        FileshareStack(
            app,
            stack_name(stage),
            stack_name=stack_name(stage),
            # explicit, so nothing is looked up or left to the credentials at deploy time
            env=Environment(account=config.account, region=config.region),
            config=config,
            functions=functions,
            bundle=cfg.bundling_enabled(app),
            code_root=code_root,
        )
    if cfg.nag_enabled(app):
        nag.add_checks(app)
    return app


def _with_cdk_json(context: dict[str, Any]) -> dict[str, Any]:
    """cdk.json's context, so tests and scripts see what the CLI sees (the CLI's own values win)."""
    cdk_json = Path(__file__).resolve().parent.parent / "cdk.json"
    base = json.loads(cdk_json.read_text()).get("context", {})
    return {**base, **context}
