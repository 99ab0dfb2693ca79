"""RapidOCR backend: PP-OCRv6-small det/rec ONNX models bundled in the `rapidocr` wheel."""

from __future__ import annotations

import logging
from typing import Any

from pipeline.models import OcrLine
from pipeline.ocr.base import Image, quad_to_line, reading_order
from pipeline.settings import Settings

log = logging.getLogger(__name__)


class RapidOcrEngine:
    """Runs RapidOCR on ONNX Runtime with its bundled default models (never downloads)."""

    name = "rapidocr"

    def __init__(self, settings: Settings) -> None:
        from rapidocr import RapidOCR

        params: dict[str, Any] = {
            "Global.log_level": "warning",
            "Global.max_side_len": settings.ocr_max_side,
            "EngineConfig.onnxruntime.intra_op_num_threads": settings.ocr_threads or -1,
        }
        if settings.ocr_det_side > 0:  # detect on a smaller page, read crops of the larger
            params["Det.limit_type"] = "max"
            params["Det.limit_side_len"] = settings.ocr_det_side
        self._ocr = RapidOCR(params=params)
        log.info("loaded rapidocr (PP-OCRv6-small, onnxruntime)")

    def read(self, image: Image) -> list[OcrLine]:
        height, width = image.shape[:2]
        result: Any = self._ocr(image)
        if result.boxes is None or result.txts is None or result.scores is None:
            return []
        lines = [
            quad_to_line(text, float(score), box, width, height)
            for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True)
            if text.strip()
        ]
        return reading_order(lines)
