"""Both real OCR backends read rendered Chinese text into page-relative, ordered lines."""

from __future__ import annotations

import pytest
from synth import SAMPLE_LINES, render_page, to_bgr

from pipeline.ocr import OcrEngine, available_engines, get_engine
from pipeline.textmatch import edit_distance, squash

pytestmark = pytest.mark.ocr


def test_engine_reads_every_line_of_a_rendered_page(any_engine: OcrEngine) -> None:
    lines = any_engine.read(to_bgr(render_page()))
    texts = [squash(line.text) for line in lines]
    for expected in SAMPLE_LINES:
        best = min(edit_distance(expected, text) for text in texts)
        assert best <= 1, f"{any_engine.name} missed {expected!r}: {texts}"


def test_engine_boxes_are_page_relative_and_in_reading_order(any_engine: OcrEngine) -> None:
    lines = any_engine.read(to_bgr(render_page()))
    assert lines
    for line in lines:
        assert 0.0 <= line.bbox.x0 < line.bbox.x1 <= 1.0
        assert 0.0 <= line.bbox.y0 < line.bbox.y1 <= 1.0
        assert 0.0 < line.confidence <= 1.0
    tops = [line.bbox.y0 for line in lines]
    assert tops == sorted(tops)
    # the first sample line is drawn at y = 120 px of 1754
    assert abs(lines[0].bbox.y0 - 120 / 1754) < 0.02


def test_engine_returns_no_lines_for_a_blank_page(any_engine: OcrEngine) -> None:
    assert any_engine.read(to_bgr(render_page(lines=[]))) == []


def test_engine_is_loaded_once_per_process(any_engine: OcrEngine) -> None:
    assert get_engine(any_engine.name) is any_engine


def test_unknown_engine_name_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="rapidocr, paddleocr"):
        get_engine("tesseract")
    assert available_engines() == ("rapidocr", "paddleocr")
