"""The printed version of a form family is told by its title (fake reading, no engine)."""

from __future__ import annotations

from extractors.extract import extract_documents
from pipeline.models import BBox, OcrLine, Page, PageSource, ReadResult
from pipeline.records import DocType


def _receipt(title: str) -> ReadResult:
    rows = [
        (title, 0.30, 0.05, 0.70, 0.09),
        ("票据代码：37060121", 0.05, 0.15, 0.35, 0.18),
        ("票据号码：0012345678", 0.60, 0.15, 0.95, 0.18),
        ("交款人：张三", 0.05, 0.22, 0.30, 0.25),
        ("合计（大写）壹佰元整", 0.05, 0.60, 0.45, 0.63),
        ("（小写）100.00", 0.60, 0.60, 0.80, 0.63),
        ("收款单位（章）：烟台市中医医院", 0.05, 0.90, 0.50, 0.93),
    ]
    lines = [
        OcrLine(text=text, confidence=0.99, bbox=BBox(x0=x0, y0=y0, x1=x1, y1=y1))
        for text, x0, y0, x1, y1 in rows
    ]
    page = Page(index=0, width=2000, height=1200, source=PageSource.OCR, lines=lines)
    return ReadResult(file="receipt.jpg", media_type="image/jpeg", pages=[page])


def test_a_receipt_names_its_printed_version_from_its_title() -> None:
    expected = {
        "山东省医疗收费电子票据": "电子票据",
        "山东省医疗住院收费票据": "住院票据",
        "山东省医疗门(急)诊收费票据": "门诊票据",
    }
    for title, form in expected.items():
        (document,) = extract_documents(_receipt(title))
        assert document.doc_type is DocType.MEDICAL_INVOICE
        assert document.form == form
        assert document.as_json()["form"] == form


def test_a_document_of_a_family_without_versions_names_none() -> None:
    (document,) = extract_documents(_receipt("山东省医疗收费票据"))
    assert document.form == ""
    assert "form" not in document.as_json()  # results without a version keep their old shape
