"""Page images for the review page: a box read on a turned page lands where it is on the page
as stored, and a region crop is the part of the page the reviewer drew."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.errors import IntakeError
from webapp.pages import TURNS, crop_png
from webapp.reextract import unturn_box
from webapp.words import PageLine, split_line


def _page_with_block() -> tuple[np.ndarray, list[float]]:
    page = np.full((300, 200, 3), 255, np.uint8)
    page[60:90, 30:110] = 0  # a dark block: x 30..110 of 200, y 60..90 of 300
    return page, [30 / 200, 60 / 300, 110 / 200, 90 / 300]


def _block_box(image: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(image[:, :, 0] < 128)
    height, width = image.shape[:2]
    return [xs.min() / width, ys.min() / height, (xs.max() + 1) / width, (ys.max() + 1) / height]


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_a_box_read_on_the_turned_page_is_turned_back_onto_the_stored_page(turn: int) -> None:
    page, expected = _page_with_block()
    turned = cv2.rotate(page, TURNS[turn]) if turn else page
    seen = _block_box(turned)  # where OCR on the turned page would put it
    assert unturn_box(seen, turn) == pytest.approx(expected, abs=1e-6)


def test_a_region_crop_is_the_part_of_the_page_the_reviewer_drew() -> None:
    page, box = _page_with_block()
    ok, png = cv2.imencode(".png", page)
    assert ok
    crop = crop_png(png.tobytes(), (box[0], box[1], box[2], box[3]))
    assert crop.shape[:2] == (30, 80) and int(crop.max()) == 0
    with pytest.raises(IntakeError, match="too small"):
        crop_png(png.tobytes(), (0.5, 0.5, 0.505, 0.505))


def test_a_line_is_cut_into_words_after_its_label_with_boxes_by_character_width() -> None:
    line = PageLine(text="姓名：张三 性别：女", confidence=0.99, box=(0.1, 0.2, 0.6, 0.25))
    words = split_line(line, 3)
    assert [w.text for w in words] == ["姓名：", "张三", "性别：", "女"]
    assert all(w.line == 3 and w.box[1] == 0.2 and w.box[3] == 0.25 for w in words)
    assert words[0].box[0] == pytest.approx(0.1) and words[-1].box[2] == pytest.approx(0.6)
    lefts = [w.box[0] for w in words]
    assert lefts == sorted(lefts) and all(w.box[0] < w.box[2] for w in words)
    # a Chinese character is wider than a digit: 合计 takes more than its share of characters
    total = split_line(PageLine(text="合计¥12.50", confidence=1.0, box=(0.0, 0.0, 1.0, 0.1)), 0)
    assert [w.text for w in total] == ["合计", "¥12.50"]
    assert total[0].box[2] > 2 / 8
