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


RING_SAMPLES = 120
RING_COVER = 0.8  # share of the circle that must be inked: a seal's rim is drawn whole
RING_BESIDE = 0.5  # ...with paper just inside and outside it: a thin line, not a dark patch


def seal_ring_boxes(image: npt.NDArray[np.uint8]) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) in pixels of each round stamp's rim: on a grey copy a seal has no
    colour left, but its outer ring is still a whole dark circle a few centimetres wide,
    which print (letters, grids, photos) does not draw."""
    import cv2

    grey: Any = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    scale = min(1.0, 800 / max(grey.shape[:2]))
    small: Any = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    side = max(small.shape[:2])
    circles = cv2.HoughCircles(
        cv2.medianBlur(small, 3),
        cv2.HOUGH_GRADIENT,
        dp=1.5,
        minDist=side * 0.1,
        param1=120,
        param2=35,
        minRadius=int(side * 0.045),  # a seal is 4 cm across, a letterhead logo half that
        maxRadius=int(side * 0.12),
    )
    if circles is None:
        return []
    dark = np.percentile(small, 95) - 60
    boxes: list[tuple[int, int, int, int]] = []
    for cx, cy, radius in circles[0]:
        rim = _rim_cover(small, float(cx), float(cy), float(radius), dark)
        beside = min(
            _rim_cover(small, float(cx), float(cy), float(radius) + 6, dark),
            _rim_cover(small, float(cx), float(cy), float(radius) - 6, dark),
        )
        if rim >= RING_COVER and beside <= RING_BESIDE:
            x0, y0 = (cx - radius) / scale, (cy - radius) / scale
            x1, y1 = (cx + radius) / scale, (cy + radius) / scale
            boxes.append((int(x0), int(y0), int(x1), int(y1)))
    return boxes


def _rim_cover(small: Any, cx: float, cy: float, radius: float, dark: float) -> float:
    """Share of points round the circle with ink within two pixels of the rim."""
    angles = np.linspace(0, 2 * np.pi, RING_SAMPLES, endpoint=False)[:, None]
    radii = radius + np.arange(-2, 3)[None, :]
    height, width = small.shape[:2]
    xs = np.clip(np.rint(cx + radii * np.cos(angles)).astype(int), 0, width - 1)
    ys = np.clip(np.rint(cy + radii * np.sin(angles)).astype(int), 0, height - 1)
    inked = (small[ys, xs] < dark).any(axis=1)
    return float(inked.mean())
