"""Red seal (公章) detection: hospitals and employers stamp documents in red ink."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

MIN_SEAL_SHARE = 0.002  # of the page area; a stamp is a few percent of an A4 page


def has_red_seal(image: npt.NDArray[np.uint8]) -> bool:
    """True when a compact blob of saturated red ink is present (BGR input)."""
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
    for i in range(1, count):
        w, h, pixels = (
            stats[i, cv2.CC_STAT_WIDTH],
            stats[i, cv2.CC_STAT_HEIGHT],
            stats[i, cv2.CC_STAT_AREA],
        )
        roundish = 0.6 < w / max(h, 1) < 1.7
        if roundish and pixels / area >= MIN_SEAL_SHARE and w * h / area >= 4 * MIN_SEAL_SHARE:
            return True
    return False
