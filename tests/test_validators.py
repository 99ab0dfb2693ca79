"""Each check on hand-built bundles: the right stable code, and the right status."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipeline.bundle import ClaimBundle, ClaimManifest, ClaimStatus, FileProblem, ManifestError
from pipeline.records import (
    RECORD_TYPES,
    DocType,
    Document,
    ExpenseLine,
    ExtractedField,
)
from validators.consistency import resolve_agent_cards
from validators.rules import RulesFileError, load_rules, rules_for_region
from validators.validate import validate

RULES = rules_for_region("烟台市")
PATIENT_ID = "370602198503071237"  # valid check digit, born 1985-03-07, male


def field(value: Any, confidence: float = 0.99) -> ExtractedField[Any]:
    return ExtractedField(value=value, confidence=confidence, page=0, raw=str(value))


def doc(doc_type: DocType, n: int = 1, **values: Any) -> Document:
    record = RECORD_TYPES[doc_type].model_construct(
        set(values),
        **{k: v if isinstance(v, ExtractedField) else field(v) for k, v in values.items()},
    )
    return Document(
        id=f"{doc_type.value}.jpg#{n}",
        file=f"{doc_type.value}.jpg",
        pages=[0],
        doc_type=doc_type,
        doc_type_confidence=0.99,
        record=record,
    )


def manifest(**overrides: Any) -> ClaimManifest:
    data: dict[str, Any] = {
        "claim_id": "C-T-1",
        "claim_type": "referral",
        "care_type": "inpatient",
        "insured_region": "烟台市",
        "treatment_region": "上海市",
        "submitted_on": "2026-03-20",
        "by_agent": False,
        "paid_this_year": "0.00",
    }
    data.update(overrides)
    return ClaimManifest.model_validate(data)


def complete_documents() -> list[Document]:
    lines = [
        ExpenseLine(name="头孢呋辛酯片", category="甲", amount=Decimal("120.50"), page=0),
        ExpenseLine(name="一次性输液器", category="乙", amount=Decimal("80.00"), page=0),
    ]
    return [
        doc(
            DocType.ID_CARD,
            name="张三",
            sex="男",
            birth_date=date(1985, 3, 7),
            id_number=PATIENT_ID,
            valid_until="长期",
        ),
        doc(
            DocType.MEDICAL_INVOICE,
            invoice_code="37060126",
            invoice_number="0012345678",
            payer_name="张三",
            payer_id_number=PATIENT_ID,
            hospital_name="上海市第六人民医院",
            issue_date=date(2026, 3, 9),
            admission_date=date(2026, 3, 1),
            discharge_date=date(2026, 3, 9),
            total_amount=Decimal("200.50"),
            total_amount_words=Decimal("200.50"),
            fund_payment=Decimal("100.00"),
            account_payment=Decimal("20.00"),
            other_payment=Decimal("0.00"),
            cash_payment=Decimal("80.50"),
        ),
        doc(
            DocType.EXPENSE_LIST,
            patient_name="张三",
            lines=lines,
            page_totals=[Decimal("200.50")],
            total_amount=Decimal("200.50"),
        ),
        doc(
            DocType.DISCHARGE_SUMMARY,
            patient_name="张三",
            admission_date=date(2026, 3, 1),
            discharge_date=date(2026, 3, 9),
        ),
        doc(
            DocType.REFERRAL_FORM,
            patient_name="张三",
            id_number=PATIENT_ID,
            issue_date=date(2026, 2, 20),
        ),
    ]


def run(documents: list[Document], **overrides: Any) -> tuple[ClaimStatus, set[str], list[str]]:
    bundle = ClaimBundle(manifest=manifest(**overrides), documents=documents)
    outcome = validate(bundle, RULES)
    return outcome.status, {i.code for i in outcome.issues}, outcome.missing_documents


def replace(documents: list[Document], doc_type: DocType, **values: Any) -> list[Document]:
    out = []
    for document in documents:
        if document.doc_type is doc_type:
            current = {k: f.value for k, f in document.fields.items()}
            current.update(values)
            document = doc(doc_type, **current)
        out.append(document)
    return out


def test_a_complete_claim_has_no_issues() -> None:
    assert run(complete_documents()) == (ClaimStatus.COMPLETE, set(), [])


def test_missing_discharge_summary_makes_the_claim_incomplete() -> None:
    documents = [d for d in complete_documents() if d.doc_type is not DocType.DISCHARGE_SUMMARY]
    status, codes, missing = run(documents)
    assert (status, codes, missing) == (
        ClaimStatus.INCOMPLETE,
        {"missing_document"},
        ["discharge_summary"],
    )


def test_social_security_card_can_stand_for_the_id_card() -> None:
    documents = [d for d in complete_documents() if d.doc_type is not DocType.ID_CARD]
    documents.append(doc(DocType.SOCIAL_SECURITY_CARD, name="张三", id_number=PATIENT_ID))
    assert run(documents)[0] is ClaimStatus.COMPLETE


@pytest.mark.parametrize(
    ("doc_type", "values", "code"),
    [
        (DocType.ID_CARD, {"id_number": "370602198503071238"}, "id_checksum_invalid"),
        (DocType.ID_CARD, {"birth_date": date(1985, 3, 8)}, "id_birth_mismatch"),
        (DocType.ID_CARD, {"sex": "女"}, "id_sex_mismatch"),
        (
            DocType.MEDICAL_INVOICE,
            {"total_amount_words": Decimal("210.50")},
            "amount_words_mismatch",
        ),
        (DocType.MEDICAL_INVOICE, {"cash_payment": Decimal("90.50")}, "payment_parts_mismatch"),
        (DocType.EXPENSE_LIST, {"total_amount": Decimal("300.00")}, "expense_total_mismatch"),
        (DocType.EXPENSE_LIST, {"page_totals": [Decimal("199.00")]}, "expense_lines_mismatch"),
        (DocType.DISCHARGE_SUMMARY, {"patient_name": "李四"}, "name_mismatch"),
        (DocType.REFERRAL_FORM, {"id_number": "110105199001011238"}, "id_number_mismatch"),
        (DocType.DISCHARGE_SUMMARY, {"discharge_date": date(2026, 2, 1)}, "date_invalid"),
        (DocType.MEDICAL_INVOICE, {"invoice_number": "12AB"}, "invoice_format_invalid"),
    ],
)
def test_a_planted_flaw_raises_its_code_and_needs_review(
    doc_type: DocType, values: dict[str, Any], code: str
) -> None:
    status, codes, _ = run(replace(complete_documents(), doc_type, **values))
    assert code in codes
    assert status is ClaimStatus.NEEDS_REVIEW


def test_a_field_under_its_threshold_is_low_confidence() -> None:
    documents = complete_documents()
    documents[0] = doc(DocType.ID_CARD, name=field("张三", 0.5), id_number=PATIENT_ID, sex="男")
    status, codes, _ = run(documents)
    assert codes == {"low_confidence"} and status is ClaimStatus.NEEDS_REVIEW


def test_a_reviewer_confirmation_clears_low_confidence() -> None:
    documents = complete_documents()
    documents[0] = doc(DocType.ID_CARD, name=field("张三", 0.5), id_number=PATIENT_ID, sex="男")
    bundle = ClaimBundle(
        manifest=manifest(), documents=documents, confirmed_fields={"id_card.jpg#1:name"}
    )
    assert validate(bundle, RULES).status is ClaimStatus.COMPLETE


def test_late_submission_is_rejected() -> None:
    status, codes, _ = run(complete_documents(), submitted_on="2026-06-30")
    assert "submission_late" in codes and status is ClaimStatus.REJECTED


def test_treatment_outside_the_filing_is_rejected() -> None:
    documents = complete_documents() + [
        doc(
            DocType.FILING_RECORD,
            name="张三",
            id_number=PATIENT_ID,
            treatment_region="上海市",
            valid_from=date(2025, 1, 1),
            valid_until=date(2025, 12, 31),
            filing_date=date(2025, 1, 1),
        ),
    ]
    status, codes, _ = run(documents)
    assert "outside_filing_validity" in codes and status is ClaimStatus.REJECTED


def test_hospital_outside_the_filed_region_is_rejected() -> None:
    documents = complete_documents() + [
        doc(
            DocType.FILING_RECORD,
            name="张三",
            id_number=PATIENT_ID,
            treatment_region="北京市",
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
        ),
    ]
    assert "hospital_outside_filed_region" in run(documents)[1]


def test_expired_residence_permit_is_flagged() -> None:
    documents = complete_documents() + [
        doc(DocType.RESIDENCE_PERMIT, name="张三", id_number=PATIENT_ID, valid_until="2025-12-31"),
    ]
    assert "document_expired" in run(documents)[1]


def test_emergency_reported_after_three_days_is_rejected() -> None:
    documents = [d for d in complete_documents() if d.doc_type is not DocType.REFERRAL_FORM]
    documents += [
        doc(DocType.EMERGENCY_CERTIFICATE, patient_name="张三", visit_date=date(2026, 3, 1)),
        doc(
            DocType.FILING_RECORD,
            name="张三",
            id_number=PATIENT_ID,
            filing_date=date(2026, 3, 6),
            treatment_region="上海市",
            category="emergency",
        ),
    ]
    status, codes, _ = run(documents, claim_type="emergency")
    assert codes == {"emergency_report_late"} and status is ClaimStatus.REJECTED


def test_the_same_invoice_twice_in_one_claim_is_a_duplicate() -> None:
    documents = complete_documents()
    invoice = next(d for d in documents if d.doc_type is DocType.MEDICAL_INVOICE)
    documents.append(invoice.model_copy(update={"id": "copy.jpg#1"}))
    assert "duplicate_invoice" in run(documents)[1]


def test_an_unreadable_file_is_reported_unsupported() -> None:
    bundle = ClaimBundle(
        manifest=manifest(),
        documents=complete_documents(),
        file_problems=[
            FileProblem(file="x.docx", reason="unsupported_file", message="a ZIP archive")
        ],
    )
    outcome = validate(bundle, RULES)
    assert {i.code for i in outcome.issues} == {"unsupported_file"}


def test_agent_id_card_is_told_apart_from_the_patients() -> None:
    documents = complete_documents() + [
        doc(DocType.ID_CARD, 2, name="王五", id_number="110105199001011232", sex="男")
    ]
    status, codes, missing = run(documents, by_agent=True)
    assert status is ClaimStatus.COMPLETE, codes
    status, codes, missing = run(complete_documents(), by_agent=True)
    assert missing == ["agent_id_card"]


def test_validation_leaves_the_bundle_it_checks_as_it_was() -> None:
    documents = complete_documents() + [
        doc(DocType.ID_CARD, 2, name="王五", id_number="110105199001011232", sex="男")
    ]
    bundle = ClaimBundle(manifest=manifest(by_agent=True), documents=documents)
    before = bundle.model_dump()
    assert validate(bundle, RULES).status is ClaimStatus.COMPLETE
    assert bundle.model_dump() == before
    resolved = resolve_agent_cards(bundle)
    assert [d.doc_type for d in resolved.documents].count(DocType.AGENT_ID_CARD) == 1
    assert bundle.model_dump() == before


def test_manifest_with_unknown_key_or_type_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "claim.json"
    path.write_text(
        '{"claim_id": "C-1", "claim_type": "tourism", "care_type": "inpatient", '
        '"insured_region": "烟台市", "treatment_region": "上海市", "submitted_on": "2026-03-01", "color": 1}'
    )
    with pytest.raises(ManifestError, match=r"claim_type.*color"):
        ClaimManifest.load(path)
    path.write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        ClaimManifest.load(path)
    with pytest.raises(ManifestError, match="missing"):
        ClaimManifest.load(tmp_path / "nothing.json")


def test_a_malformed_rules_file_names_the_bad_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (Path(__file__).parent.parent / "validators/rules/yantai.yaml").read_text(
        encoding="utf-8"
    )
    bad.write_text(
        text.replace("emergency_report_days: 3", "emergency_report_days: -3"), encoding="utf-8"
    )
    with pytest.raises(RulesFileError, match=r"deadlines\.emergency_report_days"):
        load_rules(bad)


def test_an_expense_list_without_readable_lines_needs_review_and_is_not_calculated() -> None:
    documents = [d for d in complete_documents() if d.doc_type is not DocType.EXPENSE_LIST]
    listing = doc(DocType.EXPENSE_LIST, patient_name="张三", total_amount=Decimal("200.50"))
    listing.missing["lines"] = "no table header (项目名称 … 金额) found"
    status, codes, _ = run([*documents, listing])
    assert "expense_lines_unreadable" in codes and status is ClaimStatus.NEEDS_REVIEW


def test_a_row_whose_quantity_times_price_is_not_its_amount_is_named() -> None:
    lines = [
        ExpenseLine(name="头孢呋辛酯片", quantity=Decimal(2), unit_price=Decimal("60.25"),
                    amount=Decimal("120.50"), category="甲", page=0),
        ExpenseLine(name="一次性输液器", quantity=Decimal(3), unit_price=Decimal("20.00"),
                    amount=Decimal("80.00"), category="乙", page=0),
    ]  # fmt: skip
    bundle = ClaimBundle(
        manifest=manifest(),
        documents=replace(complete_documents(), DocType.EXPENSE_LIST, lines=lines),
    )
    (mismatch,) = [i for i in validate(bundle, RULES).issues if i.code == "expense_lines_mismatch"]
    assert mismatch.message.startswith("rows 2 of the expense list")


def test_a_masked_id_read_unsurely_passes_when_the_id_card_shows_the_same_digits() -> None:
    masked = field(PATIENT_ID[:4] + "*" * 10 + PATIENT_ID[-4:], 0.93)
    filing = doc(DocType.FILING_RECORD, name="张三", id_number=masked)
    status, codes, _ = run([*complete_documents(), filing])
    assert "low_confidence" not in codes and status is ClaimStatus.COMPLETE
    other = field("1101" + "*" * 10 + PATIENT_ID[-4:], 0.93)
    filing = doc(DocType.FILING_RECORD, name="张三", id_number=other)
    assert "low_confidence" in run([*complete_documents(), filing])[1]


def _stay(n: int, admission: str, amount: str, list_total: str) -> list[Document]:
    """A receipt and an expense list of one stay (住院号 `admission`)."""
    line = ExpenseLine(name="床位费", category="甲", amount=Decimal(list_total), page=0)
    receipt = doc(
        DocType.MEDICAL_INVOICE, n, admission_number=admission, total_amount=Decimal(amount)
    )
    listing = doc(DocType.EXPENSE_LIST, n, admission_number=admission, lines=[line],
                  total_amount=Decimal(list_total))  # fmt: skip
    return [receipt, listing]


def test_each_stays_list_is_held_against_that_stays_receipt() -> None:
    bundle = ClaimBundle(
        manifest=manifest(), documents=_stay(1, "A100", "300.00", "300.00") + _stay(2, "B200", "50.00", "50.00")
    )  # fmt: skip
    assert "expense_total_mismatch" not in {i.code for i in validate(bundle, RULES).issues}
    bundle.documents = _stay(1, "A100", "300.00", "300.00") + _stay(2, "B200", "50.00", "60.00")
    (mismatch,) = [i for i in validate(bundle, RULES).issues if i.code == "expense_total_mismatch"]
    assert mismatch.doc_ids == ["expense_list.jpg#2", "medical_invoice.jpg#2"]


def test_a_list_without_its_total_row_is_held_against_the_receipt_by_its_lines() -> None:
    documents = replace(complete_documents(), DocType.EXPENSE_LIST, page_totals=[Decimal("190.50")])
    for document in documents:
        if document.doc_type is DocType.EXPENSE_LIST:
            lines = [
                ExpenseLine(name="头孢呋辛酯片", category="甲", amount=Decimal("190.50"), page=0)
            ]
            document.record = document.record.model_copy(
                update={"total_amount": None, "lines": field(lines)}
            )
    assert "expense_total_mismatch" in run(documents)[1]


def test_a_rules_file_naming_an_unknown_rejecting_code_is_refused(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "validators/rules/yantai.yaml").read_text(
        encoding="utf-8"
    )
    path = tmp_path / "rules.yaml"
    path.write_text(
        text.replace("  - submission_late\n", "  - submission_too_late\n"), encoding="utf-8"
    )
    with pytest.raises(RulesFileError) as refused:
        load_rules(path)
    assert "rejecting_codes" in str(refused.value) and "submission_too_late" in str(refused.value)
