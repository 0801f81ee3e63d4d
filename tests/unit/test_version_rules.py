"""Versions' pure rules: the keys (explicit version keys), thumbnails per version, the deleter's
key list, and the schema's CHECK on ``file_versions.status`` against the enum."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from fileshare import deletion
from fileshare.adapters import storage
from fileshare.lifecycle import VERSION_MOVES, VersionStatus

MIGRATIONS = Path(__file__).resolve().parents[2] / "layers/shared/python/fileshare/db/migrations"


def test_a_version_key_names_its_version_and_the_first_upload_has_none() -> None:
    file_id, version_id = uuid.uuid4(), uuid.uuid4()
    key = storage.version_key("o", file_id, version_id, "a b.txt")
    assert key == f"u/o/{file_id}/v/{version_id}/a b.txt"
    assert storage.version_id_of_key("o", file_id, key) == str(version_id)
    named_v = storage.object_key("o", file_id, "v")  # a first upload called "v"
    assert storage.version_id_of_key("o", file_id, named_v) is None
    assert storage.version_id_of_key("o", uuid.uuid4(), key) is None  # another file's


def test_each_version_has_its_own_thumbnail_and_the_first_keeps_the_old_one() -> None:
    file_id, version_id = uuid.uuid4(), uuid.uuid4()
    first = storage.object_key("o", file_id, "a.png")
    later = storage.version_key("o", file_id, version_id, "a.png")
    assert storage.thumbnail_key_for("o", file_id, first) == storage.thumbnail_key("o", file_id)
    assert storage.thumbnail_key_for("o", file_id, later) == f"t/o/{file_id}/{version_id}.webp"


def test_the_deleter_lists_every_versions_object_and_thumbnail() -> None:
    file_id, v2 = uuid.uuid4(), uuid.uuid4()
    current = storage.version_key("o", file_id, v2, "b.png")
    first = storage.object_key("o", file_id, "a.png")
    row = {"s3_key": current, "thumbnail_key": f"t/o/{file_id}/{v2}.webp"}
    assert deletion.object_keys(file_id, "o", row, version_keys=[first]) == sorted({
        current, f"t/o/{file_id}/{v2}.webp", first, f"t/o/{file_id}.webp"})


def test_the_schema_check_lists_exactly_the_version_statuses() -> None:
    sql = (MIGRATIONS / "0050_file_versions.sql").read_text()
    match = re.search(r"status\s+text NOT NULL CHECK \(status IN \(([^)]*)\)\)", sql)
    assert match is not None
    assert {v.strip().strip("'") for v in match.group(1).split(",")} == {s.value for s in VersionStatus}
    assert set(VERSION_MOVES) == set(VersionStatus)
    assert VERSION_MOVES[VersionStatus.REJECTED] == frozenset()  # terminal


def test_the_api_model_lists_exactly_the_version_statuses() -> None:
    from typing import get_args

    from fileshare.models import VersionStatus as ApiStatus

    assert set(get_args(ApiStatus)) == {s.value for s in VersionStatus}
