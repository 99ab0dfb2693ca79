"""Read any supported file into pages of lines: the single entry point for text acquisition."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.imaging import prepare_page
from pipeline.inputs import IMAGE_TYPES, PDF_TYPE, iter_image_frames, sniff
from pipeline.models import (
    BBox,
    OcrLine,
    Page,
    PageQuality,
    PageSource,
    QualityFlag,
    ReadResult,
)
from pipeline.ocr import OcrEngine, get_engine
from pipeline.pdf import iter_pdf_pages
from pipeline.seal import red_seal_boxes, seal_ring_boxes, without_red_ink
from pipeline.settings import Settings, get_settings

log = logging.getLogger(__name__)

REREAD_MIN_CONFIDENCE = 0.8  # a poorer second reading never replaces the first
REREAD_BELOW = 0.97  # under a seal, a line read less surely than this is read again
READ_VERSION = 12  # bump when image preparation or OCR changes what a page reads as


@dataclass(frozen=True, slots=True)
class PageImage:
    """A page as an image before OCR (prepared), kept for drawing boxes and review."""

    index: int
    image: npt.NDArray[np.uint8]
    quality: PageQuality
    photo: bool | None


def iter_page_images(path: Path, settings: Settings | None = None) -> Iterator[PageImage | Page]:
    """Yield prepared page images, or finished pages where a PDF text layer made OCR needless."""
    settings = settings or get_settings()
    sniffed = sniff(path, settings)
    if sniffed.media_type in IMAGE_TYPES:
        for index, frame in enumerate(iter_image_frames(path, sniffed.media_type, settings)):
            prepared = prepare_page(frame)
            yield PageImage(index, prepared.image, prepared.quality, photo=None)
    elif sniffed.media_type == PDF_TYPE:
        for content in iter_pdf_pages(path, settings):
            if content.lines is not None:
                yield Page(
                    index=content.index,
                    width=round(content.width),
                    height=round(content.height),
                    source=PageSource.PDF_TEXT,
                    red_seal=content.red_seal,
                    lines=content.lines,
                )
            else:
                assert content.image is not None
                prepared = prepare_page(content.image, photo=False)
                yield PageImage(content.index, prepared.image, prepared.quality, photo=False)


def ocr_page(page_image: PageImage, engine: OcrEngine) -> Page:
    height, width = page_image.image.shape[:2]
    seals = red_seal_boxes(page_image.image)
    lines = engine.read(page_image.image)
    if seals:
        lines = reread_under_seals(page_image.image, lines, seals, engine)
    return Page(
        index=page_image.index,
        width=width,
        height=height,
        source=PageSource.OCR,
        quality=page_image.quality,
        red_seal=_seal_seen(page_image, seals),
        lines=lines,
    )


def _seal_seen(page_image: PageImage, red_seals: list[tuple[int, int, int, int]]) -> bool | None:
    """Whether the page bears a seal. A grey copy shows no red: there a seal is known by its
    round rim, and a page without one is not known to be unsealed (None), only not seen."""
    if QualityFlag.GRAYSCALE_COPY not in page_image.quality.flags:
        return bool(red_seals)
    return True if seal_ring_boxes(page_image.image) else None


def reread_under_seals(
    image: npt.NDArray[np.uint8],
    lines: list[OcrLine],
    seals: list[tuple[int, int, int, int]],
    engine: OcrEngine,
) -> list[OcrLine]:
    """Read each band of the page a seal covers again with the red ink suppressed.

    A hospital's 收费专用章 is stamped over its printed name and the totals; black print
    under red ink reads badly. A line of the second read replaces the lines of the first it
    covers when it carries more text for its confidence; lines printed in red ink (labels of
    paper forms) vanish from the second read and so are kept from the first.
    """
    height, width = image.shape[:2]
    cleaned = without_red_ink(image)
    for seal in seals:
        if not _doubtful_under(seal, lines, width, height):
            continue  # every line the seal touches was read surely: nothing to gain
        _, y0, _, y1 = seal
        margin = (y1 - y0) // 4
        top, bottom = max(0, y0 - margin), min(height, y1 + margin)
        if bottom - top < 8:
            continue
        band = [
            OcrLine(
                text=ln.text,
                confidence=ln.confidence,
                bbox=BBox(
                    x0=ln.bbox.x0,
                    y0=(top + ln.bbox.y0 * (bottom - top)) / height,
                    x1=ln.bbox.x1,
                    y1=(top + ln.bbox.y1 * (bottom - top)) / height,
                ),
            )
            for ln in engine.read(np.ascontiguousarray(cleaned[top:bottom, :width]))
        ]
        lines = _merge_reads(lines, band)
    return lines


def _doubtful_under(
    seal: tuple[int, int, int, int], lines: list[OcrLine], width: int, height: int
) -> bool:
    """Whether a line the seal touches was read with doubt (or none was read there at all)."""
    x0, y0, x1, y1 = seal
    box = BBox.from_pixels(x0, y0, x1, y1, width, height)
    touched = [ln for ln in lines if _overlap(ln.bbox, box) > 0]
    return not touched or min(ln.confidence for ln in touched) < REREAD_BELOW


def _merge_reads(first: list[OcrLine], second: list[OcrLine]) -> list[OcrLine]:
    """A line of the second read replaces the first read's lines it covers when it is read
    with more confidence and keeps every digit; what a first-read line held left or right of it (a red label the
    second read lost) is kept."""
    kept = list(first)
    for line in second:
        if line.confidence < REREAD_MIN_CONFIDENCE:
            continue
        covered = [old for old in kept if _overlap(old.bbox, line.bbox) > 0.3 * _area(old.bbox)]
        if not covered or line.confidence <= min(old.confidence for old in covered):
            continue
        merged = line
        for old in covered:
            merged = _keep_outside(old, merged)
        if _digits(merged.text) < sum(_digits(old.text) for old in covered):
            continue  # digits are never seal text: a reading that lost some lost print
        kept = [old for old in kept if all(old is not c for c in covered)] + [merged]
    return kept


def _overlap_len(left: str, right: str) -> int:
    """How many characters `left` ends with that `right` starts with."""
    return next(
        (k for k in range(min(len(left), len(right)), 0, -1) if left.endswith(right[:k])), 0
    )


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _keep_outside(old: OcrLine, new: OcrLine) -> OcrLine:
    """`new` with the characters of `old` that stood left or right of it put back."""
    width = max(old.bbox.width, 1e-6)
    left = round(len(old.text) * (new.bbox.x0 - old.bbox.x0) / width)
    right = round(len(old.text) * (old.bbox.x1 - new.bbox.x1) / width)
    prefix = old.text[: max(left, 0)] if left > 1 else ""
    suffix = old.text[len(old.text) - right :] if right > 1 else ""
    # the split is estimated by width: never keep twice what the new line itself begins or ends with
    prefix = prefix[: len(prefix) - _overlap_len(prefix, new.text)]
    suffix = suffix[_overlap_len(new.text, suffix) :]
    if not prefix and not suffix:
        return new
    return OcrLine(
        text=prefix + new.text + suffix,
        confidence=min(new.confidence, old.confidence),
        bbox=BBox.union([old.bbox, new.bbox]),
    )


def _area(box: BBox) -> float:
    return max(box.width * box.height, 1e-9)


def _overlap(a: BBox, b: BBox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)


def read_file(
    path: Path, *, engine: OcrEngine | None = None, settings: Settings | None = None
) -> ReadResult:
    """Read every page of `path`; raises an `IntakeError` subclass for input a person must fix."""
    settings = settings or get_settings()
    sniffed = sniff(path, settings)
    pages: list[Page] = []
    for item in iter_page_images(path, settings):
        if isinstance(item, Page):
            pages.append(item)
        else:
            pages.append(ocr_page(item, engine or get_engine(settings=settings)))
    log.info("read %s: %d page(s), %s", path.name, len(pages), sniffed.media_type)
    return ReadResult(file=str(path), media_type=sniffed.media_type, pages=pages)
