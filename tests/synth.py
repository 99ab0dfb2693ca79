"""Test inputs synthesised on the fly: rendered Chinese text pages and small PDFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

NOTO = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
WQY = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

SAMPLE_LINES = [
    "医疗住院收费票据",
    "票据号码：0012345678",
    "交款人：张三",
    "合计（大写）壹佰贰拾叁元肆角伍分",
]


def render_page(
    lines: list[str] = SAMPLE_LINES, size: tuple[int, int] = (1240, 1754), font_size: int = 40
) -> Image.Image:
    """A white A4-ish page (150 dpi) with one text line per entry, top to bottom."""
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(NOTO, font_size)
    for i, text in enumerate(lines):
        draw.text((100, 120 + i * int(font_size * 2.2)), text, font=font, fill=(20, 20, 20))
    return page


def to_bgr(image: Image.Image) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def text_pdf(path: Path, lines: list[str], font: str = WQY, pages: int = 1) -> Path:
    """A text-layer PDF written with fpdf2 (wqy-zenhei reads back exactly in pdfplumber)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("cjk", fname=font)
    pdf.set_font("cjk", size=14)
    for _ in range(pages):
        pdf.add_page()
        for text in lines:
            pdf.cell(text=text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def image_pdf(path: Path, images: list[Image.Image]) -> Path:
    """An image-only (scanned) PDF, one image per page."""
    first, *rest = [im.convert("RGB") for im in images]
    first.save(path, "PDF", resolution=150.0, save_all=True, append_images=rest)
    return path
