"""Page images for the review page: the same prepared page the boxes were measured on.

Image pages are prepared exactly as the pipeline prepared them (turned, flattened,
straightened), so the relative field boxes fall where they were read. Text-layer PDF pages are
rendered with pypdfium2. PNGs are cached under the state dir by claim, file and page. A page
a reviewer turned is served turned (the image itself, so the layout keeps its real size).
"""

from __future__ import annotations

import hashlib
import struct
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from infra.storage import ObjectStore, upload_key
from pipeline.errors import IntakeError
from pipeline.reader import PageImage, iter_page_images
from pipeline.records import number_pages
from pipeline.settings import Settings

VIEW_WIDTH = 1100
TURNS = {
    90: cv2.ROTATE_90_CLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_COUNTERCLOCKWISE,
}


def _cache_path(settings: Settings, claim_id: str, name: str, page: int) -> Path:
    digest = hashlib.sha256(f"{claim_id}\0{name}\0{page}".encode()).hexdigest()[:32]
    return settings.state_dir / "web-pages" / f"{digest}.png"


def _pdf_page(path: Path, page: int) -> np.ndarray | None:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        if page >= len(document):
            return None
        bitmap = document[page].render(scale=VIEW_WIDTH / document[page].get_width())
        bgr = np.asarray(bitmap.to_numpy())[:, :, :3]  # pdfium renders BGR(A), as cv2 wants
        return np.ascontiguousarray(bgr)
    finally:
        document.close()


def _encode(image: np.ndarray) -> bytes:
    scale = min(1.0, VIEW_WIDTH / image.shape[1])
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise IntakeError("the page image could not be encoded")
    return encoded.tobytes()


def page_png(
    objects: ObjectStore, settings: Settings, claim_id: str, name: str, page: int
) -> bytes | None:
    """PNG bytes of one page of an upload, or None when the page does not exist."""
    cached = _cache_path(settings, claim_id, name, page)
    if cached.is_file():
        return cached.read_bytes()
    with tempfile.TemporaryDirectory(prefix="intake-page-") as work:
        local = objects.get_file(upload_key(claim_id, name), Path(work) / "upload")
        image = None
        try:
            for item in iter_page_images(local, settings):
                if item.index != page:
                    continue
                image = item.image if isinstance(item, PageImage) else _pdf_page(local, page)
                break
        except IntakeError:
            return None
    if image is None:
        return None
    data = _encode(image)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    return data


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def turned_png(data: bytes, turn: int) -> bytes:
    """The page PNG turned clockwise by `turn` degrees (0, 90, 180 or 270)."""
    code = TURNS.get(turn % 360)
    if code is None:
        return data
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise IntakeError("the page image could not be decoded")
    ok, encoded = cv2.imencode(".png", cv2.rotate(image, code))
    if not ok:
        raise IntakeError("the page image could not be encoded")
    return encoded.tobytes()


def crop_png(data: bytes, box: tuple[float, float, float, float]) -> np.ndarray:
    """The part of a page PNG inside `box` (x0, y0, x1, y1, relative to the page), BGR."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise IntakeError("the page image could not be decoded")
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    left, right = sorted((round(x0 * width), round(x1 * width)))
    top, bottom = sorted((round(y0 * height), round(y1 * height)))
    left, top = max(0, left), max(0, top)
    right, bottom = min(width, right), min(height, bottom)
    if right - left < 4 or bottom - top < 4:
        raise IntakeError("the box is too small to read")
    return np.ascontiguousarray(image[top:bottom, left:right])


def document_files(document: dict[str, Any]) -> list[tuple[str, list[int]]]:
    """A result document's (file, pages): its own file, then files it runs on into."""
    return [(document["file"], document["pages"]), *document.get("continued", {}).items()]


def numbered_pages(document: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(file, page in file, page in document): a continuation file's pages count on after
    the last page of the file before, as the extractor numbers them."""
    return number_pages(document_files(document))
