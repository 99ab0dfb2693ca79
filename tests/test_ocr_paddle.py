"""The paddleocr backend runs offline from local PP-OCR model folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synth import render_page, to_bgr

from pipeline.errors import OcrEngineError
from pipeline.ocr import OcrEngine
from pipeline.ocr.paddle import PaddleOcrEngine, default_model_dir
from pipeline.settings import Settings

pytestmark = pytest.mark.ocr


def test_default_model_folders_are_built_from_the_bundled_weights(settings: Settings) -> None:
    for kind in ("det", "rec"):
        folder = default_model_dir(kind, settings.state_dir.resolve())
        assert (folder / "inference.onnx").stat().st_size > 1_000_000
        assert "\r" not in (folder / "inference.yml").read_text(encoding="utf-8")


def test_a_model_folder_without_weights_is_refused_with_the_setting_to_fix(tmp_path: Path) -> None:
    (tmp_path / "inference.yml").write_text("Global:\n  model_name: PP-OCRv5_server_det\n")
    with pytest.raises(OcrEngineError, match=r"no inference\.onnx.*INTAKE_PADDLE_DET_MODEL_DIR"):
        PaddleOcrEngine(Settings(paddle_det_model_dir=tmp_path, state_dir=tmp_path / "state"))


def test_an_operator_can_point_at_other_model_folders(tmp_path: Path, settings: Settings) -> None:
    state = settings.state_dir.resolve()
    custom = tmp_path / "my-rec"
    custom.mkdir()
    bundled = default_model_dir("rec", state)
    (custom / "inference.onnx").symlink_to((bundled / "inference.onnx").resolve())
    (custom / "inference.yml").write_text((bundled / "inference.yml").read_text(encoding="utf-8"))
    engine = PaddleOcrEngine(settings.model_copy(update={"paddle_rec_model_dir": custom}))
    assert any("0012345678" in line.text for line in engine.read(to_bgr(render_page())))


def test_grayscale_pages_are_read(paddle_engine: OcrEngine) -> None:
    gray = np.asarray(render_page().convert("L"))
    assert any("0012345678" in line.text for line in paddle_engine.read(gray))  # type: ignore[arg-type]
