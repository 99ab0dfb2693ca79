"""Filing records from the national app print the ID number masked (`3706**********1234`) and
list `label ........ value` rows; cards wrap a long address over lines. No OCR here: values,
checks and hand-placed lines (the new sample documents are covered by the golden test)."""

from __future__ import annotations

from typing import Any

import pytest

from extractors.extract import extract_documents
from extractors.forms import ValueKind
from extractors.values import Parsed, Rejected, parse_value
from pipeline.bundle import ClaimBundle, ClaimManifest
from pipeline.models import BBox, OcrLine, Page, PageSource, ReadResult
from pipeline.normalize import is_masked_id_number
from pipeline.records import RECORD_TYPES, DocType, Document, ExtractedField
from validators.common import ids_agree
from validators.consistency import check_identity
from validators.field import check_id_numbers
from validators.rules import rules_for_region

RULES = rules_for_region("烟台市")
FULL_ID = "370602198503071237"  # valid check digit


@pytest.mark.parametrize(
    ("printed", "value"),
    [
        ("3706**********1237", "3706**********1237"),
        ("370602********123X", "370602********123X"),
        ("370602********123x", "370602********123X"),
        ("3706＊＊＊＊＊＊＊＊＊＊1237", "3706**********1237"),  # full-width asterisks
        ("3706xxxxxxxxxx1237", "3706**********1237"),  # asterisks read as x
        ("3706※※※※※※※※※※1237", "3706**********1237"),
        ("证件号码：3706**********1237", "3706**********1237"),
    ],
)
def test_a_masked_id_number_is_kept_as_printed_with_the_mask_as_asterisks(
    printed: str, value: str
) -> None:
    parsed = parse_value(ValueKind.ID_NUMBER, printed)
    assert isinstance(parsed, Parsed)
    assert (parsed.value, parsed.fit, parsed.note) == (value, 1.0, None)


def test_a_mask_read_one_character_short_is_set_to_eighteen_and_noted() -> None:
    parsed = parse_value(ValueKind.ID_NUMBER, "3706*********1237")
    assert isinstance(parsed, Parsed)
    assert parsed.value == "3706**********1237"
    assert parsed.fit < 0.9 and parsed.note is not None and "mask" in parsed.note


@pytest.mark.parametrize("printed", ["138****1234", "3706**********12345", "3706****1237"])
def test_a_masked_phone_number_or_a_wrong_length_is_no_id_number(printed: str) -> None:
    assert isinstance(parse_value(ValueKind.ID_NUMBER, printed), Rejected)


def test_a_real_id_number_ending_in_x_is_not_taken_for_a_masked_one() -> None:
    parsed = parse_value(ValueKind.ID_NUMBER, "11010519491231002X")
    assert isinstance(parsed, Parsed) and parsed.value == "11010519491231002X"
    assert not is_masked_id_number(parsed.value)
    assert is_masked_id_number("1101**********002X")


def test_ids_agree_where_both_show_a_character() -> None:
    assert ids_agree("3706**********1237", FULL_ID)
    assert ids_agree(FULL_ID, "370602********1237")
    assert ids_agree(FULL_ID, FULL_ID)
    assert not ids_agree("3706**********1238", FULL_ID)  # last four differ
    assert not ids_agree("3707**********1237", FULL_ID)  # first four differ
    assert not ids_agree("3706*********1237", FULL_ID)  # not the same length
    assert not ids_agree("370602198503071238", FULL_ID)  # no mask: equality


def _field(value: Any) -> ExtractedField[Any]:
    return ExtractedField(value=value, confidence=0.99, page=0, raw=str(value))


def _doc(doc_type: DocType, **values: Any) -> Document:
    record = RECORD_TYPES[doc_type].model_construct(
        set(values), **{k: _field(v) for k, v in values.items()}
    )
    return Document(
        id=f"{doc_type.value}.jpg#1",
        file=f"{doc_type.value}.jpg",
        pages=[0],
        doc_type=doc_type,
        doc_type_confidence=0.99,
        record=record,
    )


def _bundle(filing_id: str) -> ClaimBundle:
    manifest = ClaimManifest.model_validate(
        {
            "claim_id": "C-T-1",
            "claim_type": "self_referral",
            "care_type": "inpatient",
            "insured_region": "烟台市",
            "treatment_region": "杭州市",
            "submitted_on": "2026-03-20",
            "by_agent": False,
            "paid_this_year": "0.00",
        }
    )
    return ClaimBundle(
        manifest=manifest,
        documents=[
            _doc(DocType.ID_CARD, name="张三", id_number=FULL_ID),
            _doc(DocType.FILING_RECORD, name="张三", id_number=filing_id),
        ],
    )


def test_a_masked_id_number_raises_no_check_digit_issue() -> None:
    assert check_id_numbers(_bundle("3706**********1237"), RULES) == []


def test_a_masked_id_number_agrees_with_the_id_card_showing_the_same_digits() -> None:
    assert check_identity(_bundle("3706**********1237"), RULES) == []


def test_a_masked_id_number_with_other_visible_digits_is_a_mismatch() -> None:
    issues = check_identity(_bundle("3706**********9999"), RULES)
    assert [i.code for i in issues] == ["id_number_mismatch"]


