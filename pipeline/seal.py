"""Red seal (公章) detection: hospitals and employers stamp documents in red ink."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

MIN_SEAL_SHARE = 0.002
INK_ALONE = 150  # a red pixel this bright in every channel's maximum has no print beneath  # of the page area; a stamp is a few percent of an A4 page


def has_red_seal(image: npt.NDArray[np.uint8]) -> bool:
    """True when a compact blob of saturated red ink is present (BGR input)."""
    return bool(red_seal_boxes(image))


def red_seal_boxes(image: npt.NDArray[np.uint8]) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) in pixels of each compact, roundish blob of red ink: the seals."""
    import cv2

    small: Any = image
    scale = 800 / max(image.shape[:2])
    if scale < 1:
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    hsv: Any = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    low: Any = cv2.inRange(hsv, np.array([0, 90, 70]), np.array([10, 255, 255]))
    high = cv2.inRange(hsv, np.array([165, 90, 70]), np.array([180, 255, 255]))
    mask: Any = cv2.dilate(low | high, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    area = mask.shape[0] * mask.shape[1]
    factor = 1 / scale if scale < 1 else 1.0
    boxes: list[tuple[int, int, int, int]] = []
    for i in range(1, count):
        x, y, w, h, pixels = (int(stats[i, k]) for k in range(5))
        roundish = 0.6 < w / max(h, 1) < 1.7
        if roundish and pixels / area >= MIN_SEAL_SHARE and w * h / area >= 4 * MIN_SEAL_SHARE:
            boxes.append(
                (int(x * factor), int(y * factor), int((x + w) * factor), int((y + h) * factor))
            )
    return boxes


def without_red_ink(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The image with red ink turned to the paper's colour: black print under a seal shows."""
    import cv2

    hsv: Any = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    low: Any = cv2.inRange(hsv, np.array([0, 60, 60]), np.array([12, 255, 255]))
    high: Any = cv2.inRange(hsv, np.array([155, 60, 60]), np.array([180, 255, 255]))
    red: Any = (low | high) > 0
    brightest = image.max(axis=2)
    paper = np.percentile(image, 95, axis=(0, 1)).astype(np.uint8)
    out = image.copy()
    # bright red is ink alone: paper; dark red is black print seen through the ink: keep its
    # darkness as grey, so strokes under the seal stay whole
    out[red & (brightest >= INK_ALONE)] = paper
    under = red & (brightest < INK_ALONE)
    out[under] = np.repeat(brightest[..., None], 3, axis=2)[under]
    return out
