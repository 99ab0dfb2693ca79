"""Every input kind decodes, and every kind of bad input is refused with an actionable error."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synth import WQY, render_page, text_pdf

from pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    FileTooLargeError,
    UnsupportedFileError,
)
from pipeline.inputs import iter_image_frames, sniff
from pipeline.pdf import iter_pdf_pages
from pipeline.settings import Settings


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _jpeg_bytes(image: Image.Image, **kwargs: object) -> bytes:
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=85, **kwargs)
    return buffer.getvalue()


def test_empty_file_is_refused_as_empty(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(EmptyFileError, match="empty"):
        sniff(_write(tmp_path / "a.jpg", b""), settings)


def test_office_document_is_refused_with_what_it_looks_like(
    tmp_path: Path, settings: Settings
) -> None:
    docx = _write(tmp_path / "invoice.jpg", b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(UnsupportedFileError, match=r"ZIP archive or Office document.*JPEG, PNG"):
        sniff(docx, settings)


def test_svg_is_refused(tmp_path: Path, settings: Settings) -> None:
    svg = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><svg>&e;</svg>'
    )
    with pytest.raises(UnsupportedFileError, match="SVG/XML"):
        sniff(_write(tmp_path / "scan.png", svg), settings)


def test_file_over_the_byte_limit_is_refused_before_reading(tmp_path: Path) -> None:
    small = Settings(max_file_bytes=1000)
    big = _write(tmp_path / "big.jpg", b"\xff\xd8\xff" + b"\x00" * 5000)
    with pytest.raises(FileTooLargeError, match="INTAKE_MAX_FILE_BYTES"):
        sniff(big, small)


def test_decompression_bomb_is_refused_from_its_header(tmp_path: Path, settings: Settings) -> None:
    bomb = _write(tmp_path / "bomb.png", _png_bomb(100_000, 100_000))
    with pytest.raises(FileTooLargeError, match="decompression bomb"):
        list(iter_image_frames(bomb, "image/png", settings))


def test_truncated_jpeg_is_reported_corrupt(tmp_path: Path, settings: Settings) -> None:
    data = _jpeg_bytes(render_page())
    truncated = _write(tmp_path / "cut.jpg", data[: len(data) // 3])
    with pytest.raises(CorruptFileError, match="truncated or damaged"):
        list(iter_image_frames(truncated, sniff(truncated, settings).media_type, settings))


def test_truncated_png_is_reported_corrupt(tmp_path: Path, settings: Settings) -> None:
    buffer = BytesIO()
    render_page().save(buffer, "PNG")
    truncated = _write(tmp_path / "cut.png", buffer.getvalue()[:3000])
    with pytest.raises(CorruptFileError):
        list(iter_image_frames(truncated, "image/png", settings))


def test_jpeg_with_wrong_extension_is_read_by_content(tmp_path: Path, settings: Settings) -> None:
    path = _write(tmp_path / "photo.pdf", _jpeg_bytes(render_page()))
    assert sniff(path, settings).media_type == "image/jpeg"
    assert len(list(iter_image_frames(path, "image/jpeg", settings))) == 1


def test_exif_orientation_is_applied(tmp_path: Path, settings: Settings) -> None:
    page = render_page(size=(600, 300))
    stored = page.rotate(90, expand=True)  # pixels stored turned; the tag says turn them back
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = _write(tmp_path / "phone.jpg", _jpeg_bytes(stored, exif=exif.tobytes()))
    (frame,) = iter_image_frames(path, "image/jpeg", settings)
    assert frame.shape[:2] == (300, 600)


def test_multipage_tiff_yields_every_page(tmp_path: Path, settings: Settings) -> None:
    pages = [render_page([f"第{i}页"], size=(400, 300)) for i in range(3)]
    path = tmp_path / "scan.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_deflate")
    frames = list(iter_image_frames(path, sniff(path, settings).media_type, settings))
    assert [f.shape[:2] for f in frames] == [(300, 400)] * 3


def test_tiff_with_more_pages_than_the_limit_is_refused(tmp_path: Path) -> None:
    pages = [Image.new("L", (20, 20), 255) for _ in range(6)]
    path = tmp_path / "many.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    with pytest.raises(FileTooLargeError, match="INTAKE_MAX_PAGES"):
        list(iter_image_frames(path, "image/tiff", Settings(max_pages=5)))


def test_heic_photo_is_decoded(tmp_path: Path, settings: Settings) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / "IMG_0001.HEIC"
    render_page(size=(320, 240)).save(path)
    assert sniff(path, settings).media_type == "image/heic"
    (frame,) = iter_image_frames(path, "image/heic", settings)
    assert frame.shape == (240, 320, 3)
    assert frame.dtype == np.uint8


def test_grayscale_and_alpha_images_become_bgr(tmp_path: Path, settings: Settings) -> None:
    for mode in ("L", "RGBA", "1", "P"):
        path = tmp_path / f"m_{mode}.png"
        render_page(size=(200, 100)).convert(mode).save(path)
        (frame,) = iter_image_frames(path, "image/png", settings)
        assert frame.shape == (100, 200, 3), mode


def test_text_pdf_gives_lines_from_the_text_layer(tmp_path: Path, settings: Settings) -> None:
    lines = ["医疗住院收费票据", "票据号码：0012345678", "合计（小写）¥123.45"]
    (page,) = iter_pdf_pages(text_pdf(tmp_path / "e.pdf", lines), settings)
    assert page.image is None and page.lines is not None
    assert [ln.text for ln in page.lines] == lines
    assert all(ln.confidence == 1.0 for ln in page.lines)
    boxes = [ln.bbox for ln in page.lines]
    assert all(0 <= b.x0 < b.x1 <= 1 and 0 <= b.y0 < b.y1 <= 1 for b in boxes)
    assert [b.y0 for b in boxes] == sorted(b.y0 for b in boxes)


def test_a_seals_red_arced_text_does_not_interleave_with_the_lines_it_covers(
    tmp_path: Path, settings: Settings
) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("cjk", fname=WQY)
    pdf.set_font("cjk", size=14)
    pdf.add_page()
    pdf.set_text_color(220, 30, 30)
    pdf.set_xy(20, 40)
    pdf.cell(text="红色标题")  # red, upright: a printed title, kept
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(20, 60)
    pdf.cell(text="个人现金支付：184024.21")
    pdf.set_text_color(220, 30, 30)
    for i, char in enumerate("上海市第六人民医院收费专用章"):  # set along an arc over the line
        angle = 60 - i * 9
        with pdf.rotation(angle, x=40 + i * 4, y=62):
            pdf.text(x=40 + i * 4, y=62 - abs(6 - i) * 0.8, text=char)
    pdf.set_text_color(220, 30, 30)
    pdf.set_xy(20, 80)
    pdf.cell(text="医疗收费票据")
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(20, 100)
    pdf.cell(text="收款单位：济南市中心医院")
    pdf.set_text_color(220, 30, 30)
    pdf.set_xy(45, 101)
    pdf.cell(text="现金收讫")  # an upright stamp printed over the payee's name
    pdf.output(str(tmp_path / "sealed.pdf"))
    (page,) = iter_pdf_pages(tmp_path / "sealed.pdf", settings)
    assert page.lines is not None
    assert [ln.text for ln in page.lines] == [
        "红色标题", "个人现金支付：184024.21", "医疗收费票据", "收款单位：济南市中心医院",
    ]  # fmt: skip


def test_cjk_pdf_unreadable_by_pdfplumber_falls_back_to_pdfium_text(
    tmp_path: Path, settings: Settings
) -> None:
    import pdfplumber
    from synth import NOTO

    lines = ["出院小结", "入院日期：2026-03-01"]
    path = text_pdf(tmp_path / "noto.pdf", lines, font=NOTO)
    with pdfplumber.open(path) as doc:
        plumber_chars = len(doc.pages[0].chars)
    (page,) = iter_pdf_pages(path, settings)
    assert page.lines is not None, "PDFium's text layer should have been used"
    assert [ln.text for ln in page.lines] == lines
    assert plumber_chars == 0  # the case this fallback exists for


def test_scanned_pdf_page_is_rendered_for_ocr(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "scan.pdf"
    render_page().save(path, "PDF", resolution=150.0)
    (page,) = iter_pdf_pages(path, settings)
    assert page.lines is None and page.image is not None
    assert page.image.ndim == 3 and page.image.shape[2] == 3
    assert min(page.image.shape[:2]) > 1000  # rendered at the configured DPI


def test_password_protected_pdf_is_refused_with_advice(tmp_path: Path, settings: Settings) -> None:
    from fpdf import FPDF
    from synth import WQY

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("cjk", fname=WQY)
    pdf.set_font("cjk", size=14)
    pdf.cell(text="医疗收费票据")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    path = tmp_path / "locked.pdf"
    pdf.output(str(path))
    with pytest.raises(EncryptedFileError, match="password-protected"):
        list(iter_pdf_pages(path, settings))


def test_truncated_pdf_is_reported_corrupt(tmp_path: Path, settings: Settings) -> None:
    data = text_pdf(tmp_path / "ok.pdf", ["医疗收费票据"] * 5).read_bytes()
    broken = _write(tmp_path / "broken.pdf", data[:400])
    with pytest.raises(CorruptFileError):
        list(iter_pdf_pages(broken, settings))


def test_pdf_with_more_pages_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "long.pdf", ["第一页"], pages=12)
    with pytest.raises(FileTooLargeError, match="12 pages"):
        list(iter_pdf_pages(path, Settings(max_pages=10)))
