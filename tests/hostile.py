"""A corpus of hostile uploads, generated on the fly (nothing here is downloaded or committed).

`generate(directory)` writes every case's files under `directory` and returns the cases. A case
is one claim: the uploads to make (the last one is the subject whose outcome is judged), the
manifest to upload (a valid one unless the case is about the manifest) and the outcome the
intake must reach:

- `refused_upload`: `ObjectStore.upload` refuses the name (or the bytes) before storing anything;
- `unsupported_file`: the file is read as far as needed to know it is bad, and the claim carries
  a file problem with one of the listed reasons (and the `unsupported_file` issue); an object
  stored under an unsafe name by another S3 client (`raw`) is reported so, with `unsafe_key`;
- `unreadable_page`: the file is a well-formed image, but no document can be read from it;
- `manifest_invalid`: claim.json is refused with a message saying what to fix;
- `processed`: the content is a valid document image or PDF, so it is read (the type comes
  from the content, not the name: a PDF called .jpg is a PDF).

Everything is built with the standard library, Pillow, pillow-heif and fpdf2; PDFs whose
structure is the point (50,000 pages, JavaScript, attachments, a 0x0 page) are written by hand.
The 100 MB file is sparse: it costs no disk until it is read.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image
from synth import render_page, text_pdf

HUGE_FILE_BYTES = 100 * 1024 * 1024
PAGE_LINES = ["医疗门诊收费票据", "票据号码：0012345678", "交款人：张三", "合计 ¥123.45"]
PDF_TEXT = b"Medical invoice No. 0012345678 total 123.45"


class Outcome(StrEnum):
    REFUSED_UPLOAD = "refused_upload"
    UNSUPPORTED_FILE = "unsupported_file"
    UNREADABLE_PAGE = "unreadable_page"
    MANIFEST_INVALID = "manifest_invalid"
    PROCESSED = "processed"


@dataclass(frozen=True, slots=True)
class Upload:
    """Bytes from `path`, uploaded under `name` (which may itself be the hostile part)."""

    name: str
    path: Path


@dataclass(frozen=True, slots=True)
class HostileCase:
    id: str
    description: str
    expected: Outcome
    reasons: frozenset[str] = frozenset()
    uploads: tuple[Upload, ...] = ()
    manifest: Path | None = None  # None: a valid manifest for the claim
    has_manifest: bool = True
    ocr: bool = False  # reaches the OCR engine (slower)
    raw: bool = False  # the subject is stored by another S3 client, past ObjectStore's checks

    @property
    def claim_id(self) -> str:
        return f"H-{self.id}"

    @property
    def subject(self) -> Upload | None:
        return self.uploads[-1] if self.uploads else None


def valid_manifest(claim_id: str) -> dict[str, object]:
    return {
        "claim_id": claim_id,
        "claim_type": "referral",
        "care_type": "inpatient",
        "insured_region": "烟台市",
        "treatment_region": "上海市",
        "submitted_on": "2026-03-10",
        "by_agent": False,
        "paid_this_year": "0.00",
    }


# -- building blocks ----------------------------------------------------------------------------


def _page(size: tuple[int, int] = (900, 640)) -> Image.Image:
    return render_page(PAGE_LINES, size=size, font_size=36)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _jpeg() -> bytes:
    return _encode(_page(), "JPEG", quality=85)


def _png() -> bytes:
    return _encode(_page(), "PNG")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png_bomb(width: int, height: int) -> bytes:
    """A few hundred bytes whose header declares width x height pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 65536, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is patched to declare width x height."""
    data = bytearray(_encode(Image.new("RGB", (16, 16), "white"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _docx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/content-types"/>',
            "word/document.xml": "<w:document><w:body>医疗收费票据</w:body></w:document>".encode(),
        }
    )


def pdf_bytes(objects: list[bytes], trailer: bytes = b"/Root 1 0 R") -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _text_page_objects(
    catalog_extra: bytes = b"", media_box: bytes = b"0 0 612 792", text: bool = True
) -> list[bytes]:
    """Catalog (1), page tree (2), one page with a Helvetica text line (3-5); more may follow."""
    content = b"BT /F1 18 Tf 72 700 Td (" + PDF_TEXT + b") Tj ET" if text else b""
    return [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox ["
        + media_box
        + b"] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(content),
    ]


def _pdf_many_pages(count: int) -> bytes:
    """`count` pages that are one tiny page object referenced `count` times: ~6 bytes a page."""
    kids = b"3 0 R " * count
    return pdf_bytes(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Count %d /Kids [%s] >>" % (count, kids),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
        ]
    )


def _pdf_javascript() -> bytes:
    objects = _text_page_objects(b"/OpenAction 6 0 R ")
    objects.append(b"<< /Type /Action /S /JavaScript /JS (app.alert\\('pwned'\\);) >>")
    return pdf_bytes(objects)


def _pdf_embedded_file() -> bytes:
    payload = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00"
    objects = _text_page_objects(b"/Names << /EmbeddedFiles << /Names [(setup.exe) 6 0 R] >> >> ")
    objects.append(b"<< /Type /Filespec /F (setup.exe) /UF (setup.exe) /EF << /F 7 0 R >> >>")
    objects.append(_stream(payload, b"/Type /EmbeddedFile "))
    return pdf_bytes(objects)


def _pdf_cyclic_page_tree() -> bytes:
    return pdf_bytes(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Count 2 /Kids [2 0 R 3 0 R] >>",
            b"<< /Type /Pages /Parent 2 0 R /Count 1 /Kids [2 0 R] >>",
        ]
    )


def _encrypted_pdf(path: Path) -> None:
    from fpdf import FPDF
    from synth import WQY

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("cjk", fname=WQY)
    pdf.set_font("cjk", size=14)
    pdf.cell(text="医疗收费票据 票据号码 0012345678")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.output(str(path))


def _tiff(width: int, height: int, strip: bytes, declared_strip_bytes: int) -> bytes:
    """A one-page 8-bit greyscale TIFF written by hand (little-endian)."""
    entries = [
        (256, 4, 1, width),  # ImageWidth, LONG
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 0),  # StripOffsets, patched below
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, max(height, 1)),  # RowsPerStrip
        (279, 4, 1, declared_strip_bytes),  # StripByteCounts
    ]
    ifd_offset = 8
    ifd_size = 2 + 12 * len(entries) + 4
    strip_offset = ifd_offset + ifd_size
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_offset) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        value = strip_offset if tag == 273 else value
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0) + strip
    return bytes(out)


def _heic_broken_metadata() -> bytes:
    """A real HEIC whose EXIF block is garbage and whose image-size property says 0x0."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = bytearray(_encode(_page((320, 240)), "HEIF", exif=b"Exif\x00\x00" + b"\xff" * 64))
    ispe = data.index(b"ispe")
    data[ispe + 8 : ispe + 16] = b"\x00" * 8  # version/flags kept; width and height zeroed
    return bytes(data)


