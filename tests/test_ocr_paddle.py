"""The paddleocr backend reads Chinese text offline from local PP-OCR model folders."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw, ImageFont
from synth import NOTO

from pipeline.errors import OcrEngineError
from pipeline.models import OcrLine
from pipeline.ocr import OcrEngine, get_engine
from pipeline.ocr.paddle import Kind, PaddleOcrEngine, default_model_dir
from pipeline.settings import Settings
from pipeline.textmatch import edit_distance, squash

pytestmark = pytest.mark.ocr

RECEIPT = ["医疗门诊收费票据", "票据号码：0012345678", "合计（大写）壹佰贰拾叁元肆角伍分"]
TOP, STEP, SIZE = (960, 400), 110, 36


def render(lines: list[str] = RECEIPT) -> npt.NDArray[np.uint8]:
    """A small white BGR image with one line of dark text per entry, 110 px apart."""
    width, height = TOP
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(NOTO, SIZE)
    for i, text in enumerate(lines):
        draw.text((40, 50 + i * STEP), text, font=font, fill=(20, 20, 20))
    return np.ascontiguousarray(np.asarray(page)[:, :, ::-1])


def best_match(expected: str, lines: list[OcrLine]) -> tuple[int, int]:
    """(edit distance, index) of the line read closest to `expected`."""
    return min((edit_distance(expected, squash(ln.text)), i) for i, ln in enumerate(lines))


@pytest.fixture(scope="module")
def receipt_lines(paddle_engine: OcrEngine) -> list[OcrLine]:
    return paddle_engine.read(render())


def test_every_rendered_line_is_read_back(receipt_lines: list[OcrLine]) -> None:
    for expected in RECEIPT:
        distance, _ = best_match(expected, receipt_lines)
        texts = [ln.text for ln in receipt_lines]
        assert distance <= 2, f"missed {expected!r}: {texts}"


def test_lines_come_in_top_to_bottom_order(receipt_lines: list[OcrLine]) -> None:
    indexes = [best_match(expected, receipt_lines)[1] for expected in RECEIPT]
    assert indexes == sorted(indexes)
    tops = [ln.bbox.y0 for ln in receipt_lines]
    assert tops == sorted(tops)


def test_boxes_are_page_relative_and_confidences_are_probabilities(
    receipt_lines: list[OcrLine],
) -> None:
    assert receipt_lines
    for line in receipt_lines:
        assert line.text.strip()
        assert 0.0 <= line.bbox.x0 < line.bbox.x1 <= 1.0
        assert 0.0 <= line.bbox.y0 < line.bbox.y1 <= 1.0
        assert 0.5 < line.confidence <= 1.0
    # the first line is drawn at x = 40, y = 50 px (text top a few px lower) of 960 x 400
    first = receipt_lines[best_match(RECEIPT[0], receipt_lines)[1]]
    assert abs(first.bbox.x0 - 40 / TOP[0]) < 0.03
    assert abs(first.bbox.y0 - 50 / TOP[1]) < 0.05


def test_grayscale_images_are_read(paddle_engine: OcrEngine) -> None:
    gray = np.ascontiguousarray(render()[:, :, 1])
    lines = paddle_engine.read(gray)
    assert best_match(RECEIPT[1], lines)[0] <= 2


def test_a_blank_image_gives_no_lines(paddle_engine: OcrEngine) -> None:
    assert paddle_engine.read(render([])) == []


def test_the_engine_is_loaded_once_per_process(paddle_engine: OcrEngine) -> None:
    assert get_engine("paddleocr") is get_engine("paddleocr")
    assert get_engine("paddleocr") is paddle_engine
    assert isinstance(paddle_engine, PaddleOcrEngine)


def test_default_model_folders_are_built_from_the_bundled_weights(settings: Settings) -> None:
    kinds: tuple[Kind, ...] = ("det", "rec")
    for kind in kinds:
        folder = default_model_dir(kind, settings.state_dir.resolve())
        assert folder.name == f"PP-OCRv6_small_{kind}"
        assert (folder / "inference.onnx").stat().st_size > 1_000_000
        assert "\r" not in (folder / "inference.yml").read_text(encoding="utf-8")
        assert default_model_dir(kind, settings.state_dir.resolve()) == folder


def test_a_default_folder_with_a_dangling_weights_link_is_rebuilt(tmp_path: Path) -> None:
    folder = default_model_dir("det", tmp_path)
    (folder / "inference.onnx").unlink()
    (folder / "inference.onnx").symlink_to(tmp_path / "gone.onnx")
    assert default_model_dir("det", tmp_path) == folder
    assert (folder / "inference.onnx").stat().st_size > 1_000_000


def test_a_model_folder_without_weights_is_refused_naming_file_and_setting(
    tmp_path: Path,
) -> None:
    (tmp_path / "inference.yml").write_text("Global:\n  model_name: PP-OCRv5_server_det\n")
    with pytest.raises(OcrEngineError, match=r"no inference\.onnx.*INTAKE_PADDLE_DET_MODEL_DIR"):
        PaddleOcrEngine(Settings(paddle_det_model_dir=tmp_path, state_dir=tmp_path / "state"))


def test_a_model_folder_without_its_yml_is_refused_naming_file_and_setting(
    tmp_path: Path, settings: Settings
) -> None:
    bundled = default_model_dir("rec", settings.state_dir.resolve())
    (tmp_path / "inference.onnx").symlink_to((bundled / "inference.onnx").resolve())
    with pytest.raises(OcrEngineError, match=r"no inference\.yml.*INTAKE_PADDLE_REC_MODEL_DIR"):
        PaddleOcrEngine(settings.model_copy(update={"paddle_rec_model_dir": tmp_path}))


def test_a_missing_model_folder_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(OcrEngineError, match=r"does not exist.*INTAKE_PADDLE_REC_MODEL_DIR"):
        PaddleOcrEngine(Settings(paddle_rec_model_dir=tmp_path / "nope", state_dir=tmp_path))


def test_an_operator_folder_with_crlf_yml_loads_and_reads_without_network(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another PP-OCR folder (here: a copy of the bundled one, saved with CRLF line ends) loads
    with custom threads and detector size, and neither loading nor reading opens a socket."""
    bundled = default_model_dir("rec", settings.state_dir.resolve())
    custom = tmp_path / "my-rec"
    custom.mkdir()
    (custom / "inference.onnx").symlink_to((bundled / "inference.onnx").resolve())
    yml = (bundled / "inference.yml").read_text(encoding="utf-8")
    (custom / "inference.yml").write_bytes(yml.replace("\n", "\r\n").encode())

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network connection attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    engine = PaddleOcrEngine(
        settings.model_copy(
            update={"paddle_rec_model_dir": custom, "ocr_threads": 1, "ocr_max_side": 1280}
        )
    )
    assert best_match(RECEIPT[1], engine.read(render()))[0] <= 2
