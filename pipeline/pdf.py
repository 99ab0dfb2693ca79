"""PDF pages: the text layer where there is one, a rendered image where there is not.

Order of preference per page: pdfplumber's characters (with boxes), then pypdfium2's text
(some CJK PDFs give pdfplumber 0 characters without error while PDFium reads them), then a
rendered image for OCR. Mixed PDFs are handled page by page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pipeline.errors import (
    CorruptFileError,
    EncryptedFileError,
    FileTooLargeError,
    UnsupportedFileError,
)
from pipeline.inputs import check_page_shape
from pipeline.models import BBox, OcrLine
from pipeline.seal import has_red_seal
from pipeline.settings import Settings

if TYPE_CHECKING:
    import pypdfium2

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 8  # fewer printable characters than this: treat the page as scanned
MAX_PAGE_POINTS = 14400  # the PDF limit for a page side (200 inches)


@dataclass(frozen=True, slots=True)
class Glyph:
    """One character with its box in page points, origin top-left."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True, slots=True)
class PdfPageContent:
    """Either text lines from the text layer, or an image that needs OCR."""

    index: int
    width: float
    height: float
    lines: list[OcrLine] | None
    image: npt.NDArray[np.uint8] | None
    red_seal: bool | None = None


def iter_pdf_pages(path: Path, settings: Settings) -> Iterator[PdfPageContent]:
    """Yield every page of a PDF as text lines or as a rendered image."""
    import pypdfium2 as pdfium

    document = _open_pdf(path, settings)
    try:
        plumber = _open_plumber(path)
        try:
            _refuse_active_content(document, plumber, path)
            for index in range(len(document)):
                page = document[index]
                try:
                    width, height = page.get_size()
                    if not (0 < width <= MAX_PAGE_POINTS and 0 < height <= MAX_PAGE_POINTS):
                        raise CorruptFileError(
                            f"page {index + 1} of the PDF measures {width:.0f}x{height:.0f} pt, "
                            "not a page size; export or scan the document again",
                            path=str(path),
                        )
                    glyphs = _plumber_glyphs(plumber, index) or _pdfium_glyphs(page, height)
                    if _enough_text(glyphs):
                        lines = glyphs_to_lines(glyphs, width, height)
                        seal = _shows_red_seal(page)
                        yield PdfPageContent(index, width, height, lines, None, seal)
                    else:  # to be rendered and prepared for OCR: it must be page-shaped
                        check_page_shape(width, height, path, f"page {index + 1} of the PDF", "pt")
                        image = _render(page, width, height, settings)
                        yield PdfPageContent(index, width, height, None, image)
                finally:
                    page.close()
        finally:
            if plumber is not None:
                plumber.close()
    except pdfium.PdfiumError as exc:
        raise CorruptFileError(
            f"a page of the PDF cannot be read ({exc}); the file is damaged — export or scan "
            "the document again",
            path=str(path),
        ) from exc
    finally:
        document.close()


def _open_pdf(path: Path, settings: Settings) -> pypdfium2.PdfDocument:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise EncryptedFileError(
                "the PDF is password-protected; ask the claimant or the hospital for an "
                "unprotected copy (or print it to a new PDF)",
                path=str(path),
            ) from exc
        raise CorruptFileError(
            f"the PDF cannot be opened ({exc}); it is probably truncated or damaged — "
            "upload the original again",
            path=str(path),
        ) from exc
    pages = len(document)
    if pages == 0:
        document.close()
        raise CorruptFileError("the PDF has no pages", path=str(path))
    if pages > settings.max_pages:
        document.close()
        raise FileTooLargeError(
            f"the PDF has {pages} pages, over the {settings.max_pages}-page limit "
            "(INTAKE_MAX_PAGES); split it into smaller files",
            path=str(path),
        )
    return document


def _refuse_active_content(document: pypdfium2.PdfDocument, plumber: Any, path: Path) -> None:
    """Refuse PDFs carrying JavaScript, launch actions or attached files.

    The intake never runs or opens them, but no claim document needs them and a reviewer's
    PDF viewer might: such a file is refused with the advice to print it to a new PDF."""
    import pypdfium2.raw as pdfium_c

    found: list[str] = []
    if pdfium_c.FPDFDoc_GetJavaScriptActionCount(document.raw) > 0:
        found.append("JavaScript")
    if document.count_attachments() > 0:
        found.append("attached files")
    found.extend(f for f in _catalog_actions(plumber) if f not in found)
    if found:
        raise UnsupportedFileError(
            f"the PDF carries {' and '.join(found)}, which claim documents never need; "
            "print it to a new PDF (or scan the paper) and upload that file",
            path=str(path),
        )


