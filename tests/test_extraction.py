"""Extraction on real OCR output, one sample per document type and variant, against the truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DOCS
from synth import render_page

from extractors.classify import classify_lines
from extractors.extract import extract_documents
from extractors.forms import FormFileError, load_form
from flows.evaluate import check_golden, compare_document, match_document
from pipeline.models import BBox, OcrLine, Page, PageSource, ReadResult
from pipeline.ocr import OcrEngine
from pipeline.reader import read_file
from pipeline.records import DocType

pytestmark = pytest.mark.ocr

DOCS = SAMPLE_DOCS / "documents"
SAMPLES = [
    "scan/invoice_inpatient_00.jpg", "photo/invoice_inpatient_01.jpg", "pdf/invoice_outpatient_02.pdf",
    "scan/expense_list_00.tif", "pdf/expense_list_long.pdf", "pdf/expense_list_long_noto.pdf",
    "scan/id_front_00.png", "scan/id_back_00.png", "photo/id_front_01.jpg", "scan/permit_00.jpg",
    "scan/discharge_summary_00.jpg", "pdf/discharge_summary_02.pdf", "scan/referral_00.jpg",
    "scan/filing_00.jpg", "scan/emergency_00.jpg", "scan/residence_proof_00.jpg",
    "scan/employment_00.jpg", "scan/prescription_00.jpg", "scan/other_00.jpg",
    "scan/real_grid_receipt_00.jpg", "scan/real_paper_receipt_blue.jpg", "scan/real_vat_invoice.jpg",
    "scan/real_expense_list.tif", "scan/permit_03.jpg", "screenshot/filing_app_00.png",
    "screenshot/filing_app_00_forwarded.jpg", "screenshot/filing_app_01.png", "screenshot/filing_app_02.png",
    "photo/real_paper_receipt_folded.jpg", "pdf/real_expense_list.pdf", "photo/real_expense_list_page1.jpg",
]  # fmt: skip


def _truth(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".truth.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_document_is_classified_and_extracted(name: str, rapid_engine: OcrEngine) -> None:
    path = DOCS / name
    documents = extract_documents(read_file(path, engine=rapid_engine))
    for truth in _truth(path)["documents"]:
        document = match_document(truth, documents)
        assert document is not None and document.doc_type.value == truth["doc_type"]
        tally = compare_document(truth, document, threshold=0.9)
        assert tally.fields == 0 or tally.exact / tally.fields >= 0.8, tally.misses
        assert tally.unflagged_exact == tally.unflagged, tally.misses  # unflagged fields are right
    if not name.startswith("photo/"):  # golden records keep regressions visible in diffs
        assert check_golden(SAMPLE_DOCS, path, documents) is None


def test_a_page_that_is_not_a_claim_document_gets_no_invented_fields(
    rapid_engine: OcrEngine, tmp_path: Path
) -> None:
    path = tmp_path / "letter.png"
    render_page(["亲爱的朋友：", "周末一起去爬山吧，记得带水和雨伞。", "小王"]).save(path)
    (document,) = extract_documents(read_file(path, engine=rapid_engine))
    assert document.doc_type is DocType.OTHER and document.fields == {}


def _lines(*rows: tuple[str, float]) -> list[OcrLine]:
    return [
        OcrLine(
            text=text,
            confidence=conf,
            bbox=BBox(x0=0.1, y0=0.05 + 0.05 * i, x1=0.8, y1=0.08 + 0.05 * i),
        )
        for i, (text, conf) in enumerate(rows)
    ]


def test_an_unreadable_field_is_absent_with_a_reason_not_guessed() -> None:
    lines = _lines(
        ("姓名 张三", 0.99),
        ("性别 男 民族 汉", 0.99),
        ("出生 1985年3月7日", 0.99),
        ("住址 山东省烟台市", 0.99),
        ("公民身份号码 3706O2#####", 0.6),
    )
    page = Page(index=0, width=800, height=500, source=PageSource.OCR, lines=lines)
    (document,) = extract_documents(ReadResult(file="id.png", media_type="image/png", pages=[page]))
    assert document.doc_type is DocType.ID_CARD
    assert "id_number" not in document.fields
    assert "18-character" in document.missing["id_number"]


def test_a_single_misread_id_digit_is_repaired_and_the_repair_recorded() -> None:
    lines = _lines(
        ("姓名 张三", 0.99),
        ("性别 男 民族 汉", 0.99),
        ("出生 1985年3月7日", 0.99),
        ("公民身份号码 370602198503871237", 0.97),
    )
    page = Page(index=0, width=800, height=500, source=PageSource.OCR, lines=lines)
    (document,) = extract_documents(ReadResult(file="id.png", media_type="image/png", pages=[page]))
    number = document.fields["id_number"]
    assert number.value == "370602198503071237"
    assert number.note is not None and "repair" in number.note and number.confidence < 0.9


def test_classification_prefers_the_highest_score_and_falls_back_to_other() -> None:
    assert (
        classify_lines(_lines(("住院费用明细清单", 1.0), ("项目名称 单价 数量 金额", 1.0))).doc_type
        is DocType.EXPENSE_LIST
    )
    assert classify_lines(_lines(("今天天气很好", 1.0))).doc_type is DocType.OTHER


def test_a_form_file_with_an_unknown_field_key_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "family: x\ndoc_type: id_card\nclassify: {keywords: {姓名: 1}}\nfields:\n  nmae: {labels: [姓名]}\n",
        encoding="utf-8",
    )
    with pytest.raises(FormFileError, match="nmae"):
        load_form(bad)


def _block(
    rows: list[str], x0: float, y0: float, width: float = 0.4, step: float = 0.03
) -> list[OcrLine]:
    return [
        OcrLine(
            text=text,
            confidence=0.99,
            bbox=BBox(x0=x0, y0=y0 + step * i, x1=x0 + width, y1=y0 + step * i + 0.02),
        )
        for i, text in enumerate(rows)
    ]


def _one_page(lines: list[OcrLine]) -> ReadResult:
    page = Page(index=0, width=2000, height=2800, source=PageSource.OCR, lines=lines)
    return ReadResult(file="sheet.jpg", media_type="image/jpeg", pages=[page])


def test_both_sides_of_an_id_card_on_one_sheet_make_one_document() -> None:
    front = _block(
        [
            "姓名 张三",
            "性别 男 民族 汉",
            "出生 1985年3月7日",
            "住址 山东省烟台市芝罘区南大街1号",
            "公民身份号码 370602198503071237",
        ],
        0.1,
        0.1,
    )
    back = _block(
        [
            "中华人民共和国",
            "居民身份证",
            "签发机关 烟台市公安局芝罘分局",
            "有效期限 2016.03.01-2036.03.01",
        ],
        0.1,
        0.6,
    )
    (document,) = extract_documents(_one_page(front + back))
    assert document.doc_type is DocType.ID_CARD
    assert document.fields["id_number"].value == "370602198503071237"
    assert document.fields["issuing_authority"].value == "烟台市公安局芝罘分局"


def test_two_receipts_side_by_side_are_two_documents_with_their_regions() -> None:
    def receipt(number: str, x0: float) -> list[OcrLine]:
        return _block(
            [
                "医疗门诊收费票据",
                f"票据代码 37010001 票据号码 {number}",
                "交款人 张三",
                "合计（大写）壹佰元整",
                "（小写）¥100.00",
                "个人现金支付 100.00",
            ],
            x0,
            0.2,
            width=0.35,
        )

    documents = extract_documents(
        _one_page(receipt("0000000001", 0.05) + receipt("0000000002", 0.55))
    )
    assert [d.doc_type for d in documents] == [DocType.MEDICAL_INVOICE] * 2
    assert [d.fields["invoice_number"].value for d in documents] == ["0000000001", "0000000002"]
    assert documents[0].region is not None and documents[0].region.x1 < 0.5 < documents[1].region.x0  # type: ignore[union-attr]


def test_a_bulk_scan_is_split_into_its_documents(rapid_engine: OcrEngine) -> None:
    path = SAMPLE_DOCS / "bulk" / "bulk_scan_00.pdf"
    truth = _truth(path)["documents"]
    documents = extract_documents(read_file(path, engine=rapid_engine))
    assert [(d.pages, d.doc_type.value) for d in documents] == [
        (t["pages"], t["doc_type"]) for t in truth
    ]
