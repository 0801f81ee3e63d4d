"""Does the local stack agree with itself? Run by ``make up`` before it serves and by ``make status``.

Services keep their state in different places (PostgreSQL and OpenSearch on disk, S3 and SQS in
LocalStack, users in the local Cognito), so after a crash, a partial reset or an old checkout they
can disagree. Four checks, each a count and a few examples:

- live file rows (``ready``/``trashed``) whose object is missing from the bucket;
- users rows without a Cognito user (the account cannot log in; registering again says 409);
- search documents without a live row, and live ``ready`` rows without a search document.

It reports and changes nothing: ``make reset`` is the one way to wipe everything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from stackctl.paths import RUN_DIR

REPORT_FILE = RUN_DIR / "consistency.json"
EXAMPLES = 3


@dataclass
class Finding:
    check: str
    count: int
    examples: list[str] = field(default_factory=list)


def _rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def missing_objects(database_url: str, s3: Any, bucket: str) -> Finding:
    rows = _rows(database_url, "SELECT file_id::text, s3_key FROM files WHERE status IN ('ready', 'trashed')")
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="u/"):
        keys.update(obj["Key"] for obj in page.get("Contents", []))
    missing = [file_id for file_id, key in rows if key not in keys]
    return Finding("file rows whose object is missing", len(missing), missing[:EXAMPLES])


def users_without_login(database_url: str, idp: Any, pool_id: str) -> Finding:
    subs: set[str] = set()
    for page in idp.get_paginator("list_users").paginate(UserPoolId=pool_id):
        for user in page.get("Users", []):
            subs.update(a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub")
    rows = _rows(database_url, "SELECT user_id, email FROM users")
    orphans = [email for user_id, email in rows if user_id not in subs]
    return Finding("users rows without a Cognito user", len(orphans), orphans[:EXAMPLES])


def search_drift(database_url: str, search: Any, alias: str) -> list[Finding]:
    from opensearchpy import helpers

    ready = {r[0] for r in _rows(database_url, "SELECT file_id::text FROM files WHERE status = 'ready'")}
    others = _rows(database_url, "SELECT file_id::text FROM files WHERE status IN ('pending', 'trashed')")
    live = ready | {r[0] for r in others}
    scan = helpers.scan(search, index=alias, query={"query": {"match_all": {}}}, _source=False, size=1000)
    documents = {hit["_id"] for hit in scan}
    stray = sorted(documents - live)
    unindexed = sorted(ready - documents)
    return [Finding("search documents without a live row", len(stray), stray[:EXAMPLES]),
            Finding("ready rows without a search document", len(unindexed), unindexed[:EXAMPLES])]


def check(env: dict[str, str]) -> list[Finding]:
    """Every check against the stack described by ``env`` (the stack env); unreachable -> a finding."""
    import boto3
    from botocore.config import Config
    from opensearchpy import OpenSearch

    from fileshare.config import cognito_endpoint

    findings: list[Finding] = []
    database_url = env["DATABASE_URL"]
    region = env.get("AWS_REGION", "us-east-1")
    creds = {"aws_access_key_id": env.get("AWS_ACCESS_KEY_ID", "test"),
             "aws_secret_access_key": env.get("AWS_SECRET_ACCESS_KEY", "test")}
    steps = [
        lambda: [missing_objects(database_url, boto3.client(
            "s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=region,
            config=Config(s3={"addressing_style": "path"}), **creds), env["UPLOAD_BUCKET"])],
        lambda: [users_without_login(database_url, boto3.client(
            "cognito-idp", endpoint_url=cognito_endpoint(env) or env["AWS_ENDPOINT_URL_COGNITO_IDP"],
            region_name=region, **creds),
            env["USER_POOL_ID"])],
        lambda: search_drift(database_url, OpenSearch(hosts=[env["OPENSEARCH_URL"]], timeout=30),
                             env.get("SEARCH_ALIAS", "files")),
    ]
    for step in steps:
        try:
            findings.extend(step())
        except Exception as exc:  # a check that cannot run is itself worth reporting
            findings.append(Finding(f"check failed: {type(exc).__name__}: {exc}"[:200], 1))
    REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    REPORT_FILE.write_text(json.dumps([f.__dict__ for f in findings], indent=2) + "\n")
    return findings


def last_report() -> list[Finding]:
    try:
        return [Finding(**item) for item in json.loads(REPORT_FILE.read_text())]
    except (FileNotFoundError, ValueError):
        return []


def describe(findings: list[Finding]) -> list[str]:
    problems = [f for f in findings if f.count]
    if not problems:
        return ["consistency: the database, bucket, search index and user pool agree"]
    lines = [f"consistency: {f.count} {f.check}" + (f" (e.g. {', '.join(f.examples)})" if f.examples else "")
             for f in problems]
    lines.append("consistency: nothing was changed; `make reset` wipes everything for a clean start")
    return lines
