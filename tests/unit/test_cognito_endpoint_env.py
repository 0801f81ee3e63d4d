"""Both names of the Cognito endpoint variable are accepted wherever it is read: the project's
``AWS_ENDPOINT_URL_COGNITO_IDP`` and the SDK's ``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``."""

from __future__ import annotations

import pytest

from fileshare import config
from lambdarun.auth import CognitoSettings
from stackctl.services.cognito import Cognito

PROJECT, SDK = "AWS_ENDPOINT_URL_COGNITO_IDP", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (PROJECT, SDK):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("name", [PROJECT, SDK])
def test_the_settings_read_either_name(clean_env: pytest.MonkeyPatch, name: str) -> None:
    clean_env.setenv(name, "http://127.0.0.1:4711")
    assert config.Settings.model_validate(config._from_env()).cognito_endpoint_url == "http://127.0.0.1:4711"
    assert name in config.env_names()  # the local runtime passes it through to the functions


def test_the_project_name_wins_when_both_are_set() -> None:
    assert config.cognito_endpoint({SDK: "http://sdk", PROJECT: "http://project"}) == "http://project"
    assert config.cognito_endpoint({SDK: "http://sdk", PROJECT: ""}) == "http://sdk"
    assert config.cognito_endpoint({}) == ""


def test_the_local_gateway_finds_the_jwks_under_the_sdk_name() -> None:
    settings = CognitoSettings.from_env({SDK: "http://127.0.0.1:4711/", "USER_POOL_ID": "us-east-1_x",
                                         "USER_POOL_CLIENT_ID": "client"})
    assert settings is not None
    assert settings.jwks_url == "http://127.0.0.1:4711/us-east-1_x/.well-known/jwks.json"


def test_the_stack_reuses_a_cognito_named_by_the_sdk_variable(clean_env: pytest.MonkeyPatch) -> None:
    assert not Cognito().reused
    clean_env.setenv(SDK, "http://127.0.0.1:4711")
    assert Cognito().reused
    assert Cognito().url() == "http://127.0.0.1:4711"
