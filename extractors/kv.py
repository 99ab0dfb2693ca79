"""Layout-aware key-value linking driven by a form file.

Every OCR line is cut into pieces: the labels it holds (the form's field labels, and the
other labels printed on that form family, which only stop a value) and the value text
between them. One line may hold several pairs (`现金支付：3836.73个人账户支付：`); a label and
its value may be separate lines (a value printed right of or below its cell, misaligned).
Each label proposes candidates: the text after it on its line, the first piece of the next
line on its row, the first piece of the line below it. A candidate's score is how plausible
its position is, times how well it parses as the field's kind, times the OCR confidence; the
best candidates are assigned over all fields at once, one value piece to one field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from extractors.forms import FieldSpec, FormSpec, Placement, ValueKind, all_labels
from extractors.layout import (
    SEPARATORS,
    Span,
    below,
    cut_at_labels,
    find_in_line,
    find_label,
    normal,
    same_row,
    sub_box,
)
from extractors.values import Parsed, Rejected, parse_value
from pipeline.models import BBox, OcrLine
from pipeline.records import ExtractedField

LABEL_FUZZY_PENALTY = 0.9
LABEL_RANK_DECAY = 0.99  # a form's first label for a field is its usual wording
GEOMETRY = {Placement.SAME_LINE: 1.0, Placement.RIGHT: 0.97, Placement.BELOW: 0.9}
FAR_RIGHT = 0.3  # of the page width: a value further than this right of its label is doubtful
RIGHT_EDGE = 0.015  # of the page width: lines ending this close are one right-aligned column
FLUSH_ROWS = 2  # other rows ending at the same right edge make a right-aligned value column
CUT_OVERLAP = 3  # characters a detector's cut may overlap its two parts by
SHARED_KINDS = {ValueKind.DATE_RANGE_START, ValueKind.DATE_RANGE_END}
SEAL_CAP = 0.8  # a value printed where the payee stamps its seal is read through red ink
RANGE_JOIN = re.compile(r"^[到至~～—-]\s*\d")


@dataclass(frozen=True, slots=True)
class PageLines:
    """The lines of one page (or one region of a page) of a document."""

    page: int
    lines: list[OcrLine]


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of one line's text: a label (with the fields it names) or value text."""

    line: int
    start: int
    end: int
    text: str
    fields: tuple[str, ...] | None  # None: value text; () a label of no field of this form
    distance: int = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    key: str
    score: float
    field: ExtractedField[Any]
    piece: tuple[int, int, int]  # page, line, start: one value piece serves one field


@dataclass(slots=True)
class KvResult:
    """Fields found, why the others were not, and every parsed alternative per field."""

    found: dict[str, ExtractedField[Any]]
    missing: dict[str, str]
    alternatives: dict[str, list[ExtractedField[Any]]]


def extract_fields(form: FormSpec, pages: list[PageLines]) -> KvResult:
    """Every field of `form` found on `pages`, and a reason for each one that was not."""
    index = _label_index(form)
    own_labels = all_labels(form)
    candidates: list[Candidate] = []
    reasons: dict[str, str] = {}
    for page in pages:
        pieces = [_pieces(normal(line.text), i, index) for i, line in enumerate(page.lines)]
        for line_pieces in pieces:
            for position, piece in enumerate(line_pieces):
                for key in piece.fields or ():
                    spec = form.fields[key]
                    found = _label_candidates(key, spec, page, pieces, piece, position, own_labels)
                    for item in found:
                        if isinstance(item, str):
                            reasons.setdefault(key, item)
                        else:
                            candidates.append(item)
    return _assign(form, candidates, reasons)


def _assign(form: FormSpec, candidates: list[Candidate], reasons: dict[str, str]) -> KvResult:
    found: dict[str, ExtractedField[Any]] = {}
    used: set[tuple[int, int, int]] = set()
    alternatives: dict[str, list[ExtractedField[Any]]] = {}
    for candidate in sorted(candidates, key=lambda c: -c.score):
        alternatives.setdefault(candidate.key, []).append(candidate.field)
        shared = form.fields[candidate.key].kind in SHARED_KINDS
        if candidate.key in found or (candidate.piece in used and not shared):
            continue
        found[candidate.key] = candidate.field
        if not shared:
            used.add(candidate.piece)
    missing = {
        key: reasons.get(key, f"label {'/'.join(spec.labels)} not found")
        for key, spec in form.fields.items()
        if key not in found
    }
    return KvResult(found, missing, alternatives)


LabelIndex = tuple[tuple[str, tuple[str, ...]], ...]
_INDEXES: dict[int, tuple[FormSpec, LabelIndex]] = {}


def _label_index(form: FormSpec) -> LabelIndex:
    """(normalised label, fields it names) for every printed label, longest first."""
    cached = _INDEXES.get(id(form))
    if cached is not None and cached[0] is form:
        return cached[1]
    names: dict[str, list[str]] = {}
    for key, spec in form.fields.items():
        for label in spec.labels:
            names.setdefault(normal(label), []).append(key)
    for label in form.other_labels:
        names.setdefault(normal(label), [])
    index = tuple(
        (text, tuple(keys)) for text, keys in sorted(names.items(), key=lambda kv: -len(kv[0]))
    )
    _INDEXES[id(form)] = (form, index)
    return index


