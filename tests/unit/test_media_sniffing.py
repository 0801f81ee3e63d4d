"""Type sniffing: the declared content type must match the bytes wherever the bytes can tell."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from fileshare import media


def _image_bytes(fmt: str, size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red").save(out, format=fmt)
    return out.getvalue()


PNG = _image_bytes("PNG")
JPEG = _image_bytes("JPEG")
GIF = _image_bytes("GIF")
WEBP = _image_bytes("WEBP")
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
TEXT = b"hello, this is just text\nwith two lines\n"


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize(("data", "expected"), [
    (PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp"),
    (PDF, "application/pdf"), (TEXT, None), (b"", None),
])
def test_sniff_recognises_signatures_and_not_text(data: bytes, expected: str | None) -> None:
    assert media.sniff(data) == expected


@pytest.mark.parametrize(("declared", "data"), [
    ("image/png", PNG), ("image/jpeg", JPEG), ("image/jpg", JPEG), ("IMAGE/JPEG; charset=binary", JPEG),
    ("image/gif", GIF), ("image/webp", WEBP), ("application/pdf", PDF), ("text/plain", TEXT),
    ("text/csv", b"a,b\n1,2\n"), ("application/json", b'{"a": 1}'),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _docx()),
    ("application/zip", _docx()),  # a docx is a zip: the container family matches
    ("application/x-zip-compressed", _docx()),  # Windows browsers' spelling of zip
])
def test_matching_declarations_are_accepted(declared: str, data: bytes) -> None:
    verdict = media.check_type(declared, data)
    assert verdict.ok, verdict
    assert verdict.reason is None


@pytest.mark.parametrize(("declared", "data", "sniffed"), [
    ("image/jpeg", PNG, "image/png"),  # a PNG declared as JPEG
    ("image/png", TEXT, None),  # text declared as an image that always has a signature
    ("application/pdf", TEXT, None),
    ("text/plain", PNG, "image/png"),  # an image smuggled as text
    ("image/gif", JPEG, "image/jpeg"),
])
def test_mismatches_are_rejected(declared: str, data: bytes, sniffed: str | None) -> None:
    verdict = media.check_type(declared, data)
    assert not verdict.ok
    assert verdict.reason == "content_type_mismatch"
    assert verdict.sniffed == sniffed


def test_generic_declaration_takes_the_sniffed_type() -> None:
    assert media.check_type("application/octet-stream", PNG).effective_type == "image/png"
    unknown = media.check_type("application/octet-stream", b"\x00\x01\x02 no signature")
    assert unknown.ok and unknown.effective_type == "application/octet-stream"


def test_allow_list_is_checked_against_the_sniffed_type() -> None:
    allowed = ("image/*", "application/pdf")
    assert media.check_type("image/png", PNG, allowed).ok
    assert media.check_type("application/pdf", PDF, allowed).ok
    denied = media.check_type("text/plain", TEXT, allowed)
    assert (denied.ok, denied.reason) == (False, "content_type_not_allowed")
    # a generic declaration cannot smuggle a disallowed type past the list
    zipped = media.check_type("application/octet-stream", _docx(), ("image/*",))
    assert (zipped.ok, zipped.reason) == (False, "content_type_not_allowed")


@pytest.mark.parametrize(("content_type", "expected"), [
    ("image/png", "image"), ("video/mp4", "video"), ("audio/mpeg", "audio"), ("application/pdf", "document"),
    ("text/plain; charset=utf-8", "document"), ("application/x-zip-compressed", "archive"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document"),
    ("application/octet-stream", "other"),
])
def test_category(content_type: str, expected: str) -> None:
    assert media.category(content_type) == expected


@pytest.mark.parametrize("content_type", [
    "text/html", "TEXT/HTML; charset=utf-8", "application/xhtml+xml", "image/svg+xml", "text/xml",
    "application/xml", "application/atom+xml", "text/javascript", "application/x-javascript",
    "application/ecmascript", "text/xsl",
])
def test_active_types_are_recognised(content_type: str) -> None:
    assert media.is_active(content_type)


@pytest.mark.parametrize("content_type", [
    "text/plain", "text/csv", "image/png", "image/jpeg", "application/pdf", "application/json",
    "application/octet-stream", "application/zip", "video/mp4",
])
def test_passive_types_are_served_as_they_are(content_type: str) -> None:
    assert not media.is_active(content_type)
