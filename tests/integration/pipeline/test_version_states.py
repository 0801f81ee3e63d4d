"""File versions under random sequences, against the real PostgreSQL, LocalStack S3 and Kafka: a
hypothesis state machine drives the real domain (``versions.create_version`` with a real presigned
POST, ``process_object`` with events delivered late, twice and out of order, make current, delete,
trash, restore, purge and the deleter) and compares everything after every step with a model:

- the versions listed are the model's, each in the status it predicts, exactly one current (the
  last one promoted: verified, or made current), which is what the files row shows;
- every ready version keeps its bytes; a rejected or deleted one has none;
- the quota's used bytes are the sum over every kept version, pending ones reserve theirs;
- one ``file.version_added`` per promotion (a duplicate event records none);
- after a purge and the deleter, no object of any version (nor a thumbnail) is left.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from fileshare import deletion, processing, versions
from fileshare import files as files_domain
from fileshare import trash as trash_domain
from fileshare.config import settings as app_settings
from fileshare.db import users as users_db
from fileshare.errors import Conflict
from fileshare.models import FileCreate, VersionCreate
from tests.support import rows
from tests.support.pipeline import Pipeline, reset_caches, temporary_topic


@dataclass
class Version:
    version_id: str
    key: str
    size: int
    good: bool  # bytes that pass verification (bad: a "PNG" that is text)
    status: str = "pending"
    etag: str | None = None


@dataclass
class Model:
    owner: str
    file_id: str
    versions: dict[str, Version] = field(default_factory=dict)
    current: str = ""
    trashed: bool = False
    purged: bool = False
    promotions: int = 0


@pytest.fixture
def topic(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Events go to a topic of this test's own: no consumer of the shared stack sees these files."""
    with temporary_topic(pipeline.bootstrap, "version-states") as name:
        monkeypatch.setenv("EVENTS_TOPIC", name)
        reset_caches()
        yield name
    reset_caches()


