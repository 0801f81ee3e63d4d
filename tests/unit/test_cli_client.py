"""The terminal client (cli/) without a stack: its generated client is today's document's, and the
pieces the integration test cannot steer (exit classes, durations, the resume state, private files)."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fileshare_api_client import AuthenticatedClient
from fileshare_api_client.api.account import get_me_me_get
from fileshare_cli import api, config, main, transfer
from fileshare_cli.errors import ApiError, CliError, Exit, exit_for_status

REPO = Path(__file__).resolve().parents[2]


def test_the_generated_client_is_from_the_committed_openapi_document() -> None:
    # `make client` regenerates it and records the document's digest; `make lint` regenerates and diffs
    document = hashlib.sha256((REPO / "functions" / "meta" / "openapi.json").read_bytes()).hexdigest()
    assert (REPO / "cli" / "openapi.sha256").read_text().strip() == document, "run `make client`"


def test_every_operation_of_the_document_has_a_generated_module() -> None:
    document = json.loads((REPO / "functions" / "meta" / "openapi.json").read_text())
    generated = {p.stem for p in (REPO / "cli" / "src" / "fileshare_api_client" / "api").rglob("*.py")}
    for operations in document["paths"].values():
        for operation in operations.values():
            name = operation["operationId"].replace("__", "_")
            assert name in generated, name


@pytest.mark.parametrize(("status", "code"), [
    (400, Exit.USAGE), (415, Exit.USAGE), (422, Exit.USAGE), (401, Exit.AUTH), (403, Exit.AUTH),
    (404, Exit.NOT_FOUND), (410, Exit.NOT_FOUND), (409, Exit.CONFLICT), (413, Exit.CONFLICT),
    (429, Exit.CONFLICT), (500, Exit.SERVER), (502, Exit.SERVER), (503, Exit.SERVER),
])
def test_each_error_status_has_its_exit_class(status: int, code: Exit) -> None:
    assert exit_for_status(status) is code
    assert ApiError(status, "x", "y").as_dict()["error"] == {"code": "x", "message": "y", "status": status,
                                                              "exit_code": int(code)}


def test_the_help_documents_every_exit_code() -> None:
    text = CliRunner().invoke(main.cli, ["--help"]).output
    listed = {int(m) for m in re.findall(r"^\s+(\d+)\s{2,}\S", text, flags=re.MULTILINE)}
    assert listed == {int(code) for code in Exit}


@pytest.mark.parametrize(("text", "seconds"),
                         [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("7d", 604800)])
def test_durations(text: str, seconds: int) -> None:
    assert main._seconds(text) == seconds


def test_a_bad_duration_is_a_usage_error() -> None:
    result = CliRunner().invoke(main.cli, ["--api", "http://127.0.0.1:9", "link",
                                           "00000000-0000-0000-0000-000000000000", "--expires-in", "soon"])
    assert result.exit_code == 2 and "use seconds" in result.output


def test_private_files_are_0600_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "sessions.json"
    config.write_private(path, {"a": 1})
    config.write_private(path, {"b": 2})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.read_json(path) == {"b": 2}
    assert [p.name for p in path.parent.iterdir()] == ["sessions.json"]  # no temporary file left


def test_the_api_comes_from_the_option_then_the_environment_then_the_saved_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv(config.API_ENV, raising=False)
    config.save_default_api("http://saved")
    assert config.resolve_api(None) == "http://saved"
    monkeypatch.setenv(config.API_ENV, "http://env/")
    assert config.resolve_api(None) == "http://env"
    assert config.resolve_api("http://option") == "http://option"


def test_the_resume_state_survives_a_round_trip_and_knows_the_last_part_is_short() -> None:
    state = transfer.UploadState("f", "u", part_size=5, part_count=3, size=12, path="/x",
                                 parts={2: ("etag-2", "c2")})
    again = transfer.UploadState.from_json(json.loads(json.dumps(state.to_json())))
    assert again == state
    assert [state.part_length(n) for n in (1, 2, 3)] == [5, 5, 2]


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> AuthenticatedClient:
    return AuthenticatedClient(base_url="http://api.test", token="t", raise_on_unexpected_status=True,
                               httpx_args={"transport": httpx.MockTransport(handler)})


def test_an_error_envelope_becomes_the_exit_class_of_its_status() -> None:
    envelope = {"error": {"code": "rate_limited", "message": "later"}}
    with pytest.raises(ApiError) as raised:
        api.call(_client(lambda _: httpx.Response(429, json=envelope)), get_me_me_get)
    error = raised.value
    assert (error.exit_code, error.error, error.message) == (Exit.CONFLICT, "rate_limited", "later")


def test_a_status_the_document_does_not_list_is_a_server_error_that_says_so() -> None:
    client = _client(lambda _: httpx.Response(418, text="teapot"))
    with pytest.raises(CliError) as raised:
        api.call(client, get_me_me_get)
    assert (raised.value.exit_code, raised.value.error, raised.value.status) == (Exit.SERVER,
                                                                                 "undocumented_status", 418)


def test_an_unreachable_api_is_a_server_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(CliError) as raised:
        api.call(_client(refuse), get_me_me_get)
    assert (raised.value.exit_code, raised.value.error) == (Exit.SERVER, "network")
