"""What a file really is (magic-byte sniffing) and its image thumbnail. Pure functions, no I/O.

Sniffing uses the ``filetype`` library (pure Python, signatures only, first 8 KiB). The rule from
DESIGN.md: any type is accepted unless the allow-list says otherwise; where the bytes can be
sniffed, the declared type must match them. Two ways to fail the match:
- the bytes are a known format and the declared type names another one (a PNG sent as image/jpeg);
- the declared type is one whose files always carry a reliable signature (PNG, JPEG, PDF, ...) and
  the bytes have none (a text file sent as image/png).
Declared types that make no claim (application/octet-stream) match anything; the allow-list is
then checked against the sniffed type, so a generic declaration cannot bypass it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

SNIFF_BYTES = 8192  # what filetype reads; enough for every signature it knows

#: Spellings browsers and tools use for the same type -> the canonical one.
_ALIASES: dict[str, str] = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-ms-bmp": "image/bmp",
    "image/x-bmp": "image/bmp",
    "image/vnd.microsoft.icon": "image/x-icon",
    "application/x-pdf": "application/pdf",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/x-gzip": "application/gzip",
    "application/x-7z": "application/x-7z-compressed",
    "application/vnd.rar": "application/x-rar-compressed",
    "application/x-rar": "application/x-rar-compressed",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/wav": "audio/x-wav",
    "audio/wave": "audio/x-wav",
    "audio/vnd.wave": "audio/x-wav",
    "audio/flac": "audio/x-flac",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
}

#: Formats that share a container: a sniffer sees the container, the declaration names the member.
_FAMILIES: tuple[frozenset[str], ...] = (
    frozenset({  # ZIP containers
        "application/zip", "application/epub+zip", "application/java-archive",
        "application/vnd.android.package-archive", "application/x-google-chrome-extension",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    }),
    frozenset({  # OLE compound files (legacy Office, MSI)
        "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
        "application/x-ole-storage", "application/x-msi", "application/vnd.ms-outlook",
    }),
    frozenset({  # ISO base media (ftyp boxes)
        "video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp", "video/3gpp2", "audio/mp4",
        "image/heic", "image/heif", "image/avif",
    }),
    frozenset({"image/png", "image/apng"}),
    frozenset({"video/x-matroska", "video/webm", "audio/webm"}),
    frozenset({"audio/ogg", "video/ogg", "application/ogg", "audio/opus"}),
    frozenset({"application/x-tar", "application/x-gtar"}),
)

#: Declared types whose real files always start with a signature filetype recognises reliably.
SIGNED_TYPES: frozenset[str] = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff",
    "application/pdf", "application/zip", "application/gzip", "application/x-7z-compressed",
    "application/x-rar-compressed", "application/x-bzip2", "application/x-xz", "application/zstd",
    "application/x-sqlite3",
})

#: Declared types that claim nothing about the bytes.
GENERIC_TYPES: frozenset[str] = frozenset({"application/octet-stream", "binary/octet-stream", ""})

#: Types we make thumbnails of.
THUMBNAIL_SOURCES: frozenset[str] = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
THUMBNAIL_MAX_PX = 256
THUMBNAIL_MAX_SOURCE_PIXELS = 40_000_000  # larger images are not decoded (decompression bombs)


def normalize(content_type: str) -> str:
    """Lower-case, parameters dropped (``; charset=...``), aliases resolved."""
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


#: Types a browser runs or renders as a page of the origin that served them (markup, script, SVG,
#: XML that can carry XHTML or XSLT). Served as INERT_TYPE, attachment only (``storage.presigned_get``).
_ACTIVE = frozenset({
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
    "text/xsl", "application/xslt+xml", "text/javascript", "application/javascript",
    "application/x-javascript", "text/ecmascript", "application/ecmascript", "text/jscript",
    "application/vnd.wap.xhtml+xml", "text/x-component", "application/x-shockwave-flash",
    "multipart/x-mixed-replace",
})
INERT_TYPE = "application/octet-stream"


def is_active(content_type: str) -> bool:
    """Whether a browser would run or render ``content_type`` (any ``+xml`` or ``/xml`` type too)."""
    ct = normalize(content_type)
    return (ct in _ACTIVE or ct.endswith(("+xml", "/xml")) or "javascript" in ct
            or "ecmascript" in ct or ct.startswith("text/html"))


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes reveal, or None when they carry no known signature."""
    import filetype  # cold start: only the processor sniffs content

    kind = filetype.guess(bytes(head[:SNIFF_BYTES]))
    if kind is None or kind.mime == "application/octet-stream":  # filetype's EOT font matcher
        return None
    return normalize(kind.mime)


