"""The local Cognito keeps its users across restarts: a private server (own port and state file, so
the shared stack is not disturbed) is stopped with SIGTERM, and separately killed with SIGKILL a
second after the last change; started again, the same pool and client ids answer, the user logs in
with the same password, an old refresh token still works, and a mailed code still confirms."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support import mailbox

REPO = Path(__file__).resolve().parents[3]
SERVER = REPO / "localstack" / "cognito_server.py"
PASSWORD = "Correct-Horse-9"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, state_file: Path) -> None:
        self.state_file, self.port = state_file, _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", str(self.port), "--state-file", str(self.state_file),
             "--ses-endpoint", os.environ["AWS_ENDPOINT_URL"]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": ""})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.client().list_user_pools(MaxResults=1)
                return
            except Exception:  # not up yet
                time.sleep(0.1)
        raise AssertionError("the private Cognito server did not start")

    def stop(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=20)

    def client(self) -> Any:
        return boto3.client("cognito-idp", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "cognito" / "state.pickle")
    srv.start()
    try:
        yield srv
    finally:
        if srv.process is not None and srv.process.poll() is None:
            srv.stop(signal.SIGKILL)


def _pool(idp: Any) -> tuple[str, str]:
    pool = idp.create_user_pool(
        PoolName="persist", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]})["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="persist",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    return pool["Id"], client["ClientId"]


def _login(idp: Any, client_id: str, email: str) -> dict[str, Any]:
    result: dict[str, Any] = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                               AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
    return dict(result["AuthenticationResult"])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_users_tokens_ids_and_codes_survive_a_restart(server: Server, sig: int) -> None:
    idp = server.client()
    pool_id, client_id = _pool(idp)
    confirmed, pending = (f"persist-{uuid.uuid4().hex[:8]}@example.com" for _ in range(2))
    for email in (confirmed, pending):
        idp.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": email}])
    idp.confirm_sign_up(ClientId=client_id, Username=confirmed,
                        ConfirmationCode=mailbox.confirmation_code(confirmed))
    tokens = _login(idp, client_id, confirmed)
    code_for_pending = mailbox.confirmation_code(pending)
    time.sleep(1.5)  # the saver writes at most once a second: a kill loses at most the last second

    server.stop(sig)
    server.start()
    idp = server.client()

    pools = idp.list_user_pools(MaxResults=10)["UserPools"]
    assert [p["Id"] for p in pools] == [pool_id]
    clients = idp.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"]
    assert [c["ClientId"] for c in clients] == [client_id]
    again = _login(idp, client_id, confirmed)
    refreshed = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    assert refreshed["AuthenticationResult"]["IdToken"] and again["IdToken"]
    idp.confirm_sign_up(ClientId=client_id, Username=pending, ConfirmationCode=code_for_pending)
    assert _login(idp, client_id, pending)["IdToken"]
