"""The roles file the local gate reads: the dev stage synthesized (no bundling), each function's
policies extracted (``policy.extract``), cached under ``.local/iam`` by a hash of what decides them
(``infra/``, ``cdk.json``), so ``make up`` pays the ~20 s synthesis only after the infra changed.

    .venv/bin/python localstack/lambdarun/iam/roles.py   # prints the roles file's path
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

_HERE = Path(__file__).resolve()
REPO_ROOT = _HERE.parents[3]
IAM_DIR = Path(os.environ.get("FILESHARE_LOCAL_DIR", REPO_ROOT / ".local")) / "iam"
ROLES_FILE = IAM_DIR / "roles.json"
USAGE_DIR = IAM_DIR / "usage"
_STAMP = IAM_DIR / "roles.inputs"
LOCAL_EMAIL_SENDER = "no-reply@fileshare.local"  # fileshare.config's default, which LocalStack SES verifies


def inputs_hash() -> str:
    digest = hashlib.sha256()
    inputs = [*(REPO_ROOT / "infra").glob("*.py"), REPO_ROOT / "cdk.json", _HERE.parent / "policy.py", _HERE]
    for path in sorted(inputs):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure() -> Path:
    """The roles file, synthesized again when ``infra/`` or ``cdk.json`` changed."""
    wanted = inputs_hash()
    if ROLES_FILE.exists() and _STAMP.exists() and _STAMP.read_text().strip() == wanted:
        return ROLES_FILE
    IAM_DIR.mkdir(parents=True, exist_ok=True)
    outdir = IAM_DIR / "cdk.out"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    # The stage as the local stack is: its account id (policy.ACCOUNT_ID), region, and a configured
    # sender (LocalStack SES verifies it), so the roles carry the SES grant a deployment with one has.
    context = {"fileshare:bundle": "false", "stage": "dev", "fileshare:dev:account": "000000000000",
               "fileshare:dev:region": region, "fileshare:dev:availabilityZones": f"{region}a,{region}b",
               "fileshare:dev:emailSender": os.environ.get("EMAIL_SENDER") or LOCAL_EMAIL_SENDER}
    script = (f"from infra.app import build_app; "
              f"build_app(context={context!r}, outdir={str(outdir)!r}).synth()")
    env = {**os.environ, "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "localstack")])}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError("synthesizing the dev stage for the local IAM gate failed:\n"
                           + done.stderr[-4000:])
    sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "localstack")]
    from lambdarun.iam.policy import extract

    tmp = ROLES_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(extract(outdir), indent=1, sort_keys=True))
    tmp.replace(ROLES_FILE)
    _STAMP.write_text(wanted + "\n")
    return ROLES_FILE


if __name__ == "__main__":
    print(ensure())