def _same_family(a: str, b: str) -> bool:
    return a == b or any(a in family and b in family for family in _FAMILIES)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a file's bytes against its declaration."""

    ok: bool
    effective_type: str  # what to store: the declared type, or the sniffed one for generic claims
    sniffed: str | None
    reason: str | None = None  # machine-readable when not ok


def check_type(declared: str, head: bytes, allowed: tuple[str, ...] = ()) -> Verdict:
    """Compare the declared type with the sniffed one and the allow-list (empty: all allowed)."""
    claimed = normalize(declared)
    sniffed = sniff(head)
    if claimed in GENERIC_TYPES:
        effective = sniffed or "application/octet-stream"
    elif (sniffed is None and claimed in SIGNED_TYPES) or (
            sniffed is not None and not _same_family(claimed, sniffed)):
        return Verdict(False, claimed, sniffed, "content_type_mismatch")
    else:
        effective = claimed
    if allowed and not _is_allowed(effective, allowed):
        return Verdict(False, effective, sniffed, "content_type_not_allowed")
    return Verdict(True, effective, sniffed)


def _is_allowed(content_type: str, allowed: tuple[str, ...]) -> bool:
    """Allow-list entries are exact types or ``major/*`` wildcards."""
    for entry in (normalize(a) for a in allowed):
        if entry == content_type or (entry.endswith("/*") and content_type.startswith(entry[:-1])):
            return True
    return False


def thumbnail(data: bytes, max_px: int = THUMBNAIL_MAX_PX) -> bytes | None:
    """A WebP thumbnail no larger than ``max_px`` on either side, EXIF orientation applied.

    None when the image cannot be decoded or is larger than ``THUMBNAIL_MAX_SOURCE_PIXELS``
    (checked from the header, before any pixel is decoded). Animated images give their first frame.
    """
    from PIL import (  # cold start: Pillow only where thumbnails are made
        Image,
        ImageOps,
        UnidentifiedImageError,
    )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > THUMBNAIL_MAX_SOURCE_PIXELS or width <= 0 or height <= 0:
                return None
            # JPEG can decode at 1/2, 1/4, 1/8 scale: far less work and memory for a thumbnail.
            # Orientation may swap the sides, so ask for at least max_px on both.
            image.draft("RGB", (max_px, max_px))
            image = ImageOps.exif_transpose(image)
            image.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
            has_alpha = image.mode in ("RGBA", "LA", "PA") or (
                image.mode == "P" and "transparency" in image.info)
            image = image.convert("RGBA" if has_alpha else "RGB")
            out = io.BytesIO()
            image.save(out, format="WEBP", quality=80, method=4)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None


_ARCHIVES = frozenset({
    "application/zip", "application/gzip", "application/x-tar", "application/x-gtar",
    "application/x-7z-compressed", "application/x-rar-compressed", "application/x-bzip2",
    "application/x-xz", "application/zstd", "application/x-lzip", "application/x-lz4",
    "application/x-compress", "application/x-brotli",
})
_DOCUMENT_PREFIXES = ("application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.",
                      "application/vnd.ms-")
_DOCUMENTS = frozenset({"application/pdf", "application/msword", "application/rtf", "application/epub+zip",
                        "application/json", "application/xml", "application/postscript"})


def category(content_type: str) -> str:
    """The coarse kind search filters on: image, video, audio, document, archive or other."""
    ct = normalize(content_type)
    major = ct.split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return major
    if ct in _ARCHIVES:
        return "archive"
    if major == "text" or ct in _DOCUMENTS or ct.startswith(_DOCUMENT_PREFIXES):
        return "document"
    return "other"