def _pieces(text: str, line: int, index: LabelIndex) -> list[Piece]:
    """Cut one line into label pieces and the value text between them."""
    taken: list[tuple[int, int, tuple[str, ...], int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _, _ in taken)

    for label, keys in index:  # exact occurrences, longest label first
        if len(label) == 1:  # a lone character is a label only where a line starts
            if text.startswith(label) and free(0, 1):
                taken.append((0, 1, keys, 0))
            continue
        start = text.find(label)
        while start >= 0:
            if free(start, start + len(label)):
                taken.append((start, start + len(label), keys, 0))
            start = text.find(label, start + len(label))
    for label, keys in index:  # one misread character in a long label
        if len(label) < 4 or any(k == keys and text[s:e] == label for s, e, k, _ in taken):
            continue
        found = find_in_line(label, text)
        if found and found[2] > 0 and free(found[0], found[1]):
            taken.append((found[0], found[1], keys, found[2]))
    pieces: list[Piece] = []
    position = 0
    for start, end, keys, distance in sorted(taken):
        _add_value(pieces, text, line, position, start)
        pieces.append(Piece(line, start, end, text[start:end], keys, distance))
        position = end
    _add_value(pieces, text, line, position, len(text))
    return pieces


def _add_value(pieces: list[Piece], text: str, line: int, start: int, end: int) -> None:
    raw = text[start:end]
    stamp = re.match(r"^[(（]?章[)）]?", raw)  # 收款单位（章）read with a bracket lost
    if stamp:
        start += stamp.end()
        raw = raw[stamp.end() :]
    stripped = raw.lstrip(SEPARATORS)
    start += len(raw) - len(stripped)
    stripped = stripped.rstrip(SEPARATORS)
    if stripped:
        pieces.append(Piece(line, start, start + len(stripped), stripped, None))


def _label_candidates(
    key: str,
    spec: FieldSpec,
    page: PageLines,
    pieces: list[list[Piece]],
    label: Piece,
    position: int,
    own_labels: tuple[str, ...],
) -> list[Candidate | str]:
    lines = page.lines
    label_box = sub_box(lines[label.line], label.start, label.end)
    wording = [normal(text) for text in spec.labels]
    rank = wording.index(label.text) if label.text in wording else len(wording)
    factor = LABEL_RANK_DECAY**rank * (LABEL_FUZZY_PENALTY if label.distance else 1.0)
    out: list[Candidate | str] = []
    for placement in spec.placement:
        value = _value_piece(placement, lines, pieces, label, position, label_box)
        if value is None:
            continue
        piece, geometry = value
        line = lines[piece.line]
        span = Span(piece.text, piece.line, line.confidence, sub_box(line, piece.start, piece.end))
        if spec.multiline:
            span = _continue_below(lines, span, own_labels, spec.labels)
        if spec.kind in SHARED_KINDS:
            span = _continue_range(lines, span)
        if spec.kind is ValueKind.ID_NUMBER:
            span = _continue_cut(lines, span)
        parsed = parse_value(spec.kind, span.text[: spec.max_chars], spec.pattern)
        if isinstance(parsed, Rejected):
            out.append(parsed.reason)
            continue
        score = span.confidence * parsed.fit * geometry * factor
        seal = SEAL_CAP if label.text in {normal(t) for t in spec.under_seal} else 1.0
        field = _field(parsed, span, page.page, min(score, seal))
        out.append(Candidate(key, score, field, (page.page, piece.line, piece.start)))
    return out


def _value_piece(
    placement: Placement,
    lines: list[OcrLine],
    pieces: list[list[Piece]],
    label: Piece,
    position: int,
    label_box: BBox,
) -> tuple[Piece, float] | None:
    """The value piece a label points to in one placement, with its geometry score."""
    own = pieces[label.line]
    if placement is Placement.SAME_LINE:
        nxt = own[position + 1] if position + 1 < len(own) else None
        return (nxt, GEOMETRY[placement]) if nxt is not None and nxt.fields is None else None
    if position + 1 < len(own) and own[position + 1].fields is None:
        return None  # the label has its value on its own line
    if placement is Placement.RIGHT:
        index = _right_line(lines, label.line, label_box)
        if index is None or not pieces[index] or pieces[index][0].fields is not None:
            return None
        gap = lines[index].bbox.x0 - label_box.x1
        doubtful = gap > FAR_RIGHT and not _flush_right(lines, index)
        return pieces[index][0], GEOMETRY[placement] * (0.9 if doubtful else 1.0)
    index = below(lines, label.line)
    if index is None or not pieces[index] or pieces[index][0].fields is not None:
        return None
    if not _left_aligned_or_overlapping(label_box, lines[index].bbox):
        return None
    return pieces[index][0], GEOMETRY[placement]


def _continue_range(lines: list[OcrLine], span: Span) -> Span:
    """A date range printed as two cells (`2021-04-23` | `到2021-04-24`) is one value."""
    nxt = _right_line(lines, span.line, span.bbox)
    if nxt is None or not RANGE_JOIN.match(normal(lines[nxt].text)):
        return span
    line = lines[nxt]
    return Span(
        span.text + normal(line.text),
        span.line,
        min(span.confidence, line.confidence),
        BBox.union([span.bbox, line.bbox]),
    )


def _continue_cut(lines: list[OcrLine], span: Span) -> Span:
    """An ID number the detector cut in two on its row (`370602*` | `2********7856`) is one
    value; characters of the right part that lie under the left part were read twice."""
    if isinstance(parse_value(ValueKind.ID_NUMBER, span.text), Parsed):
        return span
    width = span.bbox.width / max(len(span.text), 1)
    anchor = lines[span.line].bbox
    parts = [
        i
        for i, line in enumerate(lines)
        if i != span.line
        and same_row(anchor, line.bbox)
        and span.bbox.x1 - CUT_OVERLAP * width <= line.bbox.x0 <= span.bbox.x1 + width
        and line.bbox.x1 > span.bbox.x1
    ]
    if not parts:
        return span
    line = lines[min(parts, key=lambda i: lines[i].bbox.x0)]
    text = normal(line.text)
    step = line.bbox.width / max(len(text), 1)
    twice = max(0, round((span.bbox.x1 - line.bbox.x0) / step))
    return Span(
        span.text + text[twice:],
        span.line,
        min(span.confidence, line.confidence),
        BBox.union([span.bbox, line.bbox]),
    )


def _right_line(lines: list[OcrLine], index: int, label_box: BBox) -> int | None:
    """The nearest line to the right on the label's row; printed values drift up or down."""
    anchor = lines[index].bbox
    best: tuple[float, int] | None = None
    # detection boxes are padded: on a small image a value's box may start inside its
    # label's, so a quarter of the label may be overlapped, if the value's middle is clear of it
    overlap = max(0.01, 0.25 * (label_box.x1 - label_box.x0))
    for i, line in enumerate(lines):
        box = line.bbox
        if i == index or box.x0 < label_box.x1 - overlap or box.cx <= label_box.x1:
            continue
        drift = abs(box.cy - anchor.cy)
        if not (same_row(anchor, box) or drift < 0.6 * max(anchor.height, box.height)):
            continue
        if best is None or box.x0 < best[0]:
            best = (box.x0, i)
    return best[1] if best else None


def _flush_right(lines: list[OcrLine], index: int) -> bool:
    """The line ends a row in a right-aligned value column, as a phone app lists
    `label ........ value`: nothing right of it, and other rows' lines end where it ends."""
    box = lines[index].bbox
    aligned = 0
    for i, line in enumerate(lines):
        if i == index:
            continue
        if same_row(box, line.bbox):
            if line.bbox.x0 > box.x1:
                return False
            continue
        aligned += abs(line.bbox.x1 - box.x1) < RIGHT_EDGE
    return aligned >= FLUSH_ROWS


def _left_aligned_or_overlapping(label: BBox, value: BBox) -> bool:
    overlap = min(label.x1, value.x1) - max(label.x0, value.x0)
    return overlap > 0 or abs(value.x0 - label.x0) < 0.05


def _field(parsed: Parsed, span: Span, page: int, confidence: float) -> ExtractedField[Any]:
    return ExtractedField(
        value=parsed.value,
        confidence=round(confidence, 4),
        page=page,
        bbox=span.bbox,
        raw=span.text,
        note=parsed.note,
    )


def _continue_below(
    lines: list[OcrLine], span: Span, labels: tuple[str, ...], own: tuple[str, ...]
) -> Span:
    """Append continuation lines (a long address wraps under itself, left-aligned).

    The OCR's line confidence is its characters' mean; the joined value's is the mean over
    all its characters, as if it had been printed on one line (a short `04室` read at 0.86
    does not make a 29-character address doubtful)."""
    text, box = span.text, span.bbox
    weighted = span.confidence * len(span.text)
    current: int | None = span.line
    for _ in range(3):
        if current is None:
            break
        nxt = below(lines, current, max_gap_lines=1.2)
        if nxt is None:
            break
        candidate = normal(lines[nxt].text)
        row = [ln for ln in lines if ln is lines[nxt] or same_row(ln.bbox, lines[nxt].bbox)]
        if abs(lines[nxt].bbox.x0 - box.x0) > 0.06 or find_label(row, labels) is not None:
            break
        more = cut_at_labels(candidate, labels, own)
        text += more
        box = BBox.union([box, lines[nxt].bbox])
        weighted += lines[nxt].confidence * len(more)
        current = nxt
    return Span(text, span.line, weighted / len(text) if text else span.confidence, box)