def _png_16bit() -> bytes:
    grey = np.asarray(_page().convert("L"), dtype=np.uint16) * 257
    return _encode(Image.fromarray(grey), "PNG")


def _animated_gif() -> bytes:
    frames = [_page((300, 200)).convert("P"), Image.new("P", (300, 200), 0)]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _noise() -> bytes:
    pixels = np.random.default_rng(7).integers(0, 256, (640, 900, 3), dtype=np.uint8)
    return _encode(Image.fromarray(pixels), "PNG")


def _sparse_file(path: Path, head: bytes, size: int) -> None:
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)


# -- the corpus ---------------------------------------------------------------------------------

Maker = Callable[[Path], None]


def _bytes(data: bytes | Callable[[], bytes]) -> Maker:
    def make(path: Path) -> None:
        path.write_bytes(data() if callable(data) else data)

    return make


def _text_pdf(path: Path) -> None:
    text_pdf(path, PAGE_LINES)


def _manifest_json(claim_id: str, /, **changes: object) -> bytes:
    data = valid_manifest(claim_id)
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


_DROP = object()


@dataclass(frozen=True, slots=True)
class _Spec:
    id: str
    description: str
    expected: Outcome
    reasons: frozenset[str]
    name: str | None = None  # the subject's upload name; None: no subject file
    make: Maker | None = None
    manifest: Callable[[str], bytes] | None = None
    setup: tuple[tuple[str, Maker], ...] = ()
    has_manifest: bool = True
    ocr: bool = False
    raw: bool = False


