"""Whole files to pages of lines: photos, multi-page TIFFs, text, scanned and mixed PDFs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from synth import image_pdf, render_page, text_pdf

from pipeline.models import BBox, OcrLine, PageSource
from pipeline.ocr import OcrEngine
from pipeline.reader import _doubtful_under, read_file
from pipeline.textmatch import squash

pytestmark = pytest.mark.ocr


def _texts(result_page_lines: list[str]) -> str:
    return squash("".join(result_page_lines))


def test_a_rotated_photo_is_read_upright(tmp_path: Path, rapid_engine: OcrEngine) -> None:
    path = tmp_path / "photo.jpg"
    render_page().rotate(180).save(path, quality=85)
    (page,) = read_file(path, engine=rapid_engine).pages
    assert page.source is PageSource.OCR
    assert page.quality.rotated_degrees == 180
    assert "0012345678" in _texts([ln.text for ln in page.lines])


def test_every_page_of_a_tiff_is_read(tmp_path: Path, rapid_engine: OcrEngine) -> None:
    path = tmp_path / "scan.tif"
    pages = [render_page([f"费用清单第{i}页", "本页小计：100.00"]) for i in (1, 2)]
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_deflate")
    result = read_file(path, engine=rapid_engine)
    assert [p.index for p in result.pages] == [0, 1]
    assert "第2页" in _texts([ln.text for ln in result.pages[1].lines])


def test_a_mixed_pdf_uses_text_where_it_has_it_and_ocr_elsewhere(
    tmp_path: Path, rapid_engine: OcrEngine
) -> None:
    import pypdfium2 as pdfium

    text = text_pdf(tmp_path / "text.pdf", ["出院小结", "入院日期：2026-03-01"])
    scanned = image_pdf(tmp_path / "scan.pdf", [render_page()])
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(str(text)))
    mixed.import_pages(pdfium.PdfDocument(str(scanned)))
    path = tmp_path / "mixed.pdf"
    mixed.save(str(path))
    first, second = read_file(path, engine=rapid_engine).pages
    assert first.source is PageSource.PDF_TEXT and first.lines[0].text == "出院小结"
    assert second.source is PageSource.OCR
    assert "0012345678" in _texts([ln.text for ln in second.lines])


def test_a_seal_is_noticed_in_red_or_by_its_rim_and_an_unsealed_grey_copy_leaves_it_open(
    tmp_path: Path, rapid_engine: OcrEngine
) -> None:
    page = render_page()
    path = tmp_path / "sealed.png"
    array = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)
    cv2.circle(array, (900, 1300), 150, (30, 30, 220), 8)
    cv2.putText(array, "SEAL", (800, 1320), cv2.FONT_HERSHEY_SIMPLEX, 2, (30, 30, 220), 6)
    Image.fromarray(cv2.cvtColor(array, cv2.COLOR_BGR2RGB)).save(path)
    assert read_file(path, engine=rapid_engine).pages[0].red_seal is True
    coloured = tmp_path / "blue_form.png"
    array = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)
    cv2.rectangle(array, (0, 0), (array.shape[1], 260), (200, 120, 40), -1)  # a blue form head
    Image.fromarray(cv2.cvtColor(array, cv2.COLOR_BGR2RGB)).save(coloured)
    assert read_file(coloured, engine=rapid_engine).pages[0].red_seal is False
    grey = tmp_path / "grey_copy.png"
    page.save(grey)  # a grey copy shows no red: whether it bears a seal was not seen
    assert read_file(grey, engine=rapid_engine).pages[0].red_seal is None
    stamped_copy = tmp_path / "stamped_grey_copy.png"
    array = cv2.cvtColor(np.asarray(page.convert("RGB")), cv2.COLOR_RGB2GRAY)
    cv2.circle(array, (900, 1300), 150, 110, 8)  # the seal's rim, grey on a copy
    cv2.putText(array, "SEAL", (800, 1320), cv2.FONT_HERSHEY_SIMPLEX, 2, 110, 6)
    Image.fromarray(array).save(stamped_copy)
    assert read_file(stamped_copy, engine=rapid_engine).pages[0].red_seal is True


class _CountingEngine:
    """The real engine, counting its reads (to see which regions are read twice)."""

    def __init__(self, engine: OcrEngine) -> None:
        self.engine, self.reads = engine, 0
        self.name = engine.name

    def read(self, image: np.ndarray) -> list[OcrLine]:  # type: ignore[type-arg]
        self.reads += 1
        return self.engine.read(image)


def test_a_seal_is_read_through_again_only_where_the_print_it_touches_was_read_with_doubt() -> None:
    seal = (100, 100, 300, 300)  # pixels, on a 1000 × 1000 page

    def line(confidence: float, y: float) -> OcrLine:
        box = BBox(x0=0.05, y0=y, x1=0.5, y1=y + 0.03)
        return OcrLine(text="收款单位", confidence=confidence, bbox=box)

    assert not _doubtful_under(seal, [line(0.99, 0.2), line(0.5, 0.6)], 1000, 1000)
    assert _doubtful_under(seal, [line(0.9, 0.2)], 1000, 1000)
    assert _doubtful_under(seal, [line(0.99, 0.6)], 1000, 1000)  # nothing read under it


def test_print_under_solid_red_ink_is_read_again(tmp_path: Path, rapid_engine: OcrEngine) -> None:
    page = cv2.cvtColor(np.asarray(render_page()), cv2.COLOR_RGB2BGR)
    cv2.circle(page, (400, 320), 130, (30, 30, 220), -1)  # solid red over the print
    cv2.imwrite(str(tmp_path / "over.png"), page)
    counting = _CountingEngine(rapid_engine)
    read_file(tmp_path / "over.png", engine=counting)  # type: ignore[arg-type]
    assert counting.reads == 2
