"""LocalStack keeps S3, SQS, SES, Secrets Manager and SSM across restarts (``localstack/aws_state.py``).

A PRIVATE LocalStack (own port, own volume and state directories under the test's tmp dir, so the
shared stack is never touched) is started exactly as ``make up`` starts the stack's, given state,
stopped with SIGTERM right after the last write (the shutdown save), started again and checked;
then given more state, killed with SIGKILL two seconds after the last write (the once-a-second
saver) and checked again. Three LocalStack starts in all (~15 s each here).

Checked byte for byte: object bytes, ETag, content type, user metadata, SHA-256 checksums, a
deleted object stays deleted, a multipart upload in progress keeps its parts and completes after
the restart; S3 event notifications in the queue (each event once: waiting, and in flight coming
back with its MessageId when its visibility ends, and an in-flight one deleted after the restart
with the receipt handle from before it); the SES mailbox; secrets with their versions; parameters.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from stackctl.services.localstack_aws import (
    FILESYSTEM_ROOT,
    LocalStack,
    aws_client,
    launch_command,
    runtime_env,
    wire_upload_bucket,
)

BUCKET = "persist-test"
SENDER = "persist@fileshare.local"
MIB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateLocalStack:
    """One LocalStack process on its own port with its own directories, started like the stack's."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.volume = root / "volume"
        self.state = root / "state"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.python = LocalStack().venv_python
        self.starts = 0
        # LocalStack builds its service catalog on first use (~5 s, +350 MB): copy the stack's.
        catalog_dir = self.volume / "fs" / "usr" / "lib" / "localstack"
        catalog_dir.mkdir(parents=True, exist_ok=True)
        for catalog in (FILESYSTEM_ROOT / "usr" / "lib" / "localstack").glob("service-catalog-*.dill"):
            shutil.copy(catalog, catalog_dir / catalog.name)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def client(self, service: str) -> Any:
        return aws_client(service, self.url)

    def start(self) -> None:
        self.starts += 1
        log = open(self.root / f"localstack-{self.starts}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            launch_command(self.python, self.state), cwd=self.volume, stdout=log, stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
                 **runtime_env(self.port, self.volume)},
            start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_tail()
            try:
                health = requests.get(f"{self.url}/_localstack/health", timeout=2).json()
                if all(health["services"].get(s) in ("available", "running")
                       for s in ("s3", "sqs", "ses", "secretsmanager", "ssm")):
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"the private LocalStack did not start\n{self.log_tail()}")

    def stop(self, sig: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, sig)
        self.process.wait(timeout=60)

    def log_tail(self) -> str:
        return (self.root / f"localstack-{self.starts}.log").read_text(errors="replace")[-4000:]


@pytest.fixture
def private_localstack(tmp_path: Path) -> Iterator[PrivateLocalStack]:
    if not LocalStack().venv_python.exists():
        pytest.skip("LocalStack's venv is not installed yet (`make up` installs it)")
    instance = PrivateLocalStack(tmp_path)
    try:
        yield instance
    finally:
        if instance.process is not None and instance.process.poll() is None:
            instance.stop(signal.SIGKILL)


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _put_objects(s3: Any, prefix: str) -> dict[str, dict[str, Any]]:
    """A small object (kept in memory by LocalStack's default store), a 3 MiB one (spooled to disk
    there), and a derived object outside ``u/`` (no event); their expected bytes and metadata."""
    written: dict[str, dict[str, Any]] = {}
    for name, body, content_type in (
        (f"u/{prefix}/small.txt", b"hello persistence\n" * 3, "text/plain"),
        (f"u/{prefix}/big.bin", os.urandom(3 * MIB), "application/octet-stream"),
        (f"t/{prefix}/thumb.webp", os.urandom(2048), "image/webp"),
    ):
        response = s3.put_object(Bucket=BUCKET, Key=name, Body=body, ContentType=content_type,
                                 Metadata={"owner": prefix, "original-name": name.rsplit("/", 1)[1]},
                                 ChecksumAlgorithm="SHA256")
        assert response["ChecksumSHA256"] == _sha256(body)
        written[name] = {"body": body, "etag": response["ETag"], "content_type": content_type,
                         "metadata": {"owner": prefix, "original-name": name.rsplit("/", 1)[1]}}
    return written