def _file(
    id_: str,
    description: str,
    name: str,
    make: Maker,
    expected: Outcome = Outcome.UNSUPPORTED_FILE,
    reasons: frozenset[str] | set[str] = frozenset({"unsupported_file"}),
    ocr: bool = False,
) -> _Spec:
    return _Spec(id_, description, expected, frozenset(reasons), name, make, ocr=ocr)


def _manifest(id_: str, description: str, body: Callable[[str], bytes]) -> _Spec:
    return _Spec(
        id_, description, Outcome.MANIFEST_INVALID, frozenset({"manifest_invalid"}), manifest=body
    )


def _name(id_: str, description: str, name: str) -> _Spec:
    return _Spec(
        id_,
        description,
        Outcome.REFUSED_UPLOAD,
        frozenset({"unsafe_key"}),
        name,
        _bytes(_jpeg),
    )


def _raw_name(id_: str, description: str, name: str) -> _Spec:
    return _Spec(
        id_,
        description,
        Outcome.UNSUPPORTED_FILE,
        frozenset({"unsafe_key"}),
        name,
        _bytes(_jpeg),
        raw=True,
    )


def _polyglot(base: Callable[[], bytes]) -> Callable[[], bytes]:
    return lambda: base() + _zip({"payload.exe": b"MZ" + b"\x00" * 100})


def _pdf_of_text_page() -> bytes:
    return pdf_bytes(_text_page_objects())


CORRUPT = {"corrupt_file"}
TOO_LARGE = {"file_too_large"}

