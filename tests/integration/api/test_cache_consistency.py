"""The file cache on real Redis: a read that overlaps a write never re-caches the old record."""

from __future__ import annotations

import uuid

from fileshare.adapters import cache


def test_fill_after_a_miss_is_served_from_cache() -> None:
    file_id = uuid.uuid4()
    lookup = cache.get_file(file_id)
    assert lookup.record is None

    assert cache.put_file(file_id, {"status": "ready"}, lookup)

    assert cache.get_file(file_id).record == {"status": "ready"}


def test_write_between_miss_and_fill_keeps_the_stale_record_out() -> None:
    # Given a reader that missed and read the row while it was still pending
    file_id = uuid.uuid4()
    reader = cache.get_file(file_id)
    # When a writer commits "ready" and invalidates before the reader fills
    cache.invalidate_file(file_id)
    stored = cache.put_file(file_id, {"status": "pending"}, reader)
    # Then the stale record is not cached, and the next reader fills the fresh one
    assert not stored
    fresh = cache.get_file(file_id)
    assert fresh.record is None
    assert cache.put_file(file_id, {"status": "ready"}, fresh)
    assert cache.get_file(file_id).record == {"status": "ready"}


def test_invalidation_drops_a_cached_record() -> None:
    file_id = uuid.uuid4()
    cache.put_file(file_id, {"status": "pending"}, cache.get_file(file_id))

    cache.invalidate_file(file_id)

    assert cache.get_file(file_id).record is None


def test_record_and_generation_share_one_cluster_slot() -> None:
    file_id = uuid.uuid4()
    def hash_tag(key: str) -> str:
        return key[key.index("{"):key.index("}") + 1]

    assert hash_tag(cache.file_key(file_id)) == hash_tag(cache.generation_key(file_id)) == f"{{{file_id}}}"
