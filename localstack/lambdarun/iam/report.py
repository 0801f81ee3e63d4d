"""``make iam-report``: per function, the actions a run used against the actions its role grants.

Reads what the local gate recorded (``.local/iam/usage/*.jsonl``: every decision, once per
function, action and outcome) and the roles file. A granted action no run used is either removed
from the grant or justified in :data:`UNUSED_BUT_NEEDED` (why AWS needs it although no local call
exercises it); the report prints the rest as "unused, unexplained" and exits 1 with ``--strict``.

    .venv/bin/python localstack/lambdarun/iam/report.py [--strict] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve()
sys.path[:0] = [str(_HERE.parents[2]), str(_HERE.parents[3])]

from lambdarun.iam.hooks import Gate  # noqa: E402
from lambdarun.iam.roles import ROLES_FILE, USAGE_DIR  # noqa: E402

_KAFKA_MAPPING = ("the MSK event source mapping polls with the function's role (Lambda's documented "
                  "MSK IAM permissions); the local Kafka poller is not a client of the function")
_CLIENT_BOOTSTRAP = "an MSK IAM client asks for it when it connects (the SASL handshake's metadata)"
_WEB_CONFIG = ("the deployed config.json's publicBaseUrl (no custom domain: infra/hosting.py); locally "
               "PUBLIC_BASE_URL is set, so no local run reads it")
#: Granted actions no local call exercises, and why AWS needs them anyway: by action (any function),
#: or by ``function/action``. What is neither is printed as unexplained: a grant to narrow.
UNUSED_BUT_NEEDED: dict[str, str] = {
    "kafka:ListScramSecrets": "CDK's MSK event source grant adds it unconditionally; the mapping "
                              "authenticates with IAM and never calls it",
    "sweeper/ses:SendEmail": "the links' download digests, which a run may not reach",
    "archiver/s3:DeleteObject": "a failed job's partial archive is deleted (archiving.py), which a run "
                                "may not reach",
    **{f"bootstrap/{a}": "a search index rebuild (scroll and bulk, then the old index deleted), "
                         "only when the mapping's version changes"
       for a in ("es:ESHttpPost", "es:ESHttpDelete")},
    "sharing/s3:GetObject": "thumbnail URLs (presigned GET) of images in /shared-with-me",
    "trash/s3:GetObject": "thumbnail URLs (presigned GET) of images in the trash list",
    **{f"{fn}/s3:GetObject": _WEB_CONFIG for fn in ("activity", "auth", "bootstrap", "deleter", "indexer",
                                                     "meta", "notifications", "notifier", "outbox_relay",
                                                     "sweeper")},
    "kafka-cluster:DescribeCluster": _CLIENT_BOOTSTRAP,
    "kafka-cluster:DescribeClusterDynamicConfiguration": _KAFKA_MAPPING,
    "kafka-cluster:ReadData": _KAFKA_MAPPING,
    "kafka-cluster:DescribeGroup": _KAFKA_MAPPING,
    "kafka-cluster:AlterGroup": _KAFKA_MAPPING,
    "kafka:DescribeCluster": _KAFKA_MAPPING, "kafka:DescribeClusterV2": _KAFKA_MAPPING,
    "kafka:GetBootstrapBrokers": _KAFKA_MAPPING,
    "sqs:ReceiveMessage": "the SQS event source mapping receives with the function's role",
    "sqs:ChangeMessageVisibility": "the SQS event source mapping, as above",
    "sqs:GetQueueAttributes": "the event source mapping reads its queue's attributes",
    "sqs:GetQueueUrl": "granted with the queue by CDK's grantConsumeMessages",
    "sqs:DeleteMessage": "the SQS event source mapping deletes what succeeded",
    "sqs:SendMessage": "the Kafka and schedule failure destinations send with the function's role",
    "secretsmanager:GetSecretValue": "the database password in AWS (locally it is in DATABASE_URL)",
    "secretsmanager:DescribeSecret": "granted with GetSecretValue by CDK's grantRead",
    "kafka-cluster:WriteDataIdempotently": "used by every producer's first send; a run that "
                                           "published nothing for this function did not exercise it",
    "s3:ListBucket": "S3 answers 404 (not 403) for a missing key only with it: the orphan and "
                     "source_missing paths, which a run may not reach",
    "s3:AbortMultipartUpload": "abandoned or replaced multipart uploads, which a run may not reach",
    "kafka-cluster:AlterTopic": "the bootstrap grows a topic's partitions only when the declaration asks",
    "kafka-cluster:CreateTopic": "the bootstrap creates topics only when they are missing",
    "kafka-cluster:DescribeTopicDynamicConfiguration": "the bootstrap reads topic configs on MSK",
    "lambda:InvokeFunction": "the custom resource provider invokes the bootstrap",
    "lambda:GetFunction": "the custom resource provider waits for the bootstrap",
}


def _justified(function: str, action: str) -> bool:
    return action in UNUSED_BUT_NEEDED or f"{function}/{action}" in UNUSED_BUT_NEEDED


def collect(usage_dir: Path = USAGE_DIR) -> dict[str, dict[str, set[bool]]]:
    """function -> action -> the outcomes seen (True allowed, False refused)."""
    used: dict[str, dict[str, set[bool]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(usage_dir.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                used[entry["function"]][entry["action"]].add(bool(entry["allowed"]))
    return used


def table(roles_file: Path = ROLES_FILE, usage_dir: Path = USAGE_DIR) -> list[dict[str, Any]]:
    roles = json.loads(roles_file.read_text())
    gate = Gate(roles, {})  # granted actions do not depend on the namespace's names
    used = collect(usage_dir)
    rows = []
    for function in sorted(roles["functions"]):
        role = gate.role(function)
        granted = role.granted_actions() if role else set()
        allowed = {a for a, outcomes in used.get(function, {}).items() if True in outcomes}
        refused = {a for a, outcomes in used.get(function, {}).items() if False in outcomes}
        unused = granted - allowed
        rows.append({"function": function, "used": sorted(allowed), "refused": sorted(refused),
                     "granted": sorted(granted),
                     "unused_justified": sorted(a for a in unused if _justified(function, a)),
                     "unused_unexplained": sorted(a for a in unused if not _justified(function, a))})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--strict", action="store_true", help="exit 1 on a refusal or an unexplained grant")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = table()
    if args.markdown:
        print("| function | used | refused | granted, unused but needed | granted, unused, unexplained |")
        print("|---|---|---|---|---|")
    for row in rows:
        if args.markdown:
            cells = [", ".join(row[k]) or "-"
                     for k in ("used", "refused", "unused_justified", "unused_unexplained")]
            print(f"| {row['function']} | " + " | ".join(cells) + " |")
            continue
        print(f"{row['function']}")
        for key in ("used", "refused", "unused_justified", "unused_unexplained"):
            print(f"  {key:>18}: {', '.join(row[key]) or '-'}")
    bad = [r["function"] for r in rows if r["refused"] or r["unused_unexplained"]]
    if bad:
        print(f"\nrefused or unexplained: {', '.join(bad)}  (UNUSED_BUT_NEEDED in {__file__})",
              file=sys.stderr)
    return 1 if args.strict and bad else 0


if __name__ == "__main__":
    sys.exit(main())
