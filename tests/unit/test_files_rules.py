"""Pure rules of the files domain: names, keys, quota, sizes, types, cursors, models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from fileshare import cursor
from fileshare.adapters.storage import content_disposition, object_key, part_plan
from fileshare.errors import TooLarge, ValidationFailed
from fileshare.files import check_expiry, list_cursor
from fileshare.models import CompleteIn, FileCreate, FileOut, FilePatch
from fileshare.records import check_content_type, check_quota, check_size, completed_before, sanitize_name


@pytest.mark.parametrize(("raw", "expected"), [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\photo.JPG", "photo.JPG"),
    ("  spaced\tout\nname .txt  ", "spaced out name .txt"),
    ("evil\u202etxt.exe", "eviltxt.exe"),  # right-to-left override removed
    ("null\x00byte.txt", "nullbyte.txt"),
    ("...hidden", "hidden"),
    ("trailing dots...", "trailing dots"),
    ("cafe\u0301.txt", "café.txt"),  # NFC
])
def test_sanitize_name(raw: str, expected: str) -> None:
    assert sanitize_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "../", "..", "\x00\x01", "a/b/", "\u202e"])
def test_sanitize_name_refuses_what_leaves_nothing(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        sanitize_name(raw)
    assert caught.value.code == "invalid_name"


def test_long_names_are_cut_to_255_chars_and_bytes_keeping_the_extension() -> None:
    assert sanitize_name("a" * 300 + ".pdf") == "a" * 251 + ".pdf"
    cut = sanitize_name("é" * 300 + ".txt")  # 2 bytes per character
    assert cut.endswith(".txt") and len(cut.encode()) <= 255 and len(cut.encode()) > 250
    no_ext = sanitize_name("x" * 1000)
    assert no_ext == "x" * 255


def test_object_key_pins_owner_file_and_name() -> None:
    file_id = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert object_key("user-1", file_id, "a b.txt") == f"u/user-1/{file_id}/a b.txt"


@pytest.mark.parametrize(("quota", "used", "pending", "size", "ok"), [
    (100, 0, 0, 100, True), (100, 0, 0, 101, False), (100, 50, 40, 10, True),
    (100, 50, 40, 11, False), (100, 100, 0, 1, False), (0, 0, 0, 1, False),
])
def test_quota_counts_used_and_pending(quota: int, used: int, pending: int, size: int, ok: bool) -> None:
    if ok:
        check_quota(quota, used, pending, size)
    else:
        with pytest.raises(TooLarge) as caught:
            check_quota(quota, used, pending, size)
        assert caught.value.code == "quota_exceeded" and caught.value.status == 413


def test_size_limit_is_413() -> None:
    check_size(10, 10)
    with pytest.raises(TooLarge) as caught:
        check_size(11, 10)
    assert caught.value.code == "file_too_large"


def test_content_type_allow_list() -> None:
    check_content_type("application/x-anything", ())
    check_content_type("image/png", ("image/*",))
    check_content_type("application/pdf", ("image/*", "application/pdf"))
    with pytest.raises(ValidationFailed):
        check_content_type("text/plain", ("image/*", "application/pdf"))


def test_expiry_must_be_in_the_future() -> None:
    now = datetime.now(UTC)
    check_expiry(None, now)
    check_expiry(now + timedelta(seconds=1), now)
    with pytest.raises(ValidationFailed):
        check_expiry(now, now)


def test_list_cursor_round_trip_and_tampering() -> None:
    row = {"created_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), "file_id": uuid.uuid4()}
    assert cursor.decode_time_id(list_cursor(row)) == (row["created_at"], row["file_id"])
    for bad in ("", "!!!", cursor.encode(["2026-01-01", "not-a-uuid"]), cursor.encode(["x"]),
                cursor.encode({"a": 1}),  # type: ignore[arg-type]
                cursor.encode(["2026-01-01T00:00:00", str(uuid.uuid4())]),
                "A" * 600):
        with pytest.raises(ValidationFailed):
            cursor.decode_time_id(bad)


def test_generic_cursor_checks_shape() -> None:
    assert cursor.decode(cursor.encode([1.5, 1700000000000, "id"]), length=3) == [1.5, 1700000000000, "id"]
    with pytest.raises(ValidationFailed):
        cursor.decode(cursor.encode([[1], 2]), length=2)


def test_part_plan_respects_s3_limits() -> None:
    mib = 1024**2
    assert part_plan(6 * mib, 5 * mib) == (5 * mib, 2)
    assert part_plan(64 * mib, 16 * mib) == (16 * mib, 4)
    assert part_plan(10 * mib, 1 * mib) == (5 * mib, 2)  # never below S3's 5 MiB minimum
    size, count = part_plan(5 * 1024**4, 16 * mib)  # 5 TiB: parts grow to stay within 10,000
    assert count <= 10_000 and size * count >= 5 * 1024**4


def test_content_disposition_has_ascii_fallback_and_utf8_name() -> None:
    assert content_disposition('Résumé "v2".pdf') == (
        "attachment; filename=\"Resume _v2_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22v2%22.pdf")
    assert content_disposition("日本.txt").startswith('attachment; filename=".txt"')


def test_file_create_model_normalizes_and_bounds() -> None:
    body = FileCreate.model_validate({"name": "a.txt", "size": 1, "content_type": "Text/Plain",
                                      "tags": [" Work ", "work", "Q3"]})
    assert body.content_type == "text/plain" and body.tags == ["work", "q3"]
    for bad in ({"name": "a", "size": 0, "content_type": "text/plain"},
                {"name": "a", "size": 1, "content_type": "text"},
                {"name": "a", "size": 1, "content_type": " text/plain "},  # the schema's pattern says no
                {"name": "a", "size": 1, "content_type": "text/plain", "tags": ["   "]},
                {"name": "a", "size": 1, "content_type": "text/plain", "tags": ["a\x07b"]},
                {"name": "a", "size": 1, "content_type": "text/plain", "tags": ["t" * 51]},
                {"name": "a", "size": 1, "content_type": "text/plain", "tags": ["t"] * 21},
                {"name": "a", "size": 1, "content_type": "text/plain", "expires_at": "2030-01-01T00:00:00"},
                {"name": "a", "size": 1, "content_type": "text/plain", "extra": 1}):
        with pytest.raises(ValidationError):
            FileCreate.model_validate(bad)


def test_model_rules_are_the_schema_rules() -> None:
    """What the JSON Schema (the OpenAPI document) allows, the model accepts, and the reverse."""
    import re

    props = FileCreate.model_json_schema()["properties"]
    tag = props["tags"]["items"]
    assert tag["maxLength"] == 50 and "pattern" in tag and "pattern" in props["content_type"]
    for candidate in ["a", " x ", "Ünïcode", "\u200b", "a\tb", "  ", "\x85x", "ok\x7f"]:
        in_schema = re.search(tag["pattern"], candidate) is not None
        try:
            FileCreate.model_validate({"name": "a", "size": 1, "content_type": "a/b", "tags": [candidate]})
            accepted = True
        except ValidationError:
            accepted = False
        assert in_schema == accepted, repr(candidate)


def test_patch_tells_absent_from_null() -> None:
    assert FilePatch.model_validate({}).model_fields_set == set()
    assert FilePatch.model_validate({"expires_at": None}).model_fields_set == {"expires_at"}


def test_complete_parts_are_bounded() -> None:
    with pytest.raises(ValidationError):
        CompleteIn.model_validate({"parts": []})
    with pytest.raises(ValidationError):
        CompleteIn.model_validate({"parts": [{"part_number": 0, "etag": "x"}]})


def test_file_out_is_the_public_shape() -> None:
    out = FileOut.model_validate({"file_id": str(uuid.uuid4()), "name": "a", "size": 1, "content_type": "x/y",
                                  "status": "ready", "tags": [], "created_at": "2026-01-01T00:00:00+00:00",
                                  "owner_id": "u"})
    assert set(out.model_dump()) == {"file_id", "name", "size", "content_type", "status", "checksum_sha256",
                                     "s3_checksum", "tags", "created_at", "expires_at", "owner_id",
                                     "thumbnail_url", "folder_id"}


def test_a_retried_complete_is_recognised_by_the_multipart_etag_only() -> None:
    import hashlib

    part_md5s = [hashlib.md5(b"one", usedforsecurity=False).hexdigest(),
                 hashlib.md5(b"two", usedforsecurity=False).hexdigest()]
    whole = hashlib.md5(b"".join(bytes.fromhex(m) for m in part_md5s), usedforsecurity=False).hexdigest()
    etags = [f'"{m}"' for m in part_md5s]
    assert completed_before("ready", f"{whole}-2", etags)
    assert completed_before("ready", f'"{whole}-2"', part_md5s)
    assert not completed_before("ready", f"{whole}-3", etags)  # another part count
    assert not completed_before("ready", f"{whole}-2", etags[::-1])  # the same parts in another order
    assert not completed_before("pending", f"{whole}-2", etags)  # not verified yet: complete it
    assert not completed_before("rejected", f"{whole}-2", etags)
    assert not completed_before("ready", None, etags)
    assert not completed_before("ready", f"{whole}-2", ["not hex"])
    assert not completed_before("ready", f"{whole}-0", [])
