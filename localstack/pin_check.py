"""Check a LocalStack venv on a port of its own: S3, SQS, SES and the persistence layer, across a restart.

Used to decide whether LocalStack 4.14's pins (``cryptography``, ``pyopenssl``: README, "Dependencies")
can move: build a venv with the candidate versions, then

    .venv/bin/python localstack/pin_check.py --venv /tmp/ls-candidate/venv --port 4577

It starts LocalStack from that venv through ``aws_state.py`` (as ``make up`` does, with S3 signature
validation on) with its state in a temporary folder, and checks: a presigned POST upload and a
presigned GET; the bucket notification reaching SQS; SQS send and receive; an SES mail in the mailbox;
then SIGTERM, a new start, and the object, the queued message and the mail all still there. The shared
stack on 4566 is never touched. Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import requests

from stackctl.services.localstack_aws import SERVICES, aws_client, launch_command, runtime_env


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_localstack/health", timeout=2) as response:  # noqa: S310
                states = json.load(response).get("services", {})
            if all(states.get(s) in ("available", "running") for s in SERVICES):
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"LocalStack at {url} did not become ready (exit status {process.poll()})")


def start(venv: Path, port: int, volume: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **runtime_env(port, volume)}
    with log.open("ab") as out:
        process = subprocess.Popen(launch_command(venv / "bin" / "python", volume / "state"),
                                   env=env, cwd=volume, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://localhost:{port}", process)
    except RuntimeError:
        process.kill()
        process.wait()
        print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def before_restart(url: str) -> dict[str, Any]:
    s3, sqs, ses = aws_client("s3", url), aws_client("sqs", url), aws_client("ses", url)
    s3.create_bucket(Bucket="pin-check")
    queue = sqs.create_queue(QueueName="pin-check")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket="pin-check", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    post = s3.generate_presigned_post("pin-check", "u/one", Conditions=[["content-length-range", 1, 100]])
    answer = requests.post(post["url"], data=post["fields"], files={"file": b"hello"}, timeout=10)
    assert answer.status_code == 204, f"presigned POST: {answer.status_code} {answer.text[:200]}"
    forged = {**post["fields"], "x-amz-signature": "0" * 64}
    refused = requests.post(post["url"], data=forged, files={"file": b"hello"}, timeout=10)
    assert refused.status_code in (400, 403), f"forged POST signature accepted: {refused.status_code}"
    get = s3.generate_presigned_url("get_object", Params={"Bucket": "pin-check", "Key": "u/one"})
    assert requests.get(get, timeout=10).content == b"hello", "presigned GET"
    records = []
    for _ in range(20):
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            body = json.loads(message["Body"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            records += [r["eventName"] for r in body.get("Records", [])]
        if records:
            break
    assert records and records[0].startswith("ObjectCreated"), f"S3 notification to SQS: {records}"
    sqs.send_message(QueueUrl=queue, MessageBody="kept across a restart")
    ses.verify_email_identity(EmailAddress="sender@pin-check.local")
    sent = ses.send_email(Source="sender@pin-check.local",
                          Destination={"ToAddresses": ["to@pin-check.local"]},
                          Message={"Subject": {"Data": "pin check"}, "Body": {"Text": {"Data": "hi"}}})
    assert mailbox(url, sent["MessageId"]), "SES mail not in the mailbox"
    time.sleep(2)  # aws_state saves within a second of a change
    return {"queue": queue, "mail": sent["MessageId"]}


def mailbox(url: str, message_id: str) -> bool:
    with urllib.request.urlopen(f"{url}/_aws/ses", timeout=5) as response:  # noqa: S310
        return any(m.get("Id") == message_id for m in json.load(response).get("messages", []))


def after_restart(url: str, state: dict[str, Any]) -> None:
    s3, sqs = aws_client("s3", url), aws_client("sqs", url)
    assert s3.get_object(Bucket="pin-check", Key="u/one")["Body"].read() == b"hello", "S3 object lost"
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=state["queue"], WaitTimeSeconds=2)
              .get("Messages", [])]
    assert bodies == ["kept across a restart"], f"SQS message lost: {bodies}"
    assert mailbox(url, state["mail"]), "SES mail lost across the restart"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, required=True, help="the candidate LocalStack venv")
    parser.add_argument("--port", type=int, default=4577)
    args = parser.parse_args(argv)
    versions = subprocess.run(
        [args.venv / "bin" / "python", "-c", "import importlib.metadata as m; print(*(f'{p}=='"
         "+m.version(p) for p in ('localstack-core', 'cryptography', 'pyopenssl')))"],
        capture_output=True, text=True, check=True).stdout.strip()
    print(f"checking {versions} on port {args.port}")
    url = f"http://localhost:{args.port}"
    with tempfile.TemporaryDirectory(prefix="pin-check-") as tmp:
        volume, log = Path(tmp), Path(tmp) / "localstack.log"
        process = start(args.venv, args.port, volume, log)
        try:
            state = before_restart(url)
            print("S3 (presigned POST, forged signature refused, presigned GET), S3->SQS, SQS, SES: ok")
        finally:
            stop(process)
        process = start(args.venv, args.port, volume, log)
        try:
            after_restart(url, state)
            print("after a restart: S3 object, SQS message, SES mail: ok")
        finally:
            stop(process)
        errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
        if errors:
            print(f"{len(errors)} traceback(s) in LocalStack's log", file=sys.stderr)
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