SPECS: list[_Spec] = [
    # -- broken or lying content ---------------------------------------------------------------
    _file("empty", "0-byte file", "scan.jpg", _bytes(b""), reasons={"empty_file"}),
    _file(
        "truncated-jpeg",
        "JPEG cut after a third",
        "photo.jpg",
        _bytes(lambda: _jpeg()[: len(_jpeg()) // 3]),
        reasons=CORRUPT,
    ),
    _file(
        "truncated-png",
        "PNG cut after 3 kB",
        "scan.png",
        _bytes(lambda: _png()[:3000]),
        reasons=CORRUPT,
    ),
    _file(
        "truncated-pdf",
        "PDF cut after 400 bytes",
        "invoice.pdf",
        _bytes(lambda: _pdf_of_text_page()[:400]),
        reasons=CORRUPT,
    ),
    _file(
        "png-bomb",
        "PNG declaring 60000x60000 pixels",
        "bomb.png",
        _bytes(lambda: _png_bomb(60000, 60000)),
        reasons=TOO_LARGE,
    ),
    _file(
        "jpeg-bomb",
        "JPEG declaring 65000x65000 pixels",
        "bomb.jpg",
        _bytes(lambda: _jpeg_declaring(65000, 65000)),
        reasons=TOO_LARGE,
    ),
    _file(
        "pdf-50000-pages",
        "PDF of 50,000 pages (one page object referenced 50,000 times)",
        "bulk.pdf",
        _bytes(lambda: _pdf_many_pages(50_000)),
        reasons=TOO_LARGE,
    ),
    _file(
        "pdf-cyclic-page-tree",
        "PDF whose page tree contains itself",
        "loop.pdf",
        _bytes(_pdf_cyclic_page_tree),
        reasons=CORRUPT,
    ),
    _file(
        "pdf-encrypted",
        "password-protected PDF",
        "locked.pdf",
        _encrypted_pdf,
        reasons={"encrypted_file"},
    ),
    _file(
        "pdf-javascript",
        "PDF running JavaScript on open (OpenAction)",
        "einvoice.pdf",
        _bytes(_pdf_javascript),
    ),
    _file(
        "pdf-embedded-file",
        "PDF carrying an embedded .exe attachment",
        "einvoice2.pdf",
        _bytes(_pdf_embedded_file),
    ),
    _file(
        "pdf-zero-page",
        "PDF whose only page is 0x0 pt (PDFium reads it as a blank Letter page)",
        "blank.pdf",
        _bytes(lambda: pdf_bytes(_text_page_objects(media_box=b"0 0 0 0", text=False))),
        expected=Outcome.UNREADABLE_PAGE,
        reasons={"unreadable_page"},
        ocr=True,
    ),
    _file(
        "pdf-tiny-page",
        "PDF whose only page is 0.01x0.01 pt (renders to one pixel)",
        "tiny.pdf",
        _bytes(lambda: pdf_bytes(_text_page_objects(media_box=b"0 0 0.01 0.01", text=False))),
        expected=Outcome.UNREADABLE_PAGE,
        reasons={"unreadable_page"},
        ocr=True,
    ),
    _file(
        "pdf-huge-page",
        "PDF whose page is 100,000 pt square (past the 14,400 pt PDF limit)",
        "poster.pdf",
        _bytes(lambda: pdf_bytes(_text_page_objects(media_box=b"0 0 100000 100000"))),
        reasons=CORRUPT,
    ),
    _file(
        "polyglot-pdf-zip",
        "a valid PDF that is also a ZIP archive",
        "invoice3.pdf",
        _bytes(_polyglot(_pdf_of_text_page)),
    ),
    _file(
        "polyglot-jpeg-zip",
        "a valid JPEG that is also a ZIP archive",
        "photo2.jpg",
        _bytes(_polyglot(_jpeg)),
    ),
    _file(
        "pdf-named-jpg",
        "a text PDF named .jpg: read as the PDF it is",
        "scan2.jpg",
        _text_pdf,
        expected=Outcome.PROCESSED,
        reasons=set(),
    ),
    _file(
        "jpeg-named-pdf",
        "a JPEG named .pdf: read as the JPEG it is",
        "invoice4.pdf",
        _bytes(_jpeg),
        expected=Outcome.PROCESSED,
        reasons=set(),
        ocr=True,
    ),
    _file("zip-docx", "a Word document (.docx, a ZIP)", "invoice.docx", _bytes(_docx)),
    _file(
        "svg-xxe",
        "SVG with an external entity (file:///etc/passwd)",
        "scan.svg",
        _bytes(
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
        ),
    ),
    _file(
        "html",
        "an HTML page with a script, named .jpg",
        "page.jpg",
        _bytes(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ),
    _file(
        "exe",
        "a Windows executable (MZ/PE header) named .pdf",
        "invoice.exe.pdf",
        _bytes(b"MZ\x90\x00\x03" + b"\x00" * 55 + b"\x40\x00\x00\x00PE\x00\x00" + b"\x00" * 200),
    ),
    _file(
        "text-starting-bm",
        "a text file starting with 'BM' (the BMP magic)",
        "notes.bmp",
        _bytes(b"BMW service invoice, not an image\n" * 20),
        reasons=CORRUPT,
    ),
    _file(
        "heic-broken-metadata",
        "HEIC with garbage EXIF and a 0x0 image-size property",
        "IMG_0001.HEIC",
        _bytes(_heic_broken_metadata),
        reasons=CORRUPT,
    ),
    _file(
        "tiff-zero-size",
        "TIFF whose page is 0x0 pixels",
        "scan.tif",
        _bytes(lambda: _tiff(0, 0, b"", 0)),
        reasons=CORRUPT,
    ),
    _file(
        "tiff-zero-byte-page",
        "TIFF whose 200x100 page has a 0-byte strip",
        "scan2.tif",
        _bytes(lambda: _tiff(200, 100, b"", 0)),
        reasons=CORRUPT,
    ),
    _file(
        "huge-100mb",
        "a 100 MB file (JPEG header, then zeros; sparse)",
        "huge.jpg",
        lambda path: _sparse_file(path, _jpeg()[:2048], HUGE_FILE_BYTES),
        reasons=TOO_LARGE,
    ),
    _file(
        "animated-gif",
        "an animated GIF",
        "anim.gif",
        _bytes(_animated_gif),
    ),
    _file(
        "noise",
        "an image of pure noise",
        "noise.png",
        _bytes(_noise),
        expected=Outcome.UNREADABLE_PAGE,
        reasons={"unreadable_page"},
        ocr=True,
    ),
    _file(
        "one-pixel",
        "a 1x1 pixel image",
        "dot.png",
        _bytes(lambda: _encode(Image.new("RGB", (1, 1), "white"), "PNG")),
        expected=Outcome.UNREADABLE_PAGE,
        reasons={"unreadable_page"},
    ),
    _file(
        "cmyk-jpeg",
        "a CMYK JPEG (print workflow): valid, read",
        "cmyk.jpg",
        _bytes(lambda: _encode(_page().convert("CMYK"), "JPEG", quality=90)),
        expected=Outcome.PROCESSED,
        reasons=set(),
        ocr=True,
    ),
    _file(
        "png-16bit",
        "a 16-bit greyscale PNG: valid, read",
        "deep.png",
        _bytes(_png_16bit),
        expected=Outcome.PROCESSED,
        reasons=set(),
        ocr=True,
    ),
    _file(
        "unicode-name",
        "a valid JPEG under a Chinese name with spaces: accepted",
        "发票 2026年3月（第1张）.jpg",
        _bytes(_jpeg),
        expected=Outcome.PROCESSED,
        reasons=set(),
        ocr=True,
    ),
    # -- hostile names: refused before anything is stored --------------------------------------
    _name("name-control-chars", "name with BEL and newline", "发票\x07\n.jpg"),
    _name("name-rtl-override", "name with a right-to-left override", "invoice\u202egpj.exe"),
    _name("name-dot-dot", "name climbing out with ../", "../../quarantine/x/invoice.jpg"),
    _name("name-absolute", "absolute path as a name", "/etc/passwd"),
    _name("name-backslash", "Windows path as a name", "..\\..\\windows\\win.ini"),
    _name("name-reserved", "name of the intake's own results folder", "_results"),
    _name("name-too-long", "a 300-byte name", "发" * 100 + ".jpg"),
    _name("name-zero-width", "name with a zero-width space", "invoice\u200b.jpg"),
    # -- hostile names stored by another S3 client (mc, a console): reported, never read ---------
    _raw_name("raw-name-control-char", "stored past the intake as '发票\\x07.jpg'", "发票\x07.jpg"),
    _raw_name(
        "raw-name-rtl-override", "stored past the intake with an RTL override", "a\u202egpj.jpg"
    ),
    _raw_name("raw-name-hidden", "stored past the intake as '.hidden.jpg'", ".hidden.jpg"),
    # -- the same name twice --------------------------------------------------------------------
    _Spec(
        "duplicate-same-bytes",
        "the same file uploaded twice: the second is a no-op",
        Outcome.PROCESSED,
        frozenset(),
        "invoice.jpg",
        _bytes(_jpeg),
        setup=(("invoice.jpg", _bytes(_jpeg)),),
        ocr=True,
    ),
    _Spec(
        "duplicate-other-bytes",
        "other bytes under an existing name: refused, the first kept",
        Outcome.REFUSED_UPLOAD,
        frozenset({"upload_exists"}),
        "invoice.jpg",
        _bytes(_png),
        setup=(("invoice.jpg", _text_pdf),),
    ),
    # -- hostile manifests ----------------------------------------------------------------------
    _manifest(
        "manifest-unknown-claim-type",
        "claim_type not a category",
        lambda c: _manifest_json(c, claim_type="vip"),
    ),
    _manifest(
        "manifest-bad-date",
        "submitted_on 2026-02-30",
        lambda c: _manifest_json(c, submitted_on="2026-02-30"),
    ),
    _manifest(
        "manifest-future-date",
        "submitted_on in 2999",
        lambda c: _manifest_json(c, submitted_on="2999-01-01"),
    ),
    _manifest(
        "manifest-huge-number",
        "paid_this_year 1e400",
        lambda c: _manifest_json(c).replace(b'"0.00"', b"1e400"),
    ),
    _manifest(
        "manifest-huge-integer",
        "paid_this_year a 5,000-digit integer",
        lambda c: _manifest_json(c).replace(b'"0.00"', b"9" * 5000),
    ),
    _manifest(
        "manifest-nan", "paid_this_year NaN", lambda c: _manifest_json(c).replace(b'"0.00"', b"NaN")
    ),
    _manifest("manifest-not-json", "claim.json is a JPEG", lambda c: _jpeg()),
    _manifest("manifest-empty", "claim.json is empty", lambda c: b""),
    _manifest(
        "manifest-json-array",
        "claim.json is a JSON array",
        lambda c: b'[{"claim_id": "%s"}]' % c.encode(),
    ),
    _manifest(
        "manifest-missing-fields",
        "claim.json without claim_type and care_type",
        lambda c: _manifest_json(c, claim_type=_DROP, care_type=_DROP),
    ),
    _manifest(
        "manifest-unknown-key",
        "claim.json with an unknown key",
        lambda c: _manifest_json(c, fund_pays_everything=True),
    ),
    _manifest("manifest-deep-nesting", "claim.json nested 30,000 levels", lambda c: b"[" * 30_000),
    _manifest(
        "manifest-other-claim-id",
        "claim.json naming another claim (would overwrite its result)",
        lambda c: _manifest_json(c, claim_id="C-2026-0001"),
    ),
    _manifest(
        "manifest-huge",
        "a 2 MB claim.json",
        lambda c: _manifest_json(c, insured_region="烟台市" + " " * 2_000_000),
    ),
    _Spec(
        "manifest-missing",
        "a claim folder with a valid PDF but no claim.json",
        Outcome.MANIFEST_INVALID,
        frozenset({"manifest_invalid"}),
        "invoice.pdf",
        _text_pdf,
        has_manifest=False,
    ),
]


def generate(directory: Path) -> list[HostileCase]:
    """Write every case's files under `directory` and return the cases, in a stable order."""
    directory.mkdir(parents=True, exist_ok=True)
    cases = []
    for spec in SPECS:
        folder = directory / spec.id
        folder.mkdir(exist_ok=True)
        claim_id = f"H-{spec.id}"
        uploads: list[Upload] = []
        for number, (name, make) in enumerate(spec.setup):
            path = folder / f"setup-{number}"
            make(path)
            uploads.append(Upload(name, path))
        if spec.name is not None and spec.make is not None:
            path = folder / "subject"
            spec.make(path)
            uploads.append(Upload(spec.name, path))
        manifest = None
        if spec.manifest is not None:
            manifest = folder / "claim.json"
            manifest.write_bytes(spec.manifest(claim_id))
        cases.append(
            HostileCase(
                id=spec.id,
                description=spec.description,
                expected=spec.expected,
                reasons=spec.reasons,
                uploads=tuple(uploads),
                manifest=manifest,
                has_manifest=spec.has_manifest,
                ocr=spec.ocr,
                raw=spec.raw,
            )
        )
    return cases
