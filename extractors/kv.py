"""Key-value extraction driven by a form file: label, then value beside or below it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from extractors.forms import FieldSpec, FormSpec, Placement, all_labels
from extractors.layout import (
    Hit,
    Span,
    below,
    cut_at_labels,
    find_label,
    normal,
    right_of,
    same_row,
    strip_separators,
    sub_box,
)
from extractors.values import Parsed, Rejected, parse_value
from pipeline.models import BBox, OcrLine
from pipeline.records import ExtractedField

LABEL_FUZZY_PENALTY = 0.9


@dataclass(frozen=True, slots=True)
class PageLines:
    """The lines of one page (or one region of a page) of a document."""

    page: int
    lines: list[OcrLine]


def extract_fields(
    form: FormSpec, pages: list[PageLines]
) -> tuple[dict[str, ExtractedField[Any]], dict[str, str]]:
    """Every field of `form` found on `pages`, and a reason for each one that was not."""
    found: dict[str, ExtractedField[Any]] = {}
    missing: dict[str, str] = {}
    labels = all_labels(form)
    for key, spec in form.fields.items():
        result = _extract_one(spec, pages, labels)
        if isinstance(result, str):
            missing[key] = result
        else:
            found[key] = result
    return found, missing


def _extract_one(
    spec: FieldSpec, pages: list[PageLines], labels: tuple[str, ...]
) -> ExtractedField[Any] | str:
    reason = f"label {'/'.join(spec.labels)} not found"
    for page in pages:
        hit = find_label(page.lines, spec.labels, labels)
        if hit is None:
            continue
        for span in _candidates(spec, page.lines, hit, labels):
            parsed = parse_value(spec.kind, span.text, spec.pattern)
            if isinstance(parsed, Rejected):
                reason = parsed.reason
                continue
            return _field(parsed, span, hit, page.page)
    return reason


def _field(parsed: Parsed, span: Span, hit: Hit, page: int) -> ExtractedField[Any]:
    confidence = span.confidence * parsed.fit
    if hit.distance:
        confidence *= LABEL_FUZZY_PENALTY
    return ExtractedField(
        value=parsed.value,
        confidence=round(min(1.0, confidence), 4),
        page=page,
        bbox=span.bbox,
        raw=span.text,
        note=parsed.note,
    )


def _candidates(
    spec: FieldSpec, lines: list[OcrLine], hit: Hit, labels: tuple[str, ...]
) -> list[Span]:
    """Value candidates in the order the form says values are placed."""
    own = spec.labels
    spans: list[Span] = []
    for placement in spec.placement:
        if placement is Placement.SAME_LINE:
            span = _rest_of_line(lines[hit.line], hit, labels, own)
        elif placement is Placement.RIGHT:
            index = right_of(lines, hit.line)
            span = _whole_line(lines, index, labels, own)
        else:
            index = below(lines, hit.line)
            span = _whole_line(lines, index, labels, own)
        if span is not None and span.text:
            if spec.multiline:
                span = _continue_below(lines, span, labels, own)
            spans.append(span)
    return spans


def _rest_of_line(
    line: OcrLine, hit: Hit, labels: tuple[str, ...], own: tuple[str, ...]
) -> Span | None:
    text = normal(line.text)
    tail = text[hit.end :]
    stamp = re.match(r"^[(（]?章[)）]?", tail)  # 收款单位（章）read without one bracket
    offset = stamp.end() if stamp else 0
    rest, skipped = strip_separators(tail[offset:])
    skipped += offset
    value = cut_at_labels(rest, labels, own)
    if not value:
        return None
    start = hit.end + skipped
    return Span(value, -1, line.confidence, sub_box(line, start, start + len(value)))


def _whole_line(
    lines: list[OcrLine], index: int | None, labels: tuple[str, ...], own: tuple[str, ...]
) -> Span | None:
    if index is None:
        return None
    line = lines[index]
    text, skipped = strip_separators(normal(line.text))
    value = cut_at_labels(text, labels, own)
    if not value or any(normal(label) == value for label in labels):
        return None
    return Span(value, index, line.confidence, sub_box(line, skipped, skipped + len(value)))


def _continue_below(
    lines: list[OcrLine], span: Span, labels: tuple[str, ...], own: tuple[str, ...]
) -> Span:
    """Append continuation lines (a long address wraps under itself, left-aligned)."""
    text, box, confidence = span.text, span.bbox, span.confidence
    current = _line_index_of(lines, box)
    for _ in range(3):
        if current is None:
            break
        nxt = below(lines, current, max_gap_lines=1.2)
        if nxt is None:
            break
        candidate = normal(lines[nxt].text)
        if abs(lines[nxt].bbox.x0 - box.x0) > 0.06 or _row_has_label(lines, nxt, labels):
            break
        text += cut_at_labels(candidate, labels, own)
        box = BBox.union([box, lines[nxt].bbox])
        confidence = min(confidence, lines[nxt].confidence)
        current = nxt
    return Span(text, span.line, confidence, box)


def _row_has_label(lines: list[OcrLine], index: int, labels: tuple[str, ...]) -> bool:
    """The line, or a line beside it on its row, carries a label: it is another field."""
    target = lines[index].bbox
    row = [ln for ln in lines if ln is lines[index] or same_row(ln.bbox, target)]
    return find_label(row, labels) is not None


def _line_index_of(lines: list[OcrLine], box: BBox) -> int | None:
    for i, line in enumerate(lines):
        if line.bbox.y0 <= box.cy <= line.bbox.y1 and line.bbox.x0 <= box.cx <= line.bbox.x1:
            return i
    return None
