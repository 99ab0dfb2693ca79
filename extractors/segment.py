"""Split a file's pages into documents: pages that belong together, regions that do not.

A bulk-scan PDF holds many documents: consecutive pages of one expense list (no new title)
are one document; a new ID card starts a new document, and an ID card's front and back
pages form one. A phone photo may hold several documents (both sides of an ID card on one
sheet, two receipts side by side): such a page is split into regions when its text falls
into separate clusters that each read as a titled claim document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.classify import Classification, classify_lines, page_text
from extractors.forms import FormSpec
from pipeline.models import BBox, OcrLine, Page
from pipeline.records import DocType

MULTI_PAGE_TYPES = {
    DocType.EXPENSE_LIST,
    DocType.DISCHARGE_SUMMARY,
    DocType.REFERRAL_FORM,
    DocType.FILING_RECORD,
    DocType.EMPLOYMENT_PROOF,
    DocType.PRESCRIPTION_OR_REPORT,
}
TITLE_WEIGHT = 5.0  # a keyword this strong is a form's title: it starts a new document


@dataclass(slots=True)
class Unit:
    """One page, or one region of a page, with its classification."""

    page: int
    lines: list[OcrLine]
    region: BBox | None
    classification: Classification


@dataclass(slots=True)
class Segment:
    """One document: the units (pages/regions) that make it up."""

    units: list[Unit] = field(default_factory=list)

    @property
    def doc_type(self) -> DocType:
        return self.units[0].classification.doc_type

    @property
    def pages(self) -> list[int]:
        return sorted({u.page for u in self.units})

    @property
    def confidence(self) -> float:
        return min(u.classification.confidence for u in self.units)

    def parts(self) -> set[str | None]:
        return {u.classification.form.part if u.classification.form else None for u in self.units}


def has_title(form: FormSpec | None, lines: list[OcrLine]) -> bool:
    """The form's strongest keyword (its title, e.g. 费用明细清单) is on these lines."""
    if form is None:
        return False
    text = page_text(lines)
    strongest = max(form.classify.keywords.values())
    return any(
        w >= min(TITLE_WEIGHT, strongest) and k in text for k, w in form.classify.keywords.items()
    )


def segment_pages(pages: list[Page]) -> list[Segment]:
    """Documents found on `pages`, in page order."""
    units = [unit for page in pages for unit in _page_units(page)]
    segments: list[Segment] = []
    for unit in units:
        if segments and _continues(segments[-1], unit):
            segments[-1].units.append(unit)
        else:
            segments.append(Segment([unit]))
    return segments


def _continues(segment: Segment, unit: Unit) -> bool:
    last = segment.units[-1]
    kind = unit.classification.doc_type
    if (
        kind is DocType.OTHER
        or kind != segment.doc_type
        or (unit.page == last.page and unit.region is None)
    ):
        return False
    if kind is DocType.ID_CARD:
        part = unit.classification.form.part if unit.classification.form else None
        return part not in segment.parts()
    if kind in MULTI_PAGE_TYPES:
        return unit.page == last.page + 1 and not has_title(unit.classification.form, unit.lines)
    return False


def _page_units(page: Page) -> list[Unit]:
    whole = Unit(page.index, page.lines, None, classify_lines(page.lines))
    clusters = split_clusters(page.lines)
    if len(clusters) < 2:
        return [whole]
    units = []
    for lines in clusters:
        classification = classify_lines(lines)
        if classification.doc_type is DocType.OTHER:
            continue
        units.append(Unit(page.index, lines, BBox.union([ln.bbox for ln in lines]), classification))
    if len(units) < 2 or not _distinct_documents(units):
        return [whole]
    return units


def _distinct_documents(units: list[Unit]) -> bool:
    """Regions are separate documents when their types differ or each carries its own title."""
    types = {u.classification.doc_type for u in units}
    if len(types) == len(units):
        return True
    parts = [u.classification.form.part if u.classification.form else None for u in units]
    if len(types) == 1 and None not in parts and len(set(parts)) == len(parts):
        return True  # front and back of one card
    return all(has_title(u.classification.form, u.lines) for u in units)


def split_clusters(lines: list[OcrLine], min_lines: int = 3) -> list[list[OcrLine]]:
    """Group lines into spatially separate clusters (connected components of nearness)."""
    if len(lines) < 2 * min_lines:
        return [lines]
    parent = list(range(len(lines)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(lines):
        for j in range(i + 1, len(lines)):
            if _near(a.bbox, lines[j].bbox):
                parent[find(i)] = find(j)
    groups: dict[int, list[OcrLine]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(find(i), []).append(line)
    clusters = [g for g in groups.values() if len(g) >= min_lines]
    return clusters if len(clusters) >= 2 else [lines]


def _near(a: BBox, b: BBox) -> bool:
    height = max(a.height, b.height)
    v_gap = max(a.y0, b.y0) - min(a.y1, b.y1)
    h_gap = max(a.x0, b.x0) - min(a.x1, b.x1)
    return v_gap < 2.0 * height and h_gap < 0.06
