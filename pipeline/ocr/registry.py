"""Engine factory: picks a backend by name and keeps one instance per process."""

from __future__ import annotations

import threading

from pipeline.ocr.base import OcrEngine
from pipeline.settings import EngineName, Settings, get_settings

_ENGINES: dict[str, OcrEngine] = {}
_LOCK = threading.Lock()


def available_engines() -> tuple[EngineName, ...]:
    return ("rapidocr", "paddleocr")


def _build(name: str, settings: Settings) -> OcrEngine:
    if name == "rapidocr":
        from pipeline.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(settings)
    if name == "paddleocr":
        from pipeline.ocr.paddle import PaddleOcrEngine

        return PaddleOcrEngine(settings)
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(available_engines())}")


def get_engine(name: str | None = None, settings: Settings | None = None) -> OcrEngine:
    """The process-wide engine called `name` (default from settings), loaded on first use."""
    settings = settings or get_settings()
    name = name or settings.ocr_engine
    with _LOCK:
        if name not in _ENGINES:
            _ENGINES[name] = _build(name, settings)
        return _ENGINES[name]
