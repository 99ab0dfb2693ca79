"""Reading a document again after the reviewer turned its page.

Each page of the document is prepared as the pipeline prepared it, turned as the reviewer
turned it, read with the OCR engine (seal and unsure-line re-reads included, as
`pipeline.reader.ocr_page` does) and the document is extracted again from those pages. The
new fields' boxes are turned back into the unturned page's coordinates, which is what the
review page draws (it turns the boxes with the image). The new reading replaces the old one
only when it finds the document's fields at least as fully; either way the audit trail says so.
Pages with a PDF text layer do not depend on how they are shown: they are not read again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, Field

from extractors.extract import extract_claim_documents, extract_documents
from infra.storage import ObjectStore, upload_key
from pipeline.inputs import sniff
from pipeline.models import Page, ReadResult
from pipeline.ocr.registry import get_engine
from pipeline.reader import PageImage, iter_page_images, ocr_page
from pipeline.records import DocType, Document
from pipeline.settings import Settings
from webapp.pages import TURNS, document_files
from webapp.reread import OCR_LOCK


class Reextraction(BaseModel):
    """The outcome of reading a turned document again (kept in the audit trail)."""

    turn: int
    read: bool = Field(description="False when nothing could be read again (text-layer pages)")
    replaced: bool
    doc_type_before: str
    doc_type_after: str
    fields_before: int
    fields_after: int
    document: dict[str, Any] | None = Field(
        None, description="the document as read again (JSON as in the result), when replaced"
    )


def unturn_box(box: list[float], turn: int) -> list[float]:
    """[x0, y0, x1, y1] on the page turned clockwise by `turn` -> on the unturned page."""
    x0, y0, x1, y1 = box
    if turn == 90:  # unturned (x, y) shows at (1 - y, x)
        return [y0, 1 - x1, y1, 1 - x0]
    if turn == 180:
        return [1 - x1, 1 - y1, 1 - x0, 1 - y0]
    if turn == 270:  # unturned (x, y) shows at (y, 1 - x)
        return [1 - y1, x0, 1 - y0, x1]
    return [x0, y0, x1, y1]


def _read_turned(
    objects: ObjectStore, settings: Settings, claim_id: str, name: str, pages: list[int], turn: int
) -> ReadResult | None:
    """The file's pages of the document read with the page turned; None for text-layer pages."""
    read: list[Page] = []
    with tempfile.TemporaryDirectory(prefix="intake-reread-") as work:
        local = objects.get_file(upload_key(claim_id, name), Path(work) / name)
        media_type = sniff(local, settings).media_type
        for item in iter_page_images(local, settings):
            if item.index not in pages:
                continue
            if not isinstance(item, PageImage):
                return None
            code = TURNS.get(turn % 360)
            image = item.image
            if code is not None:
                image = np.ascontiguousarray(cv2.rotate(item.image, code), dtype=np.uint8)
            turned = PageImage(item.index, image, item.quality, item.photo)
            with OCR_LOCK:
                read.append(ocr_page(turned, get_engine(settings=settings)))
    return ReadResult(file=name, media_type=media_type, pages=read) if read else None


def _best(documents: list[Document], doc_type: str) -> Document | None:
    found = [d for d in documents if d.doc_type is not DocType.OTHER]
    if not found:
        return None
    return max(found, key=lambda d: (d.doc_type.value == doc_type, len(d.fields)))


def reextract(
    objects: ObjectStore,
    settings: Settings,
    claim_id: str,
    document: dict[str, Any],
    turn: int,
) -> Reextraction:
    """Read `document` (result JSON) again with its pages turned by `turn` degrees."""
    before = len(document.get("fields", {}))
    outcome = Reextraction(
        turn=turn,
        read=False,
        replaced=False,
        doc_type_before=document["doc_type"],
        doc_type_after=document["doc_type"],
        fields_before=before,
        fields_after=0,
    )
    results = []
    for name, pages in document_files(document):
        result = _read_turned(objects, settings, claim_id, name, pages, turn)
        if result is None:
            return outcome
        results.append(result)
    documents = (
        extract_documents(results[0]) if len(results) == 1 else extract_claim_documents(results)
    )
    found = _best(documents, document["doc_type"])
    outcome.read = True
    if found is None:
        return outcome
    fresh = found.as_json()
    for field in fresh["fields"].values():
        if field.get("bbox"):
            field["bbox"] = [field["bbox"][0], *unturn_box(field["bbox"][1:], turn)]
    outcome.doc_type_after = fresh["doc_type"]
    outcome.fields_after = len(fresh["fields"])
    if outcome.fields_after and (
        outcome.fields_after >= before or document["doc_type"] == DocType.OTHER.value
    ):
        keep = ("id", "file", "pages", "continued", "region", "quality")
        outcome.document = {**fresh, **{k: document[k] for k in keep if k in document}}
        outcome.replaced = True
    return outcome
