"""Archive jobs: one ZIP of many files (fileshare.archives.jobs, the archiver)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pipeline import reset_caches

BUCKET = "fileshare-archive-test"


@pytest.fixture(scope="module", autouse=True)
def own_bucket() -> Iterator[str]:
    """A bucket of the archive tests' own, ``UPLOAD_BUCKET`` for each module here (so the running
    stack's pipeline never sees their objects), emptied afterwards (objects and unfinished
    multipart uploads)."""
    from fileshare.adapters.aws import client

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UPLOAD_BUCKET", BUCKET)
        reset_caches()
        s3 = client("s3")
        try:
            s3.head_bucket(Bucket=BUCKET)
        except s3.exceptions.ClientError:
            s3.create_bucket(Bucket=BUCKET)
        yield BUCKET
        for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})
    reset_caches()
