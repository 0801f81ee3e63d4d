"""The one resource table (``infra.declaration.RESOURCES``): every use has a row; the local runtime
hides the variables of undeclared resources and passes the required list; configuration fails at
cold start naming what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fileshare import config
from infra.declaration import (
    FUNCTIONS,
    REQUIRED_SETTINGS_ENV,
    RESOURCES,
    Function,
    Uses,
    required_settings,
    resource_env,
)
from lambdarun.environment import function_env

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("use", list(Uses), ids=str)
def test_every_use_has_a_row(use: Uses) -> None:
    row = RESOURCES[use]
    assert row.env and set(row.required) <= set(row.env)
    assert row.grant and row.local


def test_the_shared_layer_and_the_declaration_name_the_variable_alike() -> None:
    assert config.REQUIRED_SETTINGS_ENV == REQUIRED_SETTINGS_ENV


def test_local_env_hides_undeclared_resources_and_lists_the_required(tmp_path: Path) -> None:
    fn = Function(name="f", description="t", uses=frozenset({Uses.CACHE, Uses.BUCKET_READ}))
    base = {"REDIS_URL": "redis://x", "UPLOAD_BUCKET": "b", "EMAIL_SENDER": "a@b.c",
            "DATABASE_URL": "postgresql://x", "KAFKA_BOOTSTRAP_SERVERS": "k:9092"}
    env = function_env(fn, base, tmp_path)
    assert env["REDIS_URL"] == "redis://x" and env["UPLOAD_BUCKET"] == "b"
    assert not {"EMAIL_SENDER", "DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"} & set(env)
    assert env[REQUIRED_SETTINGS_ENV] == "REDIS_URL,UPLOAD_BUCKET"


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.name)
def test_every_declared_function_passes_the_check_with_its_resources(fn: Function) -> None:
    environ = {name: "set" for name in resource_env(fn.uses)}
    environ[REQUIRED_SETTINGS_ENV] = required_settings(fn.uses)
    config.check_required(environ)


def test_check_names_every_missing_setting() -> None:
    environ = {REQUIRED_SETTINGS_ENV: "DATABASE_URL,REDIS_URL,UPLOAD_BUCKET", "REDIS_URL": "redis://x",
               "UPLOAD_BUCKET": "", "AWS_LAMBDA_FUNCTION_NAME": "fileshare-dev-files"}
    with pytest.raises(config.MissingSettingsError) as raised:
        config.check_required(environ)
    message = str(raised.value)
    assert "fileshare-dev-files is missing required settings DATABASE_URL, UPLOAD_BUCKET" in message
    config.check_required({})  # outside Lambda and the local runtime: nothing to check


def test_cold_start_fails_on_import(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", REQUIRED_SETTINGS_ENV: "DATABASE_URL,REDIS_URL", "REDIS_URL": "redis://x"}
    proc = subprocess.run(
        [sys.executable, "-c", "import fileshare.config"], capture_output=True, text=True, check=False,
        env={**env, "PYTHONPATH": str(REPO_ROOT / "layers" / "shared" / "python")}, cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "MissingSettingsError" in proc.stderr and "missing required settings DATABASE_URL" in proc.stderr


@pytest.mark.parametrize("fn", [fn for fn in FUNCTIONS if fn.routes], ids=lambda fn: fn.name)
def test_every_api_function_declares_the_cache_its_rate_limiter_counts_in(fn: Function) -> None:
    """``fileshare.api.create_app`` installs the per-user and per-IP limiter in every API function;
    without ``Uses.CACHE`` it has no Redis (it failed open, silently: auth's per-IP limit)."""
    assert Uses.CACHE in fn.uses


def test_a_rate_limit_without_redis_fails_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = ("RATE_LIMIT_PER_MINUTE", "IP_RATE_LIMIT_PER_MINUTE", "READ_RATE_LIMIT_PER_MINUTE",
              "UPLOAD_FILES_PER_HOUR", "UPLOAD_BYTES_PER_HOUR")
    for name in ("REDIS_URL", *limits):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(REQUIRED_SETTINGS_ENV, "")  # as in a function that declares nothing
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "auth")
    config.settings.cache_clear()
    try:
        with pytest.raises(config.MissingSettingsError, match=r"auth .*REDIS_URL.*Uses\.CACHE"):
            config.check_rate_limit_store()
        for name in limits:
            monkeypatch.setenv(name, "0")
        config.settings.cache_clear()
        config.check_rate_limit_store()  # every limit off: nothing to count
        monkeypatch.delenv("RATE_LIMIT_PER_MINUTE")
        config.settings.cache_clear()
        config.check_rate_limit_store({})  # not in a function (make openapi): not checked
    finally:
        config.settings.cache_clear()
