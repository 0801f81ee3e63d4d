"""Schemathesis against the real local gateway: every operation of the committed OpenAPI document,
all checks, stateful links (create -> get -> patch -> share -> link -> trash -> restore ...).

Given a gateway of our own (``localstack/serve.py --no-sources`` on a free port, the real handlers
and services) and a user registered and logged in through ``/auth/register`` and ``/auth/login``
(a real Cognito id token), when schemathesis generates valid and invalid requests from the
document, then no response is a server error or disagrees with the document.

``make test`` runs it with a fixed seed and bounded examples (a few minutes); ``make fuzz`` runs it
with a random seed for ``DURATION`` seconds. Settings (README, "Fuzzing"): ``FUZZ_SEED``,
``FUZZ_MAX_EXAMPLES``, ``FUZZ_DURATION`` (seconds, 0 = no time budget), ``FUZZ_PHASES``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import mailbox
from tests.support.pipeline import free_port
from tests.support.runtime import TEST_ENV, Gateway, running_gateway

CONFIG = Path(__file__).with_name("schemathesis.toml")
PASSWORD = "Correct-Horse-9"
# The fuzzer makes thousands of calls a minute as one user and from one address: the per-user and
# per-IP limits are lifted for its gateway (their own tests cover them).
GATEWAY_ENV = {"RATE_LIMIT_PER_MINUTE": "0", "IP_RATE_LIMIT_PER_MINUTE": "0",
               "READ_RATE_LIMIT_PER_MINUTE": "0", "UPLOAD_FILES_PER_HOUR": "0", "UPLOAD_BYTES_PER_HOUR": "0"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    if not TEST_ENV.exists() or not os.environ.get("USER_POOL_CLIENT_ID"):
        pytest.fail("the local stack is not up (.local/test.env): run `make up`")
    env_file = tmp_path_factory.mktemp("fuzz") / "stack.env"
    extra = "".join(f"{key}={value}\n" for key, value in GATEWAY_ENV.items())
    env_file.write_text(TEST_ENV.read_text() + "\n" + extra)
    with running_gateway(log_name="serve-schemathesis", reuse=False, port=free_port(),
                         args=["--no-sources", "--env-file", str(env_file)]) as gw:
        yield gw


def _account(url: str) -> tuple[str, str]:
    """A new, confirmed account through the API (the code from LocalStack's SES): (email, id token)."""
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "password": PASSWORD}
    created = requests.post(f"{url}/auth/register", json=body, timeout=30)
    assert created.status_code == 201, created.text
    code = mailbox.confirmation_code(email)
    confirmed = requests.post(f"{url}/auth/confirm", json={"email": email, "code": code}, timeout=30)
    assert confirmed.status_code == 200, confirmed.text
    tokens = requests.post(f"{url}/auth/login", json=body, timeout=30)
    assert tokens.status_code == 200, tokens.text
    return email, str(tokens.json()["id_token"])


def test_schemathesis_finds_nothing(gateway: Gateway, tmp_path: Path) -> None:
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable, "schemathesis is not installed (the test group of pyproject.toml; make venv)"
    seed = os.environ.get("FUZZ_SEED", "20261201")
    _, token = _account(gateway.url)
    recipient, recipient_token = _account(gateway.url)  # someone to share with
    me = requests.get(f"{gateway.url}/me", headers={"Authorization": f"Bearer {recipient_token}"}, timeout=30)
    assert me.status_code == 200, me.text
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.read_text() + f'\n[dictionaries.recipients]\nvalues = ["{recipient}"]\n')
    command = [
        executable, "--config-file", str(config), "run", f"{gateway.url}/openapi.json",
        "--url", gateway.url,
        "--checks", "all",
        "--max-examples", os.environ.get("FUZZ_MAX_EXAMPLES", "60"),
        "--phases", os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing,stateful"),
        "--workers", "1",
        "--request-timeout", "20",
        "--header", f"Authorization: Bearer {token}",
        "--report", "junit", "--report-dir", str(tmp_path),
        "--no-color",
    ]
    if seed != "random":
        command += ["--seed", seed]
    if duration := int(os.environ.get("FUZZ_DURATION", "0")):
        command += ["--max-time", str(duration)]
    print("schemathesis:", " ".join(c if not c.startswith("Authorization") else "Authorization: <token>"
                                    for c in command))
    # cwd: schemathesis keeps a crash cache (.schemathesis/) where it runs; a run of its own each time
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    print(output[-20000:])
    assert result.returncode == 0, output[-20000:]