def _catalog_actions(plumber: Any) -> list[str]:
    """What the document catalog makes a viewer do on opening (pdfminer resolves objects
    inside compressed object streams, where a byte search would miss them)."""
    if plumber is None:
        return []
    from pdfminer.pdftypes import resolve1

    def kind(action: Any) -> str | None:
        action = resolve1(action)
        if not isinstance(action, dict):
            return None
        name = getattr(resolve1(action.get("S")), "name", None)
        return {"JavaScript": "JavaScript", "Launch": "launch actions"}.get(str(name))

    found: list[str] = []
    try:
        catalog = plumber.doc.catalog
        actions = [catalog.get("OpenAction")]
        additional = resolve1(catalog.get("AA"))
        if isinstance(additional, dict):
            actions.extend(additional.values())
        names = resolve1(catalog.get("Names"))
        if isinstance(names, dict) and "JavaScript" in names:
            found.append("JavaScript")
        if isinstance(names, dict) and "EmbeddedFiles" in names:
            found.append("attached files")
        found.extend(k for a in actions if (k := kind(a)) is not None)
    except Exception as exc:  # an unreadable catalog is PDFium's to judge, page by page
        log.info("cannot inspect the PDF catalog (%s)", exc)
    return found


def _open_plumber(path: Path) -> Any:
    """pdfplumber is optional per file: if it chokes where PDFium did not, use PDFium alone."""
    import pdfplumber

    try:
        return pdfplumber.open(str(path))
    except Exception as exc:  # pdfminer raises many unrelated types on odd files
        log.info("%s: pdfplumber cannot open (%s); using PDFium text only", path, exc)
        return None


def _plumber_glyphs(plumber: Any, index: int) -> list[Glyph]:
    if plumber is None:
        return []
    try:
        page = plumber.pages[index]
        chars = [c for c in page.chars if c.get("text", "").strip()]
        stamped = _stamped(chars)
        return [
            Glyph(c["text"], float(c["x0"]), float(c["top"]), float(c["x1"]), float(c["bottom"]))
            for i, c in enumerate(chars)
            if i not in stamped
        ]
    except Exception as exc:  # a damaged content stream must not stop the PDFium fallback
        log.info("pdfplumber failed on page %d (%s); falling back to PDFium", index, exc)
        return []


SEAL_MIN_CHARS = 3  # red characters set along an arc: a seal's text


def _stamped(chars: list[dict[str, Any]]) -> set[int]:
    """Red characters of a seal: inside the area of red text set along an arc, or printed
    over other text (nothing printed in red ink by the form itself overlaps its print)."""
    seal = _seal_area(chars)
    red = [i for i, c in enumerate(chars) if _red(c)]
    if not red:
        return set()
    dark = [c for c in chars if not _red(c)]
    return {
        i
        for i in red
        if (seal is not None and _inside(chars[i], seal))
        or any(_covers(chars[i], other) for other in dark)
    }


