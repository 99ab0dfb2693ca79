"""Split a file's pages into documents: pages that belong together, regions that do not.

A bulk-scan PDF holds many documents: consecutive pages of one expense list are one
document, whether or not each page repeats the title (a page numbered 第2页, or a page of the
same patient's list before its 合计 row, continues it); a new ID card starts a new document,
and an ID card's front and back pages form one. The pages of a claim's files are segmented
as one run, so a list photographed page by page, one file a page, is one document too. A phone photo may hold several documents (both sides of an ID card on one
sheet, two receipts side by side): such a page is split into regions when its text falls
into separate clusters that each read as a titled claim document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors.classify import Classification, classify_lines, page_text
from extractors.forms import FormSpec
from extractors.kv import PageLines, extract_fields
from extractors.layout import normal
from extractors.tables import has_grand_total
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
PAGE_NUMBER = re.compile(r"第(\d{1,2})页|(\d{1,2})/\d{1,2}页|续页|(?<![\u3400-\u9fff])续表")


@dataclass(slots=True)
class Unit:
    """One page, or one region of a page, with its classification."""

    page: int
    lines: list[OcrLine]
    region: BBox | None
    classification: Classification
    file: str = ""


@dataclass(slots=True)
class Segment:
    """One document: the units (pages/regions) that make it up."""

    units: list[Unit] = field(default_factory=list)

    @property
    def doc_type(self) -> DocType:
        return self.units[0].classification.doc_type

    @property
    def file(self) -> str:
        return self.units[0].file

    @property
    def pages(self) -> list[int]:
        """Pages of the first file (the document's own file)."""
        return sorted({u.page for u in self.units if u.file == self.file})

    def continued(self) -> dict[str, list[int]]:
        """Pages in later files, for a document that runs on from one file into the next."""
        parts: dict[str, set[int]] = {}
        for unit in self.units:
            if unit.file != self.file:
                parts.setdefault(unit.file, set()).add(unit.page)
        return {name: sorted(pages) for name, pages in parts.items()}

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


def segment_pages(pages: list[Page], file: str = "") -> list[Segment]:
    """Documents found on `pages` of one file, in page order."""
    return segment_files([(file, pages)])


def segment_files(files: list[tuple[str, list[Page]]]) -> list[Segment]:
    """Documents found on the pages of several files, in order; a document may continue
    from the last page of one file onto the first page of the next."""
    units = [unit for name, pages in files for page in pages for unit in _page_units(page, name)]
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
    same_page = unit.file == last.file and unit.page == last.page
    if kind is DocType.OTHER or kind != segment.doc_type or (same_page and unit.region is None):
        return False
    if kind is DocType.ID_CARD:
        part = unit.classification.form.part if unit.classification.form else None
        return unit.file == last.file and part not in segment.parts()
    if kind in MULTI_PAGE_TYPES:
        next_page = unit.page == last.page + 1 if unit.file == last.file else unit.page == 0
        return next_page and _continued_page(segment, unit)
    return False


def _continued_page(segment: Segment, unit: Unit) -> bool:
    """A page without the form's title goes on with the document before it; a titled page
    does when it is numbered as a later page, or when it goes on with an expense list that
    has not reached its 合计 row — unless its patient or admission number differ."""
    if not has_title(unit.classification.form, unit.lines):
        return True
    if not _same_identity(segment, unit):
        return False
    if _page_number(unit.lines) > 1:
        return True
    return segment.doc_type is DocType.EXPENSE_LIST and not any(
        has_grand_total(u.lines) for u in segment.units
    )


def _page_number(lines: list[OcrLine]) -> int:
    """The page's printed number (第2页, 2/3页; 续页 counts as a later page), else 0."""
    for line in lines:
        match = PAGE_NUMBER.search(normal(line.text))
        if match:
            number = match.group(1) or match.group(2)
            return int(number) if number else 2
    return 0


def _same_identity(segment: Segment, unit: Unit) -> bool:
    """The form's identity fields (patient, admission number) read on both pages agree."""
    form = unit.classification.form
    if form is None or not form.identity:
        return True
    first = segment.units[0]
    ours = extract_fields(form, [PageLines(unit.page, unit.lines)]).found
    theirs = extract_fields(form, [PageLines(first.page, first.lines)]).found
    return all(
        ours[key].value == theirs[key].value
        for key in form.identity
        if key in ours and key in theirs
    )


def _page_units(page: Page, file: str = "") -> list[Unit]:
    whole = Unit(page.index, page.lines, None, classify_lines(page.lines), file)
    clusters = split_clusters(page.lines)
    if len(clusters) < 2:
        return [whole]
    units = []
    for lines in clusters:
        classification = classify_lines(lines)
        if classification.doc_type is DocType.OTHER:
            continue
        box = BBox.union([ln.bbox for ln in lines])
        units.append(Unit(page.index, lines, box, classification, file))
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
