"""Recognise an upload by its content and decode it safely into page images.

Content decides the type, never the file name: a JPEG called `.pdf` is read as a JPEG, and a
ZIP called `.jpg` is refused. Every limit (bytes, pixels, pages) is checked before the
expensive decode so that a hostile file cannot exhaust memory or time.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    FileTooLargeError,
    IntakeError,
    UnsupportedFileError,
)
from pipeline.settings import Settings

log = logging.getLogger(__name__)

IMAGE_TYPES = {"image/jpeg", "image/png", "image/tiff", "image/heic", "image/webp", "image/bmp"}
PDF_TYPE = "application/pdf"

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What a file's first bytes say it is."""

    media_type: str
    size: int


def _describe_unknown(head: bytes) -> str:
    """A human name for common non-document uploads, to make the refusal actionable."""
    stripped = head.lstrip()
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive or Office document (.docx/.xlsx)"
    if stripped[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in stripped[:512].lower():
        return "an SVG/XML file"
    if stripped[:1] in (b"{", b"["):
        return "a JSON/text file"
    if stripped[:14].lower() == b"<!doctype html" or stripped[:5].lower() == b"<html":
        return "an HTML page"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Office document (.doc/.xls)"
    if head.startswith(b"\x7fELF") or head.startswith(b"MZ"):
        return "an executable program"
    try:
        head.decode("utf-8")
        return "a plain text file"
    except UnicodeDecodeError:
        return "an unknown binary format"


def sniff(path: Path, settings: Settings) -> Sniffed:
    """Identify a file by its magic bytes; refuse empty, oversized and unsupported files."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise UnsupportedFileError("file does not exist", path=str(path)) from exc
    if not path.is_file():
        raise UnsupportedFileError("not a regular file", path=str(path))
    if size == 0:
        raise EmptyFileError(
            "the file is empty (0 bytes); upload the document again", path=str(path)
        )
    if size > settings.max_file_bytes:
        raise FileTooLargeError(
            f"the file is {size / 1e6:.0f} MB, over the {settings.max_file_bytes / 1e6:.0f} MB limit "
            "(INTAKE_MAX_FILE_BYTES); split it or scan at a lower resolution",
            path=str(path),
        )
    with path.open("rb") as fh:
        head = fh.read(1024)
    media_type = _media_type(head)
    if media_type is None:
        raise UnsupportedFileError(
            f"this looks like {_describe_unknown(head)}, not a document image or PDF; "
            "upload JPEG, PNG, TIFF, HEIC or PDF",
            path=str(path),
        )
    if _ends_with_zip(path, size):
        raise UnsupportedFileError(
            f"this {media_type} file is also a ZIP archive (a polyglot file that can hide "
            "programs); scan or export the document again and upload the new file",
            path=str(path),
        )
    declared = path.suffix.lower().lstrip(".")
    if declared and not _suffix_matches(declared, media_type):
        log.warning(
            "%s: extension .%s but content is %s; reading by content", path, declared, media_type
        )
    return Sniffed(media_type=media_type, size=size)


_ZIP_END = b"PK\x05\x06"  # the end-of-central-directory record closing every ZIP archive
_ZIP_END_SIZE = 22
_ZIP_TAIL = _ZIP_END_SIZE + 0xFFFF  # the record plus the longest archive comment


def _ends_with_zip(path: Path, size: int) -> bool:
    """True if the file ends like a ZIP archive: an end-of-central-directory record whose
    comment length reaches exactly to the last byte (what ZIP readers look for)."""
    tail_size = min(size, _ZIP_TAIL)
    with path.open("rb") as fh:
        fh.seek(size - tail_size)
        tail = fh.read(tail_size)
    at = tail.rfind(_ZIP_END)
    while at >= 0:
        if at + _ZIP_END_SIZE <= len(tail):
            (comment,) = struct.unpack_from("<H", tail, at + 20)
            if at + _ZIP_END_SIZE + comment == len(tail):
                return True
        at = tail.rfind(_ZIP_END, 0, at)
    return False


def _media_type(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"BM"):
        return "image/bmp"
    if b"%PDF-" in head:
        return PDF_TYPE
    return None


_SUFFIXES = {
    "image/jpeg": {"jpg", "jpeg", "jpe", "jfif"},
    "image/png": {"png"},
    "image/tiff": {"tif", "tiff"},
    "image/heic": {"heic", "heif"},
    "image/webp": {"webp"},
    "image/bmp": {"bmp"},
    PDF_TYPE: {"pdf"},
}


def _suffix_matches(suffix: str, media_type: str) -> bool:
    return suffix in _SUFFIXES.get(media_type, set())


_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def iter_image_frames(
    path: Path, media_type: str, settings: Settings
) -> Iterator[npt.NDArray[np.uint8]]:
    """Yield each frame (TIFF pages) as an upright BGR array, EXIF orientation applied.

    Image dimensions are checked from the header before any pixel is decoded: a
    decompression bomb is refused without allocating its pixels.
    """
    from PIL import Image, ImageOps

    if media_type == "image/heic":
        _register_heif()
    Image.MAX_IMAGE_PIXELS = None  # we enforce our own limit, per frame, below
    try:
        with Image.open(path) as img:
            frames = getattr(img, "n_frames", 1)
            if frames > settings.max_pages:
                raise FileTooLargeError(
                    f"{frames} pages, over the {settings.max_pages}-page limit (INTAKE_MAX_PAGES); "
                    "split the scan into smaller files",
                    path=str(path),
                )
            for index in range(frames):
                img.seek(index)
                _check_pixels(img.size, settings, path)
                frame = ImageOps.exif_transpose(img) if index == 0 else img.copy()
                yield _to_bgr(frame)
    except IntakeError:
        raise
    except Exception as exc:  # Pillow and its plugins raise many types on hostile bytes
        raise CorruptFileError(
            f"the image cannot be decoded ({type(exc).__name__}: {exc}); it is probably truncated "
            "or damaged — upload the original again",
            path=str(path),
        ) from exc


MAX_ASPECT_RATIO = 20  # a long till receipt is about 1:10; no document page is 1:20


def check_page_shape(
    width: float, height: float, path: Path, what: str = "the image", unit: str = "pixels"
) -> None:
    """Refuse a page whose long side is over MAX_ASPECT_RATIO times its short side (a
    1x60000 px strip): no document has that shape, and preparing the image for OCR would
    shrink its short side to nothing."""
    long_side, short_side = max(width, height), min(width, height)
    if short_side > 0 and long_side / short_side > MAX_ASPECT_RATIO:
        ratio = long_side / short_side
        raise UnsupportedFileError(
            f"{what} measures {width:.0f}x{height:.0f} {unit}: one side is "
            f"{ratio:.{0 if ratio >= 100 else 1}f} times the other, and no document page is more than "
            f"{MAX_ASPECT_RATIO} times longer than it is wide; photograph or scan the whole page "
            "and upload that file",
            path=str(path),
        )


def _check_pixels(size: tuple[int, int], settings: Settings, path: Path) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise CorruptFileError(f"the image declares an empty size {width}x{height}", path=str(path))
    check_page_shape(width, height, path)
    if width * height > settings.max_image_pixels:
        raise FileTooLargeError(
            f"the image declares {width}x{height} pixels ({width * height / 1e6:.0f} MP), over the "
            f"{settings.max_image_pixels / 1e6:.0f} MP limit (INTAKE_MAX_IMAGE_PIXELS); "
            "this may be a decompression bomb — rescan or resize the picture",
            path=str(path),
        )


def _to_bgr(img: object) -> npt.NDArray[np.uint8]:
    """Convert any PIL mode (1-bit, palette, 16-bit, CMYK, alpha) to a BGR uint8 array."""
    from PIL import Image

    assert isinstance(img, Image.Image)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = float(arr.max()) or 1.0
        img = Image.fromarray((arr * (255.0 / peak)).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])