def _covers(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The two characters' boxes overlap by more than a third of the smaller one."""
    w = min(float(a["x1"]), float(b["x1"])) - max(float(a["x0"]), float(b["x0"]))
    h = min(float(a["bottom"]), float(b["bottom"])) - max(float(a["top"]), float(b["top"]))
    if w <= 0 or h <= 0:
        return False
    area = min(
        (float(a["x1"]) - float(a["x0"])) * (float(a["bottom"]) - float(a["top"])),
        (float(b["x1"]) - float(b["x0"])) * (float(b["bottom"]) - float(b["top"])),
    )
    return w * h > area / 3


def _seal_area(chars: list[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    """Where a seal's text lies: the box of the red characters printed at an angle.

    A seal in a text-layer receipt (财政部监制, the hospital's 收费专用章) is often text set along
    a circle; its characters would interleave with the lines they cover. Red text printed
    upright elsewhere (a red title) is kept."""
    arced = [c for c in chars if _red(c) and _turned(c)]
    if len(arced) < SEAL_MIN_CHARS:
        return None
    return (
        min(float(c["x0"]) for c in arced),
        min(float(c["top"]) for c in arced),
        max(float(c["x1"]) for c in arced),
        max(float(c["bottom"]) for c in arced),
    )


def _turned(char: dict[str, Any]) -> bool:
    """Set at an angle (more than about 3°), from the character's text matrix."""
    matrix = char.get("matrix")
    if not isinstance(matrix, (list, tuple)) or len(matrix) < 4:
        return not char.get("upright", True)
    a, b, c, d = (float(v) for v in matrix[:4])
    return abs(b) + abs(c) > 0.05 * (abs(a) + abs(d))


def _inside(char: dict[str, Any], area: tuple[float, float, float, float]) -> bool:
    x = (float(char["x0"]) + float(char["x1"])) / 2
    y = (float(char["top"]) + float(char["bottom"])) / 2
    return area[0] <= x <= area[2] and area[1] <= y <= area[3]


def _red(char: dict[str, Any]) -> bool:
    """Filled in red, whether the PDF gives the colour as RGB or CMYK."""
    colour = char.get("non_stroking_color")
    if not isinstance(colour, (list, tuple)) or not all(
        isinstance(v, (int, float)) for v in colour
    ):
        return False
    values = [float(v) for v in colour]
    if len(values) == 3:
        r, g, b = values
        return r > 0.5 and g < 0.4 and b < 0.4
    if len(values) == 4:
        c, m, y, k = values
        return c < 0.3 and m > 0.6 and y > 0.5 and k < 0.4
    return False


def _pdfium_glyphs(page: pypdfium2.PdfPage, height: float) -> list[Glyph]:
    textpage = page.get_textpage()
    try:
        glyphs = []
        for i in range(textpage.count_chars()):
            text = textpage.get_text_range(i, 1)
            if not text.strip():
                continue
            left, _, right, _ = textpage.get_charbox(i)  # tight: true gaps between columns
            _, bottom, _, top = textpage.get_charbox(i, loose=True)  # loose: whole line height
            glyphs.append(Glyph(text, left, height - top, right, height - bottom))
        return glyphs
    finally:
        textpage.close()


def _enough_text(glyphs: list[Glyph]) -> bool:
    return sum(1 for g in glyphs if g.text.isprintable()) >= MIN_TEXT_CHARS


def glyphs_to_lines(glyphs: list[Glyph], width: float, height: float) -> list[OcrLine]:
    """Group characters into lines the way OCR does: one row, split at wide gaps.

    Splitting at gaps wider than ~1.2 full-width characters keeps table cells and label/value
    columns apart, so text-layer pages and OCR'd pages look alike to the extractors.
    """
    rows: list[list[Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: ((g.top + g.bottom) / 2, g.x0)):
        if rows:
            last = rows[-1]
            ref_top = min(g.top for g in last)
            ref_bottom = max(g.bottom for g in last)
            centre = (glyph.top + glyph.bottom) / 2
            if ref_top <= centre <= ref_bottom:
                last.append(glyph)
                continue
        rows.append([glyph])
    lines: list[OcrLine] = []
    for row in rows:
        row.sort(key=lambda g: g.x0)
        for segment in _split_at_gaps(row):
            text = _join(segment)
            box = BBox.from_pixels(
                min(g.x0 for g in segment),
                min(g.top for g in segment),
                max(g.x1 for g in segment),
                max(g.bottom for g in segment),
                width,
                height,
            )
            lines.append(OcrLine(text=text, confidence=1.0, bbox=box))
    return lines


def _split_at_gaps(row: list[Glyph]) -> list[list[Glyph]]:
    segments: list[list[Glyph]] = [[row[0]]]
    for prev, glyph in pairwise(row):
        # a gap wider than a full-width character (or half the line height) is a new cell
        size = max(prev.x1 - prev.x0, glyph.x1 - glyph.x0, 0.5 * (prev.bottom - prev.top), 1.0)
        if glyph.x0 - prev.x1 > 1.2 * size:
            segments.append([glyph])
        else:
            segments[-1].append(glyph)
    return segments


def _join(segment: list[Glyph]) -> str:
    parts = [segment[0].text]
    for prev, glyph in pairwise(segment):
        size = max(prev.bottom - prev.top, 1.0)
        if glyph.x0 - prev.x1 > 0.35 * size and (prev.text.isascii() or glyph.text.isascii()):
            parts.append(" ")
        parts.append(glyph.text)
    return "".join(parts)


SEAL_LOOK_SCALE = 60 / 72.0  # a seal is a few centimetres wide: 60 dpi shows it


def _shows_red_seal(page: pypdfium2.PdfPage) -> bool:
    """Whether the page, as printed, bears a red stamp: a text layer rarely carries the seal
    (it is an image or a drawing), so a small rendering of the page is looked at."""
    bitmap = page.render(scale=SEAL_LOOK_SCALE)
    rgb = np.asarray(bitmap.to_numpy(), dtype=np.uint8)
    if rgb.ndim == 2:
        return False
    return has_red_seal(np.ascontiguousarray(rgb[:, :, :3]))


def _render(
    page: pypdfium2.PdfPage, width: float, height: float, settings: Settings
) -> npt.NDArray[np.uint8]:
    """Render at the configured DPI, lowered for oversized pages to respect the pixel limit."""
    scale = settings.pdf_render_dpi / 72.0
    pixels = width * height * scale * scale
    if pixels > settings.max_image_pixels:
        scale *= (settings.max_image_pixels / pixels) ** 0.5
    bitmap = page.render(scale=scale)
    rgb = np.asarray(bitmap.to_numpy(), dtype=np.uint8)
    if rgb.ndim == 2:
        rgb = np.stack([rgb] * 3, axis=-1)
    # PDFium renders BGR(A) by default; drop alpha if present.
    return np.ascontiguousarray(rgb[:, :, :3])
