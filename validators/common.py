"""Small helpers shared by the checks: reading field values and building issues."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from pipeline.bundle import ClaimBundle, IssueCode, Severity, ValidationIssue
from pipeline.normalize import ID_MASK
from pipeline.records import DocType, Document, ExtractedField


def field_of(document: Document, key: str) -> ExtractedField[Any] | None:
    return document.fields.get(key)


def value_of(document: Document, key: str) -> Any:
    found = document.fields.get(key)
    return found.value if found is not None else None


def issue(
    code: IssueCode,
    message: str,
    documents: list[Document] | None = None,
    key: str | None = None,
    severity: Severity = Severity.ERROR,
) -> ValidationIssue:
    """An issue pointing at the first document's field box, when there is one."""
    documents = documents or []
    located = field_of(documents[0], key) if documents and key else None
    return ValidationIssue(
        code=code,
        severity=severity,
        message=message,
        doc_ids=[d.id for d in documents],
        field=key,
        page=located.page if located else (documents[0].pages[0] if documents else None),
        bbox=located.bbox if located else None,
    )


def patient_id_cards(bundle: ClaimBundle) -> list[Document]:
    return [d for d in bundle.documents if d.doc_type is DocType.ID_CARD]


def treatment_period(bundle: ClaimBundle) -> tuple[date | None, date | None]:
    """Admission and discharge (or visit) dates, from invoices first, then other documents."""
    starts: list[date] = []
    ends: list[date] = []
    for doc_type in (DocType.MEDICAL_INVOICE, DocType.DISCHARGE_SUMMARY, DocType.EXPENSE_LIST):
        for document in bundle.of_type(doc_type.value):
            start = value_of(document, "admission_date")
            end = value_of(document, "discharge_date")
            if isinstance(start, date):
                starts.append(start)
            if isinstance(end, date):
                ends.append(end)
        if starts or ends:
            break
    if not starts:
        starts = [
            d
            for doc in bundle.of_type(DocType.MEDICAL_INVOICE.value)
            if isinstance(d := value_of(doc, "issue_date"), date)
        ]
    start = min(starts) if starts else None
    end = max(ends) if ends else start
    return start, end


def money(value: Any) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def region_of_hospital(name: str, known: dict[str, str]) -> str | None:
    """Where a hospital is: the operator's table first, then the city its name starts with."""
    if name in known:
        return known[name]
    for suffix in ("市", "州", "盟", "地区"):
        index = name.find(suffix)
        if 1 <= index <= 6:
            return name[: index + len(suffix)]
    return None


def same_region(a: str, b: str) -> bool:
    """上海, 上海市 and 浙江省杭州市/杭州市 name one region each: compare without the
    province before a city and without the administrative suffix."""

    def stem(text: str) -> str:
        province = re.match(r"^.{2,7}?(?:省|自治区)(?=.{2,})", text)
        if province and re.search("(?:市|自治州|地区|盟)$", text):
            text = text[province.end() :]
        for suffix in ("自治州", "地区", "省", "市", "州", "盟"):
            if text.endswith(suffix):
                return text[: -len(suffix)]
        return text

    return stem(a) == stem(b)


def ids_agree(a: str, b: str) -> bool:
    """Two printings of one person's value agree: equal, or, where one is masked as the national
    app prints an ID number (`3706**********1234`), equal in every character both show."""
    if a == b:
        return True
    if len(a) != len(b) or ID_MASK not in a + b:
        return False
    shown = [(x, y) for x, y in zip(a, b, strict=True) if ID_MASK not in (x, y)]
    return bool(shown) and all(x == y for x, y in shown)
