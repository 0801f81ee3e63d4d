"""Cognito user pool locally: moto's server (the LocalStack community build has no Cognito).

moto is in memory; the server snapshots its user pools to ``.local/data/cognito/state.pickle``
(``localstack/cognito_state.py``) and restores them at start, so users, passwords, confirmation
state, refresh tokens and the pool and client ids survive ``make down``/``make up`` and a crash.
``provision()`` finds the pool by name (or creates it) and records the ids in
``.local/run/cognito.json``, which ``env()`` reads.
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

from fileshare.config import cognito_endpoint
from infra.declaration import DEV_NAMESPACE, LocalNamespace
from stackctl import proc
from stackctl.base import Service
from stackctl.paths import DATA_DIR, PROJECT_VENV, REPO_ROOT, RUN_DIR
from stackctl.services.localstack_aws import REGION, aws_client

POOL_NAME = DEV_NAMESPACE.user_pool  # "fileshare"
CLIENT_NAME = DEV_NAMESPACE.user_pool_client  # "fileshare-web"
# Cognito's own mail (codes) goes out from this address, through SES, as CDK configures in AWS.
EMAIL_SENDER = os.environ.get("COGNITO_EMAIL_SENDER", "no-reply@fileshare.local")
# keep_original: a changed email stays pending, the verified one active, until the new one is verified.
KEEP_ORIGINAL = {"AttributesRequireVerificationBeforeUpdate": ["email"]}
# The same policy CDK gives the pool in AWS (infra/identity.py).
PASSWORD_POLICY = {"PasswordPolicy": {
    "MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True,
    "RequireSymbols": True, "TemporaryPasswordValidityDays": 3}}
POOL_SETTINGS: dict[str, Any] = {
    "UsernameAttributes": ["email"],
    "AutoVerifiedAttributes": ["email"],
    "Policies": PASSWORD_POLICY,
    "Schema": [{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
    "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
    "UserAttributeUpdateSettings": KEEP_ORIGINAL,
}


def _current(pool: dict[str, Any]) -> bool:
    """Whether an existing pool has the settings this stack gives a new one."""
    return all(pool.get(key) == POOL_SETTINGS[key] for key in
               ("UsernameAttributes", "AutoVerifiedAttributes", "UserAttributeUpdateSettings")) and \
        pool.get("Policies", {}).get("PasswordPolicy", {}).get("MinimumLength") == 12
STATE_FILE = RUN_DIR / "cognito.json"
POOLS_FILE = DATA_DIR / "cognito" / "state.pickle"  # users, passwords, tokens: survive a restart
SERVER_SCRIPT = REPO_ROOT / "localstack" / "cognito_server.py"


class Cognito(Service):
    name: ClassVar[str] = "cognito"
    port: ClassVar[int] = 4599
    reuse_env: ClassVar[str] = "AWS_ENDPOINT_URL_COGNITO_IDP"
    start_timeout_s: ClassVar[float] = 30.0

    @property
    def external_url(self) -> str | None:
        """Either Cognito variable names a server to reuse (``fileshare.config.COGNITO_ENDPOINT_ENV``)."""
        return cognito_endpoint(os.environ) or None

    def url(self) -> str:
        return self.external_url or f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        return aws_client("cognito-idp", self.url())

    def start(self) -> None:
        python = PROJECT_VENV / "bin" / "python"
        from stackctl.services.localstack_aws import LocalStack

        proc.spawn(self.name, [python, SERVER_SCRIPT, "--host", "127.0.0.1", "--port", str(self.port),
                               "--ses-endpoint", LocalStack().url(), "--sender", EMAIL_SENDER,
                               "--region", REGION, "--state-file", str(POOLS_FILE)],
                   env={"PYTHONPATH": ""})

    def healthy(self) -> bool:
        """A real cognito-idp call, not just an open port."""
        if not proc.port_open(_host(self.url()), _port(self.url())):
            return False
        try:
            self.client().list_user_pools(MaxResults=1)
        except Exception:  # any failure means "not healthy (yet)"
            return False
        return True

    def provision(self) -> None:
        """Find (by name) or create the dev user pool and its app client; record their ids."""
        pool_id, client_id = self._ensure_pool(POOL_NAME, CLIENT_NAME)
        STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
        STATE_FILE.write_text(json.dumps(
            {"endpoint": self.url(), "user_pool_id": pool_id, "user_pool_client_id": client_id}, indent=2)
            + "\n")

    def provision_namespace(self, namespace: LocalNamespace) -> dict[str, str]:
        """The namespace's own user pool and client (the dev one through :meth:`provision`)."""
        if namespace.is_dev:
            self.provision()
            return self.env()
        return {**self._base_env(), **self._pool_env(*self._ensure_pool(namespace.user_pool,
                                                                          namespace.user_pool_client))}

    def _ensure_pool(self, pool_name: str, client_name: str) -> tuple[str, str]:
        idp = self.client()
        pool_id = _find(idp.list_user_pools(MaxResults=60)["UserPools"], pool_name, "Name", "Id")
        if pool_id is not None and not _current(idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]):
            # Made by an older stack. UpdateUserPool resets every setting it is not given (in AWS too)
            # and cannot change UsernameAttributes, so such a pool is replaced.
            idp.delete_user_pool(UserPoolId=pool_id)
            pool_id = None
        if pool_id is None:
            pool_id = idp.create_user_pool(PoolName=pool_name, **POOL_SETTINGS)["UserPool"]["Id"]
        clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        client_id = _find(clients, client_name, "ClientName", "ClientId")
        if client_id is None:
            client_id = idp.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName=client_name,
                GenerateSecret=False,
                ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                PreventUserExistenceErrors="ENABLED",
            )["UserPoolClient"]["ClientId"]
        return pool_id, client_id

    def _base_env(self) -> dict[str, str]:
        # boto3 itself reads the service-id spelling; the project documents the short one.
        return {self.reuse_env: self.url(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": self.url()}

    def _pool_env(self, pool_id: str, client_id: str) -> dict[str, str]:
        return {
            "USER_POOL_ID": pool_id,
            "USER_POOL_CLIENT_ID": client_id,
            # moto signs tokens with the real-AWS issuer; its JWKS is served by the local server.
            "COGNITO_ISSUER": f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
            "COGNITO_JWKS_URL": f"{self.url()}/{pool_id}/.well-known/jwks.json",
        }

    def env(self) -> dict[str, str]:
        env = self._base_env()
        try:
            state = json.loads(STATE_FILE.read_text())
        except (FileNotFoundError, ValueError):
            return env
        return {**env, **self._pool_env(state["user_pool_id"], state["user_pool_client_id"])}


def _find(items: list[dict[str, Any]], wanted: str, name_key: str, id_key: str) -> str | None:
    for item in items:
        if item.get(name_key) == wanted:
            found: str = item[id_key]
            return found
    return None


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or "127.0.0.1"


def _port(url: str) -> int:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)
