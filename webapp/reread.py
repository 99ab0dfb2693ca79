"""Reading a region of a page again: the reviewer draws a box, the OCR engine reads the crop.

The crop comes from the page image the reviewer sees (the prepared page, turned as shown), so
the box needs no conversion. Small crops are enlarged and given a white margin first: the
detector misses print that touches the border or is only a few pixels high. The engine is the
process-wide one (loaded once); reads are serialised, the engines are not thread-safe.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
from pydantic import BaseModel, Field

from pipeline.ocr.base import Image, reading_order
from pipeline.ocr.registry import get_engine
from pipeline.settings import Settings

MIN_HEIGHT = 64  # pixels: smaller crops are enlarged to at least this height
MAX_SCALE = 4.0
MARGIN = 12  # pixels of white around the crop

OCR_LOCK = threading.Lock()  # one OCR read at a time in the web process


class RegionLine(BaseModel):
    text: str
    confidence: float


class RegionText(BaseModel):
    """What the engine read inside the box: its lines in reading order, and them joined."""

    text: str
    confidence: float | None = Field(description="the least sure line's confidence")
    lines: list[RegionLine]


def read_region(crop: Image, settings: Settings) -> RegionText:
    image: np.ndarray = crop
    height = image.shape[0]
    scale = min(MAX_SCALE, max(1.0, MIN_HEIGHT / max(height, 1)))
    if scale > 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    image = cv2.copyMakeBorder(
        image, MARGIN, MARGIN, MARGIN, MARGIN, cv2.BORDER_CONSTANT, value=(255, 255, 255)
    )
    engine = get_engine(settings=settings)
    with OCR_LOCK:
        lines = reading_order(engine.read(np.asarray(image, dtype=np.uint8)))
    found = [RegionLine(text=line.text, confidence=line.confidence) for line in lines if line.text]
    text = ""
    for line in found:
        text = _join(text, line.text.strip())
    return RegionText(
        text=text,
        confidence=min((line.confidence for line in found), default=None),
        lines=found,
    )


def _cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"


def _join(text: str, more: str) -> str:
    """Lines joined with a space, except where Chinese meets Chinese (no spaces in Chinese)."""
    if not text or not more:
        return text or more
    return text + more if _cjk(text[-1]) or _cjk(more[0]) else f"{text} {more}"
