"""Reviewer corrections applied to stored documents (flows/review.py), without OCR."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from conftest import SAMPLE_DOCS

from extractors.extract import extract_documents
from flows.review import (
    CorrectionError,
    apply_correction,
    check_field_value,
    field_text,
    parse_field_value,
    parse_table_value,
)
from infra.store import CorrectionRow
from pipeline.models import QualityFlag
from pipeline.reader import read_file
from pipeline.records import DocType, Document

PDFS = sorted((SAMPLE_DOCS / "documents" / "pdf").glob("*.pdf"))


def _documents(name: str) -> list[Document]:
    return extract_documents(read_file(SAMPLE_DOCS / "documents" / "pdf" / name))


def _correction(doc_id: str, key: str, action: str, new: Any) -> CorrectionRow:
    return CorrectionRow(
        id=1, claim_id="C", doc_id=doc_id, key=key, action=action, new_value=new, reviewer="rita"
    )


@pytest.mark.parametrize("pdf", PDFS, ids=[p.name for p in PDFS])
def test_a_stored_document_is_rebuilt_with_the_same_values_and_boxes(pdf: Any) -> None:
    for document in extract_documents(read_file(pdf)):
        stored = document.as_json()
        rebuilt = Document.from_json(stored)
        assert rebuilt.as_json() == stored
        assert type(rebuilt.record) is type(document.record)


def test_an_edit_replaces_the_value_keeps_the_box_and_notes_the_reviewer() -> None:
    documents = _documents("invoice_outpatient_02.pdf")
    invoice = documents[0]
    before = invoice.fields["total_amount"]
    apply_correction(documents, _correction(invoice.id, "total_amount", "edit", "1234.50"))
    after = documents[0].fields["total_amount"]
    assert after.value == Decimal("1234.50") and after.confidence == 1.0
    assert after.bbox == before.bbox and after.page == before.page
    assert after.note == "corrected by rita"


def test_a_date_edit_is_parsed_into_a_date() -> None:
    assert parse_field_value(DocType.MEDICAL_INVOICE, "issue_date", " 2026-03-01 ") == date(
        2026, 3, 1
    )


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("issue_date", "2026-13-45", "dates are written 2026-03-01"),
        ("total_amount", "twelve", "amounts 1234.56"),
        ("birth_date", "2026-03-01", "has no field 'birth_date'"),
    ],
)
def test_a_value_that_does_not_fit_the_field_is_refused_with_a_hint(
    key: str, text: str, message: str
) -> None:
    with pytest.raises(CorrectionError, match=message):
        parse_field_value(DocType.MEDICAL_INVOICE, key, text)


def test_changing_the_type_keeps_only_the_fields_the_new_type_has() -> None:
    documents = _documents("discharge_summary_02.pdf")
    summary = documents[0]
    assert "diagnosis" in summary.fields
    apply_correction(documents, _correction(summary.id, "", "doc_type", "emergency_certificate"))
    assert documents[0].doc_type is DocType.EMERGENCY_CERTIFICATE
    assert documents[0].doc_type_confidence == 1.0
    assert set(documents[0].fields) <= {"patient_name", "hospital_name", "visit_date", "diagnosis"}
    assert "diagnosis" in documents[0].fields


def test_a_page_marked_unreadable_asks_for_a_new_photo() -> None:
    documents = _documents("discharge_summary_02.pdf")
    apply_correction(documents, _correction(documents[0].id, "", "unreadable", None))
    assert QualityFlag.MARKED_UNREADABLE in documents[0].quality.flags
    assert not documents[0].quality.usable


def test_a_table_edit_replaces_the_rows_and_blank_rows_are_dropped() -> None:
    documents = _documents("expense_list_02.pdf")
    listing = documents[0]
    rows = [
        {"name": "床位费", "category": "甲", "amount": "120.00", "page": "0"},
        {"name": "", "amount": ""},
        {"name": "检查费", "category": "乙", "quantity": "2", "unit_price": "40", "amount": "80"},
    ]
    apply_correction(documents, _correction(listing.id, "lines", "edit", rows))
    lines = documents[0].fields["lines"]
    assert [line.name for line in lines.value] == ["床位费", "检查费"]
    assert lines.value[1].amount == Decimal("80") and lines.confidence == 1.0
    with pytest.raises(CorrectionError) as refused:
        parse_table_value(DocType.EXPENSE_LIST, "lines", [{"name": "床位费", "amount": "many"}])
    assert refused.value.kind == "table_row"


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("payer_id_number", "3301021990010112311", "id_checksum"),
        ("payer_id_number", "330102199001011232", "id_checksum"),
        ("invoice_code", "12AB", "format"),
        ("issue_date", date(2999, 1, 1), "future_date"),
        ("total_amount", Decimal("-1.00"), "negative"),
    ],
)
def test_a_value_that_fails_its_own_check_is_refused(key: str, value: Any, kind: str) -> None:
    invoice = _documents("invoice_outpatient_02.pdf")[0]
    with pytest.raises(CorrectionError) as refused:
        check_field_value(invoice, key, value)
    assert refused.value.kind == kind and refused.value.field == key
    check_field_value(invoice, "payer_id_number", "330102199001011234")  # a valid one passes


def test_a_masked_id_number_is_a_valid_correction_on_a_filing_record_only() -> None:
    invoice = _documents("invoice_outpatient_02.pdf")[0]
    filing = invoice.model_copy(update={"doc_type": DocType.FILING_RECORD})
    check_field_value(filing, "id_number", "3706**********1234")
    with pytest.raises(CorrectionError):
        check_field_value(invoice, "payer_id_number", "3706**********1234")


@pytest.mark.parametrize(
    ("doc_type", "key", "column", "picked", "written"),
    [
        (DocType.MEDICAL_INVOICE, "total_amount", "", "(小写)¥1,234.5", "1234.50"),
        (DocType.MEDICAL_INVOICE, "total_amount_words", "", "壹仟贰佰叁拾肆元伍角", "1234.50"),
        (DocType.MEDICAL_INVOICE, "issue_date", "", "2026年3月1日", "2026-03-01"),
        (DocType.MEDICAL_INVOICE, "payer_name", "", "姓名：张三", "张三"),
        (
            DocType.MEDICAL_INVOICE,
            "payer_id_number",
            "",
            "37060219900101123x",
            "37060219900101123X",
        ),
        (DocType.ID_CARD, "sex", "", "性别女", "女"),
        (DocType.EXPENSE_LIST, "lines", "amount", "￥12", "12.00"),
        (DocType.EXPENSE_LIST, "lines", "quantity", "3.0", "3.0"),
        (DocType.EXPENSE_LIST, "lines", "name", "青霉素", "青霉素"),
        (DocType.MEDICAL_INVOICE, "total_amount", "", "合计", "合计"),
    ],
)
def test_a_word_picked_on_the_page_is_written_as_the_field_editor_accepts_it(
    doc_type: DocType, key: str, column: str, picked: str, written: str
) -> None:
    assert field_text(doc_type, key, picked, column) == written
    if not column and written != picked:
        parse_field_value(doc_type, key, written)  # saving it is not refused for its form
