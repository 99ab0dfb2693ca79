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
from pipeline.models import Page, PageQuality, PageSource, ReadResult
from pipeline.ocr import OcrEngine, get_engine
from pipeline.pdf import iter_pdf_pages
from pipeline.seal import has_red_seal
from pipeline.settings import Settings, get_settings

log = logging.getLogger(__name__)

READ_VERSION = 1  # bump when image preparation or OCR changes what a page reads as


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
                    lines=content.lines,
                )
            else:
                assert content.image is not None
                prepared = prepare_page(content.image, photo=False)
                yield PageImage(content.index, prepared.image, prepared.quality, photo=False)


def ocr_page(page_image: PageImage, engine: OcrEngine) -> Page:
    height, width = page_image.image.shape[:2]
    return Page(
        index=page_image.index,
        width=width,
        height=height,
        source=PageSource.OCR,
        quality=page_image.quality,
        red_seal=has_red_seal(page_image.image),
        lines=engine.read(page_image.image),
    )


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
