"""From pages of lines to typed documents: segment, classify, extract, score."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from extractors.arithmetic import reconcile_invoice
from extractors.kv import PageLines, extract_fields
from extractors.layout import normal
from extractors.segment import Segment, Unit, segment_files
from extractors.tables import group_rows, read_expense_table, read_invoice_items
from pipeline.models import BBox, OcrLine, Page, PageQuality, QualityFlag, ReadResult
from pipeline.normalize import id_birth_date, id_checksum_valid, id_sex, parse_date
from pipeline.records import RECORD_TYPES, DocType, Document, ExtractedField, number_pages

HOSPITAL = re.compile(r"[\u3400-\u9fff（）()]{2,30}?(?:医院|卫生院|医疗中心|卫生服务中心)")
SEAL_TEXT = ("专用章", "公章", "病案章")
FALLBACK_FIT = 0.95  # a hospital name printed in the title, without its label
UNLABELLED_FIT = 0.8  # a value found by its shape alone
TIMESTAMP = re.compile(r"(20\d{2})[^\d:]{0,2}(\d{1,2})[^\d:]{0,2}(\d{1,2})[^\d:]{0,3}\d{1,2}:\d{2}")


def extract_documents(result: ReadResult) -> list[Document]:
    """Every document in one read file, in page order."""
    return extract_claim_documents([result])


def extract_claim_documents(results: list[ReadResult]) -> list[Document]:
    """Every document in a claim's read files, in upload order. A multi-page document that
    runs on from the last page of one file onto the first of the next (an expense list
    photographed page by page) is one document, listed under its first file."""
    pages = {(r.file, page.index): page for r in results for page in r.pages}
    segments = segment_files([(r.file, r.pages) for r in results])
    numbers: dict[str, int] = {}
    documents = []
    for segment in segments:
        stem = Path(segment.file).name
        numbers[stem] = numbers.get(stem, 0) + 1
        documents.append(_document(f"{stem}#{numbers[stem]}", segment, pages))
    return documents


def _document(doc_id: str, segment: Segment, pages: dict[tuple[str, int], Page]) -> Document:
    doc_type = segment.doc_type
    quality = _worst_quality([pages[(u.file, u.page)].quality for u in segment.units])
    region = segment.units[0].region if len(segment.units) == 1 else None
    document = Document(
        id=doc_id,
        file=segment.file,
        pages=segment.pages,
        doc_type=doc_type,
        doc_type_confidence=segment.confidence,
        region=region,
        quality=quality,
        continued=segment.continued(),
        form=_variant(segment),
    )
    if doc_type is DocType.OTHER:
        return document  # never invent fields for a page that is not a claim document
    fields, missing = _fields(segment, pages)
    record_type = RECORD_TYPES[doc_type]
    known = {k: v for k, v in fields.items() if k in record_type.model_fields}
    document.record = record_type.model_construct(set(known), **known)
    document.missing = {k: v for k, v in missing.items() if k not in known}
    return document


TITLE_SHARE = 0.25  # a form's title stands in the top quarter of its first page's print


def _variant(segment: Segment) -> str:
    """Which printed version of its form family the document is, told by its title."""
    form = segment.units[0].classification.form
    if form is None or not form.variants:
        return ""
    lines = segment.units[0].lines
    if not lines:
        return ""
    first, last = min(ln.bbox.y0 for ln in lines), max(ln.bbox.y1 for ln in lines)
    top = [ln for ln in lines if ln.bbox.cy < first + TITLE_SHARE * (last - first)]
    title = "".join(normal(ln.text) for ln in top)
    return next(
        (name for name, words in form.variants.items() if any(normal(w) in title for w in words)),
        "",
    )


def _fields(
    segment: Segment, pages: dict[tuple[str, int], Page]
) -> tuple[dict[str, ExtractedField[Any]], dict[str, str]]:
    fields: dict[str, ExtractedField[Any]] = {}
    missing: dict[str, str] = {}
    alternatives: dict[str, list[ExtractedField[Any]]] = {}
    numbered = _document_pages(segment)
    for page, unit in numbered:
        form = unit.classification.form
        if form is None:
            continue
        result = extract_fields(form, [PageLines(page, unit.lines)])
        for key, value in result.found.items():
            fields.setdefault(key, value)
        for key, reason in result.missing.items():
            missing.setdefault(key, reason)
        for key, found in result.alternatives.items():
            alternatives.setdefault(key, []).extend(found)
    all_lines = [(page, u.lines) for page, u in numbered]
    if segment.doc_type is DocType.MEDICAL_INVOICE:
        _invoice_items(segment.units, fields, missing)
    if segment.doc_type is DocType.EXPENSE_LIST:
        _expense_table(all_lines, fields, missing)
    if "hospital_name" in RECORD_TYPES[segment.doc_type].model_fields:
        _hospital_fallback(segment.units, fields)
    if "has_seal" in RECORD_TYPES[segment.doc_type].model_fields:
        seal = _seal(segment.units, pages)
        if seal is None:
            missing["has_seal"] = (
                "a grey copy shows no red and no seal rim was seen: look for the seal"
            )
        else:
            fields["has_seal"] = seal
    if segment.doc_type is DocType.ID_CARD:
        _from_id_number(fields)
    if segment.doc_type is DocType.MEDICAL_INVOICE:
        if "issue_date" not in fields:
            _printed_timestamp(segment.units, fields)
        reconcile_invoice(fields, alternatives, [ln for u in segment.units for ln in u.lines])
        for key in fields:
            missing.pop(key, None)
    return fields, missing


DERIVED_CAP = 0.9  # a value the ID number gives is as sure as the number, at most this


def _from_id_number(fields: dict[str, ExtractedField[Any]]) -> None:
    """Sex and birth date the card's OCR missed (a lone 女 is easily lost) are fixed by its
    valid ID number (GB 11643): taken from it, with a note saying so."""
    number = fields.get("id_number")
    if number is None or not isinstance(number.value, str) or not id_checksum_valid(number.value):
        return
    derived: dict[str, Any] = {
        "sex": id_sex(number.value),
        "birth_date": id_birth_date(number.value),
    }
    for key, value in derived.items():
        if key not in fields and value is not None:
            fields[key] = ExtractedField(
                value=value,
                confidence=min(number.confidence, DERIVED_CAP),
                page=number.page,
                bbox=number.bbox,
                raw=number.raw,
                note="not read on the card; from the ID number",
            )


def _document_pages(segment: Segment) -> list[tuple[int, Unit]]:
    """Each unit with its page number in the document: a continuation file's pages count on
    after the last page of the file before (so each page keeps its own 本页小计)."""
    parts = [(segment.file, segment.pages), *segment.continued().items()]
    number = {(name, page): n for name, page, n in number_pages(parts)}
    return [(number[(unit.file, unit.page)], unit) for unit in segment.units]


def _invoice_items(
    units: list[Unit], fields: dict[str, ExtractedField[Any]], missing: dict[str, str]
) -> None:
    unit = units[0]
    items, box, confidence = read_invoice_items(unit.lines)
    if not items:
        missing["items"] = "no item rows found under the 项目名称 header"
        return
    fields["items"] = ExtractedField(
        value=items,
        confidence=round(confidence, 4),
        page=unit.page,
        bbox=box,
        raw=f"{len(items)} items",
    )


def _expense_table(
    pages: list[tuple[int, list[OcrLine]]],
    fields: dict[str, ExtractedField[Any]],
    missing: dict[str, str],
) -> None:
    table = read_expense_table(pages)
    if not table.lines:
        missing["lines"] = "no table header (项目名称 … 金额) found"
        return
    first_page = table.line_boxes[0][0]
    fields["lines"] = ExtractedField(
        value=table.lines,
        confidence=round(table.confidence, 4),
        page=first_page,
        bbox=BBox.union([b for p, b in table.line_boxes if p == first_page]),
        raw=f"{len(table.lines)} lines on {len({p for p, _ in table.line_boxes})} page(s)",
    )
    if table.page_totals:
        fields["page_totals"] = ExtractedField(
            value=[value for _, value, _, _ in table.page_totals],
            confidence=round(min(c for _, _, _, c in table.page_totals), 4),
            page=table.page_totals[0][0],
            bbox=table.page_totals[0][2],
            raw=" ".join(str(v) for _, v, _, _ in table.page_totals),
        )
    if table.grand_total is not None:
        page, value, box, confidence = table.grand_total
        lines_sum = sum((line.amount for line in table.lines), Decimal(0))
        agrees = lines_sum == value
        fields["total_amount"] = ExtractedField(
            value=value,
            confidence=round(confidence * (1.0 if agrees else 0.8), 4),
            page=page,
            bbox=box,
            raw=str(value),
            note=None if agrees else f"lines add up to {lines_sum}",
        )
    else:
        missing["total_amount"] = "no 合计 row found after the table"


def _hospital_fallback(units: list[Unit], fields: dict[str, ExtractedField[Any]]) -> None:
    """Hospitals print their name in the title or seal; take the first one seen."""
    if "hospital_name" in fields:
        return
    for unit in units:
        for line in unit.lines:
            text = normal(line.text)
            match = HOSPITAL.search(text)
            if match and not _labelled(text, match.start()):
                fields["hospital_name"] = ExtractedField(
                    value=match.group(),
                    confidence=round(line.confidence * FALLBACK_FIT, 4),
                    page=unit.page,
                    bbox=line.bbox,
                    raw=line.text,
                )
                return


def _printed_timestamp(units: list[Unit], fields: dict[str, ExtractedField[Any]]) -> None:
    """A receipt printer stamps the issue time without a label (`2020 08 20 08:34`): a date
    followed by a time on one row is the issue date, never trusted without a reviewer."""
    for unit in units:
        for row in group_rows(unit.lines):
            text = " ".join(cell.text for cell in row.cells)
            for match in TIMESTAMP.finditer(text):
                when = parse_date("-".join(match.group(1, 2, 3)))
                if when is not None:
                    fields["issue_date"] = ExtractedField(
                        value=when,
                        confidence=UNLABELLED_FIT,
                        page=unit.page,
                        bbox=row.bbox,
                        raw=match.group(),
                        note="a printed date and time with no label",
                    )
                    return


def _labelled(text: str, start: int) -> bool:
    """The name follows a `label：` on its line: it is that label's value, not a title."""
    return any(sep in text[:start] for sep in ":：")


def _seal(units: list[Unit], pages: dict[tuple[str, int], Page]) -> ExtractedField[Any] | None:
    """Whether the document bears a red seal (seen in colour, or its text read); None when
    nobody could tell: no colour to look at and no seal text."""
    seen = [pages[(u.file, u.page)].red_seal for u in units]
    text_hit = next(
        (ln for u in units for ln in u.lines if any(s in normal(ln.text) for s in SEAL_TEXT)), None
    )
    value = any(s is True for s in seen) or text_hit is not None
    if not value and all(s is None for s in seen):
        return None
    return ExtractedField(
        value=value,
        confidence=0.95,
        page=units[0].page,
        bbox=text_hit.bbox if text_hit else None,
        raw="red seal" if any(seen) else (text_hit.text if text_hit else ""),
    )


def _worst_quality(qualities: list[PageQuality]) -> PageQuality:
    """The document's quality is its worst page's, with every page's flags."""
    if not qualities:
        return PageQuality()
    worst = min(qualities, key=lambda q: q.blur if q.blur is not None else float("inf"))
    flags: list[QualityFlag] = []
    for quality in qualities:
        flags.extend(f for f in quality.flags if f not in flags)
    return worst.model_copy(update={"flags": flags})
