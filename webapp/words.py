"""The words of a page, with their boxes, so a reviewer can click one to fill a field.

The pipeline does not keep what it read (only the fields it extracted), so a page's lines are
read here once, the first time a reviewer points at the page, and kept under the state dir
(by claim, file, page, OCR engine and `READ_VERSION`; uploads are never overwritten). The
lines come from the same prepared page image the viewer shows (`webapp.pages.page_png`), so
their page-relative boxes fall on the image as shown; text-layer PDF pages give their lines
without OCR. A line is cut into words at spaces and after labels (`姓名：`, `(小写)`) with
boxes estimated from the characters' widths: a click picks `张三` rather than `姓名：张三`.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from pathlib import Path

from pydantic import BaseModel, Field

from infra.storage import ObjectStore, upload_key
from pipeline.errors import IntakeError
from pipeline.models import OcrLine, Page
from pipeline.ocr.registry import get_engine
from pipeline.reader import READ_VERSION, PageImage, iter_page_images, ocr_page
from pipeline.settings import Settings
from webapp.reread import OCR_LOCK

Box = tuple[float, float, float, float]

# a word ends at a space, after a label's colon or closing bracket, and before a currency sign
_CUTS = re.compile(r"\s+|(?<=[:：)）\]】])|(?=[¥￥])")
_NARROW = 0.55  # width of a Latin letter or digit, in widths of a Chinese character

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class PageLine(BaseModel):
    text: str
    confidence: float
    box: Box = Field(description="x0, y0, x1, y1 relative to the unturned page")


class PageWord(BaseModel):
    text: str
    box: Box = Field(description="x0, y0, x1, y1 relative to the unturned page (estimated)")
    line: int = Field(description="index of the word's line in `lines`")


class PageWords(BaseModel):
    """What a page reads as: its lines, and the words a reviewer can click."""

    file: str
    page: int
    lines: list[PageLine]
    words: list[PageWord]


def _width(char: str) -> float:
    wide = "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\uffef"
    return 1.0 if wide else _NARROW


def split_line(line: PageLine, index: int) -> list[PageWord]:
    """A line's words with boxes shared out by the characters' widths (a line is straight on
    a prepared page, so each word takes its share of the line's width)."""
    text = line.text
    widths = [_width(c) for c in text]
    total = sum(widths) or 1.0
    x0, y0, x1, y1 = line.box
    scale = (x1 - x0) / total
    words: list[PageWord] = []
    start = 0
    for cut in [*_CUTS.finditer(text), None]:
        end = cut.start() if cut else len(text)
        piece = text[start:end]
        if piece.strip():
            left = x0 + sum(widths[:start]) * scale
            right = x0 + sum(widths[:end]) * scale
            words.append(PageWord(text=piece.strip(), box=(left, y0, right, y1), line=index))
        if cut is not None:
            start = cut.end()
    return words


def _cache_path(settings: Settings, claim_id: str, name: str, page: int) -> Path:
    digest = hashlib.sha256(f"{claim_id}\0{name}\0{page}".encode()).hexdigest()[:32]
    return settings.state_dir / "web-words" / f"{digest}-{settings.ocr_engine}-v{READ_VERSION}.json"


def _read_lines(
    objects: ObjectStore, settings: Settings, claim_id: str, name: str, page: int
) -> list[OcrLine] | None:
    """One page of an upload read as the pipeline reads it; None when it has no such page."""
    with tempfile.TemporaryDirectory(prefix="intake-words-") as work:
        local = objects.get_file(upload_key(claim_id, name), Path(work) / "upload")
        try:
            for item in iter_page_images(local, settings):
                if item.index != page:
                    continue
                if isinstance(item, Page):
                    return item.lines
                assert isinstance(item, PageImage)
                with OCR_LOCK:
                    return ocr_page(item, get_engine(settings=settings)).lines
        except IntakeError:
            return None
    return None


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def page_words(
    objects: ObjectStore, settings: Settings, claim_id: str, name: str, page: int
) -> PageWords | None:
    """The page's lines and words (read once, then from the cache); None for no such page."""
    cached = _cache_path(settings, claim_id, name, page)
    with _lock_for(str(cached)):  # two clicks on an unread page read it once
        if cached.is_file():
            lines = [
                PageLine.model_validate_json(t) for t in cached.read_text("utf-8").splitlines()
            ]
        else:
            read = _read_lines(objects, settings, claim_id, name, page)
            if read is None:
                return None
            lines = [
                PageLine(
                    text=ln.text,
                    confidence=ln.confidence,
                    box=(ln.bbox.x0, ln.bbox.y0, ln.bbox.x1, ln.bbox.y1),
                )
                for ln in read
                if ln.text.strip()
            ]
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(".part")
            partial.write_text("".join(ln.model_dump_json() + "\n" for ln in lines), "utf-8")
            partial.replace(cached)  # never a half-written cache for the next reader
    words = [word for index, line in enumerate(lines) for word in split_line(line, index)]
    return PageWords(file=name, page=page, lines=lines, words=words)
