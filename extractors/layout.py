"""Geometry over OCR lines: find a label, and the text to its right or below it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline.models import BBox, OcrLine
from pipeline.normalize import to_halfwidth

SEPARATORS = " :：;；,，、|·.。_"


@dataclass(frozen=True, slots=True)
class Hit:
    """A label found in a line: character span and edit distance (0 = exact)."""

    line: int
    start: int
    end: int
    distance: int


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text cut from one line, with its approximate box."""

    text: str
    line: int
    confidence: float
    bbox: BBox


@lru_cache(maxsize=1)
def _variants() -> dict[int, str]:
    path = Path(__file__).resolve().parent / "forms" / "vocabulary.yml"
    table = yaml.safe_load(path.read_text(encoding="utf-8")).get("ocr_variants", {})
    return {ord(str(k)): str(v) for k, v in table.items()}


def normal(text: str) -> str:
    """Comparison form: half-width, no spaces, OCR's traditional variants simplified."""
    return to_halfwidth(text).replace(" ", "").translate(_variants())


def allowed_distance(label: str) -> int:
    """Short labels (姓名, 性别) must match exactly; longer ones tolerate one misread."""
    return 0 if len(label) <= 3 else 1


def find_in_line(label: str, text: str) -> tuple[int, int, int] | None:
    """(start, end, distance) of the best occurrence of `label` in `text`, within tolerance."""
    index = text.find(label)
    if index >= 0:
        return index, index + len(label), 0
    limit = allowed_distance(label)
    if limit == 0 or len(text) < len(label) - limit:
        return None
    # Sellers' DP keeping, for each end position, the start of the best alignment.
    previous = [(0, j) for j in range(len(text) + 1)]
    for i, char in enumerate(label, 1):
        current = [(i, 0)]
        for j, t_char in enumerate(text, 1):
            sub = (previous[j - 1][0] + (char != t_char), previous[j - 1][1])
            dele = (previous[j][0] + 1, previous[j][1])
            ins = (current[j - 1][0] + 1, current[j - 1][1])
            current.append(min(sub, dele, ins))
        previous = current
    best_end = min(range(len(text) + 1), key=lambda j: (previous[j][0], -j))
    distance, start = previous[best_end]
    if distance > limit or best_end - start < len(label) - limit:
        return None
    return start, best_end, distance


def _shadowed(text: str, start: int, end: int, label: str, others: tuple[str, ...]) -> bool:
    """True when the hit is part of a longer label of another field (交款人 in 交款人统一社会信用代码)."""
    for other in others:
        longer = normal(other)
        if len(longer) <= len(label) or normal(label) not in longer:
            continue
        index = text.find(longer)
        if index >= 0 and index <= start < index + len(longer):
            return True
    return False


def find_label(
    lines: list[OcrLine], labels: tuple[str, ...], others: tuple[str, ...] = ()
) -> Hit | None:
    """First line (reading order) holding any of `labels`; exact matches beat fuzzy ones.

    `others` are the other fields' labels: a hit inside a longer one of them does not count.
    """
    best: Hit | None = None
    for index, line in enumerate(lines):
        text = normal(line.text)
        for label in labels:
            found = find_in_line(normal(label), text)
            if found is None or _shadowed(text, found[0], found[1], label, others):
                continue
            hit = Hit(index, found[0], found[1], found[2])
            if hit.distance == 0:
                return hit
            if best is None or hit.distance < best.distance:
                best = hit
    return best


def sub_box(line: OcrLine, start: int, end: int) -> BBox:
    """Approximate box of characters start..end of a line, by their share of its width."""
    length = max(len(normal(line.text)), 1)
    box = line.bbox
    return BBox(
        x0=box.x0 + box.width * start / length,
        y0=box.y0,
        x1=box.x0 + box.width * min(end, length) / length,
        y1=box.y1,
    )


def cut_at_labels(text: str, labels: tuple[str, ...], own: tuple[str, ...]) -> str:
    """Cut `text` where another field's label starts (OCR merges neighbouring cells)."""
    cut = len(text)
    for label in labels:
        if label in own or len(label) < 2:
            continue
        index = normal(text).find(normal(label))
        if 0 < index < cut:
            cut = index
    return text[:cut].rstrip(SEPARATORS)


def same_row(a: BBox, b: BBox) -> bool:
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    return overlap > 0.5 * min(a.height, b.height)


def below(lines: list[OcrLine], index: int, max_gap_lines: float = 2.5) -> int | None:
    """The nearest line under line `index` that overlaps it horizontally."""
    anchor = lines[index].bbox
    candidates = []
    for i, line in enumerate(lines):
        box = line.bbox
        gap = box.y0 - anchor.y1
        overlap = min(anchor.x1, box.x1) - max(anchor.x0, box.x0)
        if (
            i != index
            and -0.2 * anchor.height < gap < max_gap_lines * anchor.height
            and overlap > 0
        ):
            candidates.append((gap, i))
    return min(candidates)[1] if candidates else None