def _check_objects(s3: Any, expected: dict[str, dict[str, Any]]) -> None:
    for key, want in expected.items():
        got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert got["Body"].read() == want["body"], key
        assert got["ETag"] == want["etag"] == f'"{hashlib.md5(want["body"]).hexdigest()}"', key  # noqa: S324
        assert got["ContentType"] == want["content_type"], key
        assert got["Metadata"] == want["metadata"], key
        if want.get("sha256", True):
            assert got["ChecksumSHA256"] == _sha256(want["body"]), key
        ranged = s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=2-9")["Body"].read()
        assert ranged == want["body"][2:10], key


def _drain(sqs: Any, queue_url: str, *, until_s: float) -> list[dict[str, Any]]:
    """Every message received until the queue stayed empty for a moment past ``until_s`` seconds
    (so in-flight messages whose visibility ends meanwhile are included); each deleted once seen."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + until_s
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        for message in batch:
            seen.append(message)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not batch and time.monotonic() > deadline:
            return seen


def _event_keys(messages: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for message in messages:
        body = json.loads(message["Body"])
        keys.extend(record["s3"]["object"]["key"] for record in body.get("Records", []))
    return keys


def _mails(url: str) -> list[dict[str, Any]]:
    everything = requests.get(f"{url}/_aws/ses", timeout=10).json()["messages"]
    return [m for m in everything if m["Source"] == SENDER]


@pytest.mark.fault
def test_state_survives_sigterm_and_sigkill(private_localstack: PrivateLocalStack) -> None:
    ls = private_localstack
    ls.start()
    s3, sqs, ses = ls.client("s3"), ls.client("sqs"), ls.client("ses")
    secrets, ssm = ls.client("secretsmanager"), ls.client("ssm")

    # -- state before the SIGTERM --
    wiring = wire_upload_bucket(s3, sqs, BUCKET, queue_name="persist-uploads", dlq_name="persist-uploads-dlq",
                                visibility_timeout_s=60)
    queue_url = wiring["queue_url"]
    assert _drain(sqs, queue_url, until_s=1)  # the s3:TestEvent of the new notification rule
    objects = _put_objects(s3, "one")
    s3.put_object(Bucket=BUCKET, Key="u/one/deleted.txt", Body=b"gone")
    s3.delete_object(Bucket=BUCKET, Key="u/one/deleted.txt")

    part1, part2 = os.urandom(5 * MIB), os.urandom(1234)
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="u/one/multi.bin", ContentType="video/mp4",
                                           Metadata={"owner": "one"})["UploadId"]
    part_etags = [s3.upload_part(Bucket=BUCKET, Key="u/one/multi.bin", UploadId=upload_id, PartNumber=n,
                                 Body=body)["ETag"] for n, body in ((1, part1), (2, part2))]

    # Wait for the three ObjectCreated events (small, big, deleted; not t/); take two in flight:
    # one to delete after the restart with its old receipt handle, one to come back by itself.
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while len(_event_keys(events)) < 3 and time.monotonic() < deadline:
        events += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                      VisibilityTimeout=120 if not events else 5).get("Messages", [])
    # the first two are in flight now; the rest is left waiting in the queue
    in_flight_kept, in_flight_returning = events[0], events[1]
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=events[2]["ReceiptHandle"],
                                  VisibilityTimeout=0)  # back to waiting

    ses.verify_email_identity(EmailAddress=SENDER)
    mail_id = ses.send_email(Source=SENDER, Destination={"ToAddresses": ["reader@example.com"]},
                             Message={"Subject": {"Data": "Persisted mail"},
                                      "Body": {"Text": {"Data": "code 123456"}}})["MessageId"]
    secrets.create_secret(Name="persist/db", SecretString=json.dumps({"password": "first"}))
    secrets.put_secret_value(SecretId="persist/db", SecretString=json.dumps({"password": "second"}))
    ssm.put_parameter(Name="/persist/plain", Value="v1", Type="String")
    ssm.put_parameter(Name="/persist/plain", Value="v2", Type="String", Overwrite=True)
    ssm.put_parameter(Name="/persist/secure", Value="s3cr3t", Type="SecureString")

    ls.stop(signal.SIGTERM)  # at once: the shutdown save must have everything
    ls.start()
    s3, sqs, ses = ls.client("s3"), ls.client("sqs"), ls.client("ses")
    secrets, ssm = ls.client("secretsmanager"), ls.client("ssm")

    # -- after the SIGTERM --
    _check_objects(s3, objects)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="u/one/deleted")
    uploads = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    parts = s3.list_parts(Bucket=BUCKET, Key="u/one/multi.bin", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == \
        [(1, part_etags[0], len(part1)), (2, part_etags[1], len(part2))]

    # The queue after the restart: the deleted-by-old-handle one never comes back, the returning
    # one comes back once with the same MessageId, the waiting ones once each.
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=in_flight_kept["ReceiptHandle"])
    after = _drain(sqs, queue_url, until_s=8)
    after_ids = [m["MessageId"] for m in after]
    assert in_flight_kept["MessageId"] not in after_ids
    assert after_ids.count(in_flight_returning["MessageId"]) == 1
    assert len(after_ids) == len(set(after_ids))
    all_keys = sorted(_event_keys([in_flight_kept]) + _event_keys(after))
    assert all_keys == sorted(["u/one/small.txt", "u/one/big.bin", "u/one/deleted.txt"]), all_keys

    # The multipart upload completes after the restart, with both parts' bytes.
    s3.complete_multipart_upload(Bucket=BUCKET, Key="u/one/multi.bin", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in ((1, part_etags[0]), (2, part_etags[1]))]})
    multi = s3.get_object(Bucket=BUCKET, Key="u/one/multi.bin")
    assert multi["Body"].read() == part1 + part2
    assert multi["ContentType"] == "video/mp4" and multi["Metadata"] == {"owner": "one"}
    # A completed object is its parts linked in place (no copy): ranged reads across the part
    # boundary and from the end, and a server-side copy (t/: no upload event), read them as one.
    whole = part1 + part2
    boundary = s3.get_object(Bucket=BUCKET, Key="u/one/multi.bin", Range=f"bytes={5 * MIB - 3}-{5 * MIB + 2}")
    assert boundary["Body"].read() == whole[5 * MIB - 3:5 * MIB + 3]
    tail = s3.get_object(Bucket=BUCKET, Key="u/one/multi.bin", Range="bytes=-10")
    assert tail["Body"].read() == whole[-10:]
    s3.copy_object(Bucket=BUCKET, Key="t/multi-copy.bin",
                   CopySource={"Bucket": BUCKET, "Key": "u/one/multi.bin"})
    assert s3.get_object(Bucket=BUCKET, Key="t/multi-copy.bin")["Body"].read() == whole

    mails = _mails(ls.url)
    assert [m["Id"] for m in mails] == [mail_id]
    assert mails[0]["Destination"]["ToAddresses"] == ["reader@example.com"]
    assert mails[0]["Subject"] == "Persisted mail" and "123456" in mails[0]["Body"]["text_part"]
    assert SENDER in ses.list_identities()["Identities"]

    current = secrets.get_secret_value(SecretId="persist/db")["SecretString"]
    assert json.loads(current) == {"password": "second"}
    previous = secrets.get_secret_value(SecretId="persist/db", VersionStage="AWSPREVIOUS")["SecretString"]
    assert json.loads(previous) == {"password": "first"}
    plain = ssm.get_parameter(Name="/persist/plain")["Parameter"]
    assert (plain["Value"], plain["Version"]) == ("v2", 2)
    assert ssm.get_parameter(Name="/persist/secure", WithDecryption=True)["Parameter"]["Value"] == "s3cr3t"

    # -- more state, then a SIGKILL two seconds (two saver rounds) after the last write --
    more = _put_objects(s3, "two")
    s3.put_object(Bucket=BUCKET, Key="u/one/small.txt", Body=b"overwritten", ContentType="text/plain",
                  Metadata={"owner": "one", "original-name": "small.txt"}, ChecksumAlgorithm="SHA256")
    objects["u/one/small.txt"].update(body=b"overwritten",
                                      etag=f'"{hashlib.md5(b"overwritten").hexdigest()}"')  # noqa: S324
    # The browser's way in and out (presigned POST and GET, a presigned PUT for a part), and the
    # app's deletes (DeleteObjects, AbortMultipartUpload): all through the on-disk store.
    posted = os.urandom(70_000)
    form = s3.generate_presigned_post(BUCKET, "u/two/posted.png", Fields={"Content-Type": "image/png"},
                                      Conditions=[{"Content-Type": "image/png"}])
    assert requests.post(form["url"], data=form["fields"], timeout=30,
                         files={"file": ("posted.png", posted, "image/png")}).status_code == 204
    more["u/two/posted.png"] = {"body": posted, "etag": f'"{hashlib.md5(posted).hexdigest()}"',  # noqa: S324
                                "content_type": "image/png", "metadata": {}, "sha256": False}
    for key in ("u/two/gone-a", "u/two/gone-b"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "u/two/gone-a"}, {"Key": "u/two/gone-b"}]})
    aborted = s3.create_multipart_upload(Bucket=BUCKET, Key="u/two/aborted.bin")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="u/two/aborted.bin", UploadId=aborted, PartNumber=1, Body=b"x" * 100)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="u/two/aborted.bin", UploadId=aborted)
    upload2 = s3.create_multipart_upload(Bucket=BUCKET, Key="u/two/multi.bin")["UploadId"]
    part_url = s3.generate_presigned_url("upload_part", Params={
        "Bucket": BUCKET, "Key": "u/two/multi.bin", "UploadId": upload2, "PartNumber": 1})
    put = requests.put(part_url, data=part2, timeout=30)
    assert put.status_code == 200, put.text
    etag2 = put.headers["ETag"]
    deadline = time.monotonic() + 10
    while int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
              ["Attributes"]["ApproximateNumberOfMessages"]) < 7 and time.monotonic() < deadline:
        time.sleep(0.2)
    secrets.put_secret_value(SecretId="persist/db", SecretString=json.dumps({"password": "third"}))
    ssm.put_parameter(Name="/persist/plain", Value="v3", Type="String", Overwrite=True)
    second_mail = ses.send_email(Source=SENDER, Destination={"ToAddresses": ["reader@example.com"]},
                                 Message={"Subject": {"Data": "Second"}, "Body": {"Text": {"Data": "x"}}})
    time.sleep(2.5)
    ls.stop(signal.SIGKILL)
    ls.start()
    s3, sqs = ls.client("s3"), ls.client("sqs")
    secrets, ssm = ls.client("secretsmanager"), ls.client("ssm")

    # -- after the SIGKILL --
    _check_objects(s3, {**objects, **more})
    assert s3.get_object(Bucket=BUCKET, Key="u/one/multi.bin")["Body"].read() == part1 + part2
    assert s3.get_object(Bucket=BUCKET, Key="t/multi-copy.bin")["Body"].read() == part1 + part2
    parts = s3.list_parts(Bucket=BUCKET, Key="u/two/multi.bin", UploadId=upload2)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, etag2)]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="u/two/multi.bin", UploadId=upload2,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag2}]})
    assert s3.get_object(Bucket=BUCKET, Key="u/two/multi.bin")["Body"].read() == part2
    download = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "u/two/posted.png"})
    assert requests.get(download, timeout=30).content == posted
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="u/two/gone-")
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []

    later = _drain(sqs, queue_url, until_s=2)
    later_keys = sorted(_event_keys(later))
    # one/multi.bin's completion, the new u/ objects and the overwrite before the SIGKILL, and
    # two/multi.bin's completion after it: once each
    assert later_keys == sorted(["u/one/multi.bin", "u/two/small.txt", "u/two/big.bin", "u/one/small.txt",
                                 "u/two/posted.png", "u/two/gone-a", "u/two/gone-b",
                                 "u/two/multi.bin"]), later_keys
    assert [m["Id"] for m in _mails(ls.url)] == [mail_id, second_mail["MessageId"]]
    current = secrets.get_secret_value(SecretId="persist/db")["SecretString"]
    assert json.loads(current) == {"password": "third"}
    assert ssm.get_parameter(Name="/persist/plain")["Parameter"]["Value"] == "v3"

    # Nothing half-written or orphaned is left in the object directory once the start-up sweep ran.
    data_dir = ls.state / "s3-objects" / BUCKET
    assert not [p.name for p in data_dir.iterdir() if p.name.endswith(".tmp")]
    ls.stop(signal.SIGTERM)
    assert ls.process is not None and ls.process.returncode == 0, ls.log_tail()