def _page(rows: list[tuple[str, float, float, float, float, float]]) -> ReadResult:
    lines = [
        OcrLine(text=text, confidence=conf, bbox=BBox(x0=x0, y0=y0, x1=x1, y1=y1))
        for text, conf, x0, y0, x1, y1 in rows
    ]
    page = Page(index=0, width=1080, height=2340, source=PageSource.OCR, lines=lines)
    return ReadResult(file="screen.png", media_type="image/png", pages=[page])


def test_an_app_row_links_the_label_to_its_value_flush_right_across_the_screen() -> None:
    rows = [
        ("异地就医备案查询", 1.0, 0.32, 0.08, 0.70, 0.10),
        ("备案成功", 1.0, 0.10, 0.16, 0.39, 0.19),
        ("参保人姓名", 1.0, 0.05, 0.30, 0.28, 0.32),
        ("张三", 1.0, 0.86, 0.29, 0.97, 0.32),
        ("参保地", 1.0, 0.05, 0.43, 0.20, 0.46),
        ("山东省烟台市", 1.0, 0.70, 0.43, 0.97, 0.46),
        ("就医地", 1.0, 0.05, 0.56, 0.20, 0.58),
        ("浙江省杭州市", 1.0, 0.69, 0.56, 0.97, 0.58),
    ]
    (document,) = extract_documents(_page(rows))
    assert document.doc_type is DocType.FILING_RECORD
    fields = document.fields
    assert (fields["name"].value, fields["insured_region"].value) == ("张三", "山东省烟台市")
    assert fields["treatment_region"].value == "浙江省杭州市"  # the city, not just the province
    assert min(fields[k].confidence for k in ("name", "insured_region")) >= 0.9


def test_a_masked_id_number_cut_in_two_by_the_detector_is_read_whole() -> None:
    rows = [
        ("异地就医备案", 1.0, 0.03, 0.14, 0.34, 0.17),
        ("备案成功", 1.0, 0.77, 0.14, 0.93, 0.17),
        ("参保人姓名", 1.0, 0.03, 0.29, 0.26, 0.32),
        ("张三", 1.0, 0.85, 0.29, 0.96, 0.32),
        ("证件号码", 1.0, 0.03, 0.36, 0.22, 0.39),
        ("370602*", 0.99, 0.527, 0.361, 0.694, 0.385),
        ("2********1237", 0.99, 0.665, 0.357, 0.953, 0.385),
        ("参保地", 1.0, 0.03, 0.43, 0.18, 0.45),
        ("山东省烟台市", 1.0, 0.68, 0.43, 0.95, 0.45),
    ]
    (document,) = extract_documents(_page(rows))
    assert document.fields["id_number"].value == "370602********1237"


def test_a_permit_address_wrapped_over_three_lines_is_one_value() -> None:
    rows = [
        ("居住证", 1.0, 0.26, 0.11, 0.38, 0.17),
        ("姓名:张三", 0.99, 0.10, 0.23, 0.22, 0.27),
        ("居住地址:杭州市西湖区文三路3", 0.99, 0.10, 0.42, 0.44, 0.46),
        ("87号1号楼1单元10", 1.0, 0.20, 0.46, 0.39, 0.49),
        ("04室", 0.86, 0.20, 0.49, 0.26, 0.53),
        ("公民身份号码:370602198503071237", 0.99, 0.10, 0.55, 0.47, 0.59),
        ("签发机关:杭州市公安局", 0.99, 0.10, 0.68, 0.34, 0.71),
    ]
    (document,) = extract_documents(_page(rows))
    assert document.doc_type is DocType.RESIDENCE_PERMIT
    address = document.fields["address"]
    assert address.value == "杭州市西湖区文三路387号1号楼1单元1004室"
    assert address.confidence >= 0.9  # a short last line read less surely does not flag it all


def test_a_value_whose_padded_box_starts_inside_its_label_is_still_its_value() -> None:
    rows = [  # a small ID-card photo: detection boxes overlap their neighbours a little
        ("姓名", 1.0, 0.083, 0.207, 0.201, 0.312),
        ("汪勇志", 1.0, 0.250, 0.219, 0.451, 0.332),
        ("性别", 0.99, 0.085, 0.364, 0.244, 0.469),
        ("男", 1.0, 0.230, 0.373, 0.417, 0.472),
        ("民族", 1.0, 0.409, 0.335, 0.587, 0.434),
        ("汉", 1.0, 0.555, 0.341, 0.638, 0.434),
        ("出生", 1.0, 0.087, 0.525, 0.207, 0.621),
        ("1979年7月13日", 1.0, 0.250, 0.531, 0.624, 0.627),
        ("住址", 1.0, 0.087, 0.679, 0.203, 0.776),
        ("山东省烟台市莱山区观海路78号", 1.0, 0.252, 0.685, 0.864, 0.781),
        ("公民身份号码", 1.0, 0.067, 0.862, 0.449, 0.897),
    ]
    (document,) = extract_documents(_page(rows))
    assert document.doc_type is DocType.ID_CARD
    assert (document.fields["sex"].value, document.fields["ethnicity"].value) == ("男", "汉")
