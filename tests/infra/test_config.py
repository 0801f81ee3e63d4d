"""Stage settings are validated at synth: a missing or unusable one fails with a message naming it and
how to set it, before CloudFormation (or the first hour of traffic) finds out."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any

import pytest
from aws_cdk import App

from infra.app import _with_cdk_json
from infra.config import SettingError, StageConfig, stage_config
from infra.declaration import REPO_ROOT

from .conftest import TEST_SETTINGS, Assembly


def _config(stage: str, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> StageConfig:
    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
    monkeypatch.delenv("CDK_DEFAULT_REGION", raising=False)
    context = {**TEST_SETTINGS, **{f"fileshare:{stage}:{k}": v for k, v in settings.items()}}
    return stage_config(App(context=_with_cdk_json(context)), stage)


def _refused(stage: str, name: str, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> str:
    with pytest.raises(SettingError) as error:
        _config(stage, monkeypatch, **settings)
    assert error.value.setting == name
    message = str(error.value)
    assert f"setting {name!r}" in message and f"-c fileshare:{stage}:{name}=" in message
    return message


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_test_settings_are_a_complete_stage(stage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(stage, monkeypatch)
    assert (config.account, config.region) == ("111111111111", "us-east-1")
    assert config.availabilityZones == ("us-east-1a", "us-east-1b")


def test_account_and_region_come_from_the_cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refused("dev", "account", monkeypatch, account="")
    assert "CDK_DEFAULT_ACCOUNT" in message
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "222222222222")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    context = {**TEST_SETTINGS, "fileshare:dev:account": "", "fileshare:dev:region": "",
               "fileshare:dev:availabilityZones": "eu-west-1a,eu-west-1c"}
    config = stage_config(App(context=_with_cdk_json(context)), "dev")
    assert (config.account, config.region) == ("222222222222", "eu-west-1")


@pytest.mark.parametrize(("name", "value"), [
    ("account", "12345"),
    ("region", "mars-north-1a"),
    ("availabilityZones", ""),
    ("availabilityZones", "us-east-1a"),  # Aurora and RDS Proxy need two
    ("availabilityZones", "us-east-1a,us-east-1a"),
    ("availabilityZones", "us-east-1a,eu-west-1b"),
    ("availabilityZones", "use1-az1,use1-az2"),  # zone ids are not zone names
    ("webOrigin", ""),
    ("webOrigin", "localhost:8080"),
    ("webOrigin", "https://files.fileshare-ci.dev/app"),
    ("publicBaseUrl", "files.fileshare-ci.dev"),
    ("logRetentionDays", 10),
    ("emailSender", "no-reply@fileshare.example.com"),
])
def test_an_unusable_setting_is_refused_by_name(
    name: str, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refused("dev", name, monkeypatch, **{name: value})


@pytest.mark.parametrize(("name", "value"), [
    ("webOrigin", ""),  # cdk.json has no prod origin: it must be given
    ("webOrigin", "http://files.fileshare-ci.dev"),
    ("webOrigin", "https://fileshare.example.com"),
    ("publicBaseUrl", ""),
    ("publicBaseUrl", "https://files.test"),
    ("alarmEmail", ""),  # prod alarms must reach someone
    ("alarmEmail", "oncall@example.org"),
])
def test_prod_needs_real_origins_and_an_on_call_address(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refused("prod", name, monkeypatch, **{name: value})


def test_dev_may_serve_localhost_and_mail_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config("dev", monkeypatch)
    assert config.webOrigin == "http://localhost:8080"
    assert config.alarmEmail == config.emailSender == ""


def test_cdk_json_defaults_leave_out_what_only_a_deploy_knows() -> None:
    """Account, region and zones come from the deploy; prod's origins and on-call address too."""
    context = _with_cdk_json({})["fileshare"]
    defaults, prod = context["defaults"], context["stages"]["prod"]
    assert defaults["account"] == defaults["region"] == defaults["availabilityZones"] == ""
    assert prod["webOrigin"] == prod["publicBaseUrl"] == "" and defaults["alarmEmail"] == ""


def test_the_readme_lists_every_setting() -> None:
    readme = (REPO_ROOT / "infra" / "README.md").read_text()
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
    assert listed == {f.name for f in fields(StageConfig)} - {"stage"}


def test_synth_looks_nothing_up(assembly: Assembly) -> None:
    """With an explicit account and region CDK would look the zones up (credentials, network) unless
    the app answers from the availabilityZones setting; nothing may be left for the CLI to fetch."""
    manifest = json.loads((assembly.outdir / "manifest.json").read_text())
    assert not manifest.get("missing"), manifest.get("missing")
