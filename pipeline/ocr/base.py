"""The OCR engine protocol every backend implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from pipeline.models import BBox, OcrLine

Image = npt.NDArray[np.uint8]


@runtime_checkable
class OcrEngine(Protocol):
    """Reads the text lines of one prepared page image (BGR, uint8)."""

    name: str

    def read(self, image: Image) -> list[OcrLine]:
        """Lines in reading order, each with a box relative to `image`."""
        ...


def quad_to_line(text: str, score: float, quad: npt.ArrayLike, width: int, height: int) -> OcrLine:
    """Turn a detector quadrilateral (4 points, pixels) into a page-relative line."""
    pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    return OcrLine(
        text=text,
        confidence=float(min(1.0, max(0.0, score))),
        bbox=BBox.from_pixels(
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
            width,
            height,
        ),
    )


def reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Sort lines top to bottom, then left to right within a row of overlapping heights."""
    ordered = sorted(lines, key=lambda ln: (ln.bbox.cy, ln.bbox.x0))
    rows: list[list[OcrLine]] = []
    for line in ordered:
        if rows:
            last = rows[-1][-1]
            tolerance = 0.5 * min(last.bbox.height, line.bbox.height)
            if abs(line.bbox.cy - last.bbox.cy) <= tolerance:
                rows[-1].append(line)
                continue
        rows.append([line])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.bbox.x0)]
