"""Image preparation: upright, flat, straight pages, and quality flags that mean something."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from synth import render_page, to_bgr

from pipeline.imaging import QualityFileError, load_quality_thresholds, prepare_page
from pipeline.models import QualityFlag

LINES = [
    "医疗住院收费票据",
    "票据号码：0012345678",
    "交款人：张三",
    "合计（大写）壹佰贰拾叁元肆角伍分",
] * 4


@pytest.fixture(scope="module")
def page() -> npt.NDArray[np.uint8]:
    return to_bgr(render_page(LINES))


def _photo(page: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The page lying on a brown, noisy table, seen at an angle."""
    h, w = page.shape[:2]
    rng = np.random.default_rng(7)
    table = (
        (
            np.full((int(h * 1.3), int(w * 1.4), 3), (60, 90, 120))
            + rng.normal(0, 12, (int(h * 1.3), int(w * 1.4), 3))
        )
        .clip(0, 255)
        .astype(np.uint8)
    )
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[150, 120], [w + 220, 200], [w + 150, h + 250], [90, h + 180]])
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(
        page, matrix, (table.shape[1], table.shape[0]), dst=table, borderMode=cv2.BORDER_TRANSPARENT
    )


def test_a_clean_scan_raises_no_problem_flags(page: npt.NDArray[np.uint8]) -> None:
    prepared = prepare_page(page)
    problems = set(prepared.quality.flags) - {QualityFlag.GRAYSCALE_COPY}
    assert problems == set()
    assert prepared.quality.perspective_corrected is False
    assert prepared.quality.rotated_degrees == 0


@pytest.mark.parametrize(
    ("turn", "expected"),
    [(cv2.ROTATE_90_CLOCKWISE, 90), (cv2.ROTATE_180, 180), (cv2.ROTATE_90_COUNTERCLOCKWISE, 270)],
)
def test_a_turned_page_comes_back_upright(
    page: npt.NDArray[np.uint8], turn: int, expected: int
) -> None:
    prepared = prepare_page(cv2.rotate(page, turn))
    assert prepared.quality.rotated_degrees == expected
    assert prepared.image.shape == page.shape
    assert np.abs(prepared.image.astype(int) - page).mean() < 1.0


def test_a_photo_is_flattened_to_the_pages_proportions(page: npt.NDArray[np.uint8]) -> None:
    prepared = prepare_page(_photo(page))
    height, width = prepared.image.shape[:2]
    assert prepared.quality.perspective_corrected is True
    assert abs(width / height - page.shape[1] / page.shape[0]) < 0.05
    assert prepared.quality.coverage is not None and 0.3 < prepared.quality.coverage < 0.9
    assert QualityFlag.CUT_OFF not in prepared.quality.flags


def test_a_small_skew_is_straightened(page: npt.NDArray[np.uint8]) -> None:
    h, w = page.shape[:2]
    skewed = cv2.warpAffine(
        page, cv2.getRotationMatrix2D((w / 2, h / 2), 5, 1), (w, h), borderValue=(255, 255, 255)
    )
    assert abs(prepare_page(skewed).quality.skew_degrees + 5) < 1.0


def test_heavy_blur_is_flagged(page: npt.NDArray[np.uint8]) -> None:
    assert QualityFlag.BLUR in prepare_page(cv2.GaussianBlur(page, (0, 0), 6)).quality.flags


def test_a_glare_spot_is_flagged() -> None:
    photo = to_bgr(render_page(LINES)).astype(np.int16)
    photo = (photo * 0.85).astype(np.uint8)  # paper photographed under room light is not white
    cv2.ellipse(photo, (600, 500), (220, 140), 0, 0, 360, (255, 255, 255), -1)
    assert QualityFlag.GLARE in prepare_page(photo, photo=False).quality.flags


def test_a_document_cut_by_the_frame_is_flagged(page: npt.NDArray[np.uint8]) -> None:
    photo = _photo(page)
    cut = photo[:, photo.shape[1] // 3 :]
    assert QualityFlag.CUT_OFF in prepare_page(cut).quality.flags


def test_a_grey_copy_of_a_coloured_card_is_told_apart() -> None:
    card = np.full((540, 856, 3), (230, 215, 190), np.uint8)
    cv2.putText(
        card, "ID 370602198503071237", (40, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 30, 30), 3
    )
    cv2.rectangle(card, (600, 60), (800, 280), (90, 120, 200), -1)
    grey = cv2.cvtColor(cv2.cvtColor(card, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    colour_quality = prepare_page(card, photo=False).quality
    grey_quality = prepare_page(grey, photo=False).quality
    assert QualityFlag.GRAYSCALE_COPY in grey_quality.flags
    assert QualityFlag.GRAYSCALE_COPY not in colour_quality.flags
    assert (grey_quality.colorfulness or 0) < (colour_quality.colorfulness or 0)


def test_a_huge_image_is_downscaled() -> None:
    huge = np.full((6000, 9000, 3), 255, np.uint8)
    assert max(prepare_page(huge, photo=False).image.shape[:2]) <= 3200


def test_a_tiny_image_does_not_crash() -> None:
    prepared = prepare_page(np.zeros((5, 5), np.uint8))
    assert prepared.quality.flags == [QualityFlag.LOW_RESOLUTION]


def test_a_malformed_quality_file_names_the_bad_key(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "pipeline/data/quality.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "quality.yaml"
    bad.write_text(text.replace("glare_max: 0.01", "glare_max: 3"), encoding="utf-8")
    with pytest.raises(QualityFileError, match="glare_max"):
        load_quality_thresholds(bad)
