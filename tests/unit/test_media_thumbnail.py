"""Thumbnails: bounded WebP, EXIF orientation applied, bombs and garbage refused without decoding."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fileshare import media


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(("fmt", "size", "expected"), [
    ("JPEG", (1024, 512), (256, 128)),
    ("PNG", (300, 900), (85, 256)),
    ("GIF", (64, 48), (64, 48)),  # never enlarged
    ("WEBP", (2000, 2000), (256, 256)),
])
def test_thumbnail_is_webp_within_bounds_keeping_aspect(fmt: str, size: tuple[int, int],
                                                        expected: tuple[int, int]) -> None:
    source = _encode(Image.new("RGB", size, (10, 120, 200)), fmt)
    thumb = media.thumbnail(source)
    assert thumb is not None
    image = _open(thumb)
    assert image.format == "WEBP"
    assert image.size == expected


def test_exif_orientation_is_applied() -> None:
    # Given a landscape JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6),
    # with the left half red and the right half blue as stored
    stored = Image.new("RGB", (400, 200), (255, 0, 0))
    stored.paste((0, 0, 255), (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(stored, "JPEG", exif=exif.tobytes(), quality=95)

    # When thumbnailed
    thumb = media.thumbnail(data)

    # Then it is portrait, and rotating 90° clockwise put the stored left (red) half on top
    assert thumb is not None
    image = _open(thumb).convert("RGB")
    assert image.size == (128, 256)
    top, bottom = image.getpixel((64, 32)), image.getpixel((64, 224))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_transparency_survives() -> None:
    source = _encode(Image.new("RGBA", (100, 100), (0, 255, 0, 0)), "PNG")
    thumb = media.thumbnail(source)
    assert thumb is not None
    image = _open(thumb)
    assert image.mode == "RGBA"
    assert image.getpixel((50, 50))[3] == 0  # type: ignore[index]


def test_decompression_bomb_is_refused_from_the_header() -> None:
    # Given a tiny PNG claiming 10000 x 10000 pixels (100 Mpx, over the limit): a palette image of
    # one colour compresses to a few KB but would take ~100 MB to decode
    bomb = _encode(Image.new("P", (10_000, 10_000), 0), "PNG", optimize=True)
    assert len(bomb) < 200_000
    assert media.THUMBNAIL_MAX_SOURCE_PIXELS < 10_000 * 10_000
    # When thumbnailed / Then no thumbnail (and no exception)
    assert media.thumbnail(bomb) is None


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64])
def test_undecodable_input_gives_no_thumbnail(data: bytes) -> None:
    assert media.thumbnail(data) is None
