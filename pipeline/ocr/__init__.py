"""OCR engines behind one protocol; `get_engine` loads each engine once per process."""

from pipeline.ocr.base import OcrEngine
from pipeline.ocr.registry import available_engines, get_engine

__all__ = ["OcrEngine", "available_engines", "get_engine"]