def test_random_version_sequences_keep_versions_quota_and_bytes_consistent(pipeline: Pipeline,
                                                                           topic: str) -> None:
    db, s3, bucket = pipeline.db, pipeline.s3, app_settings().upload_bucket
    taken: Counter[str] = Counter()

    def exists(key: str) -> bool:
        try:
            s3.head_object(Bucket=bucket, Key=key)
            return True
        except s3.exceptions.ClientError:
            return False

    def one(sql: str, *params: Any) -> dict[str, Any]:
        row = db.execute(sql, params).fetchone()
        assert row is not None
        return dict(row)

    def post(upload: dict[str, Any], data: bytes, content_type: str) -> str:
        sent = requests.post(upload["url"], data=upload["fields"],
                             files={"file": ("f", data, content_type)}, timeout=30)
        assert sent.status_code == 204, sent.text
        return str(sent.headers["ETag"]).strip('"')

    class Versions(RuleBasedStateMachine):
        m: Model

        @initialize()
        def create(self) -> None:
            owner = rows.create_user(db)
            data = b"version one\n"
            created = files_domain.create_upload(owner, f"{owner}@pipeline.test", FileCreate(
                name="doc.txt", size=len(data), content_type="text/plain"))
            upload = created.upload.model_dump()
            etag = post(upload, data, "text/plain")
            key = upload["fields"]["key"]
            processing.process_object(processing.S3Object(bucket=bucket, key=key, size=len(data), etag=etag))
            file_id = str(created.file_id)
            self.m = Model(owner, file_id, {file_id: Version(file_id, key, len(data), True, "ready", etag)},
                           current=file_id)

        @precondition(lambda self: not self.m.purged and len(self.m.versions) < 6)
        @rule(good=st.booleans(), size=st.integers(min_value=1, max_value=64), now=st.booleans())
        def new_version(self, good: bool, size: int, now: bool) -> None:
            """POST /files/{id}/versions and its bytes; their event is handled at once (``now``) or
            stays in flight for ``deliver``."""
            content_type = "text/plain" if good else "image/png"
            try:
                created = versions.create_version(self.m.owner, uuid.UUID(self.m.file_id), VersionCreate(
                    size=size, content_type=content_type))
            except Conflict as exc:
                assert self.m.trashed and exc.code == "file_not_ready"
                taken["refused_trashed"] += 1
                return
            assert not self.m.trashed
            upload = created.upload.model_dump()
            etag = post(upload, b"x" * size, content_type)
            vid = str(created.version_id)
            self.m.versions[vid] = Version(vid, upload["fields"]["key"], size, good, etag=etag)
            taken["new"] += 1
            if now:
                self.deliver(len(self.m.versions) - 1, twice=False)

        @precondition(lambda self: not self.m.purged)
        @rule(pick=st.integers(min_value=0), twice=st.booleans())
        def deliver(self, pick: int, twice: bool) -> None:
            """The S3 event of any version (late, duplicated, out of order) reaches the processor."""
            chosen = list(self.m.versions.values())[pick % len(self.m.versions)]
            for _ in range(2 if twice else 1):
                processing.process_object(processing.S3Object(bucket=bucket, key=chosen.key, size=chosen.size,
                                                              etag=chosen.etag))
                if chosen.status == "pending":
                    if chosen.good and not self.m.trashed:
                        chosen.status, self.m.current = "ready", chosen.version_id
                        self.m.promotions += 1
                        taken["promoted"] += 1
                    else:
                        chosen.status = "rejected"
                        taken["rejected"] += 1

        @precondition(lambda self: not self.m.purged)
        @rule(pick=st.integers(min_value=0))
        def make_current(self, pick: int) -> None:
            chosen = list(self.m.versions.values())[pick % len(self.m.versions)]
            try:
                versions.make_current(self.m.owner, uuid.UUID(self.m.file_id), uuid.UUID(chosen.version_id))
            except Conflict as exc:
                want = "file_not_ready" if self.m.trashed else "version_not_ready"
                assert exc.code == want and (self.m.trashed or chosen.status != "ready"), exc
                return
            assert not self.m.trashed and chosen.status == "ready"
            self.m.current = chosen.version_id
            taken["made_current"] += 1

        @precondition(lambda self: not self.m.purged)
        @rule(pick=st.integers(min_value=0))
        def delete(self, pick: int) -> None:
            chosen = list(self.m.versions.values())[pick % len(self.m.versions)]
            try:
                versions.delete_version(self.m.owner, uuid.UUID(self.m.file_id), uuid.UUID(chosen.version_id))
            except Conflict as exc:
                assert exc.code == "version_is_current" and chosen.version_id == self.m.current
                return
            assert chosen.version_id != self.m.current
            del self.m.versions[chosen.version_id]
            taken["deleted"] += 1

        @precondition(lambda self: not self.m.purged and len(self.m.versions) >= 2)
        @rule()
        def trash_or_restore(self) -> None:
            file_id = uuid.UUID(self.m.file_id)
            if self.m.trashed:
                trash_domain.restore_file(self.m.owner, file_id)
            else:
                files_domain.trash_file(self.m.owner, file_id)
            self.m.trashed = not self.m.trashed
            taken["trash_or_restore"] += 1

        @rule()
        def nothing(self) -> None:
            """A step that is always possible (after a purge, nothing else is)."""

        @precondition(lambda self: not self.m.purged and len(self.m.versions) >= 2)
        @rule()
        def purge(self) -> None:
            file_id = uuid.UUID(self.m.file_id)
            if not self.m.trashed:
                files_domain.trash_file(self.m.owner, file_id)
            trash_domain.purge_file(self.m.owner, file_id)
            assert deletion.purge(file_id, self.m.owner) is deletion.Outcome.PURGED
            assert deletion.purge(file_id, self.m.owner) is deletion.Outcome.ALREADY_GONE
            self.m.purged = True
            taken["purged"] += 1

        @invariant()
        def consistent(self) -> None:
            prefix_u, prefix_t = f"u/{self.m.owner}/{self.m.file_id}/", f"t/{self.m.owner}/{self.m.file_id}"
            if self.m.purged:
                left = [o["Key"] for p in (prefix_u, prefix_t)
                        for o in s3.list_objects_v2(Bucket=bucket, Prefix=p).get("Contents", [])]
                assert left == []
                kept = one("SELECT count(*) AS n FROM file_versions WHERE file_id = %s", self.m.file_id)
                assert kept["n"] == 0
                return
            listed = {str(v.version_id): v for v in
                      versions.list_versions(self.m.owner, uuid.UUID(self.m.file_id)).items}
            assert set(listed) == set(self.m.versions)
            assert [vid for vid, v in listed.items() if v.current] == [self.m.current]
            for vid, version in self.m.versions.items():
                assert listed[vid].status == version.status, (vid, listed[vid], version)
                if version.status == "ready":
                    assert exists(version.key), version
                elif version.status == "rejected":
                    assert not exists(version.key), version
            row = one("SELECT s3_key, size FROM files WHERE file_id = %s", self.m.file_id)
            current = self.m.versions[self.m.current]
            assert (row["s3_key"], row["size"]) == (current.key, current.size)
            used, pending = users_db.usage(db, self.m.owner)
            assert used == sum(v.size for v in self.m.versions.values() if v.status == "ready")
            assert pending == sum(v.size for v in self.m.versions.values() if v.status == "pending")
            added = one("SELECT count(*) AS n FROM outbox WHERE aggregate_id = %s"
                        " AND type = 'file.version_added'", self.m.file_id)["n"]
            assert added == self.m.promotions

    run_state_machine_as_test(Versions, settings=settings(
        max_examples=25, stateful_step_count=15, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    # The sequences went everywhere: promotions, rejections, switches, deletes, the trash, purges
    print("version steps:", dict(taken))
    wanted = {"new", "promoted", "rejected", "made_current", "deleted", "trash_or_restore", "purged"}
    assert wanted <= set(taken), taken
