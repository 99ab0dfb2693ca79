"""Bulk scans are grouped into claims by claimant, and each group's pages become a PDF."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from synth import render_page
from test_validators import PATIENT_ID, doc

from flows.bulk import group_by_claimant, group_claim_id, write_group_pdf
from pipeline.records import DocType

OTHER_ID = "110105199001011232"


def test_documents_are_grouped_by_the_claimant_they_belong_to() -> None:
    documents = [
        doc(DocType.ID_CARD, 1, name="张三", id_number=PATIENT_ID),
        doc(DocType.MEDICAL_INVOICE, 2, payer_name="张三", payer_id_number=PATIENT_ID),
        doc(DocType.EXPENSE_LIST, 3, patient_name="张三"),
        doc(DocType.DISCHARGE_SUMMARY, 4),  # no identity read: joins the current claimant
        doc(DocType.ID_CARD, 5, name="王五", id_number=OTHER_ID),
        doc(DocType.MEDICAL_INVOICE, 6, payer_name="王五", payer_id_number=OTHER_ID),
        doc(DocType.MEDICAL_INVOICE, 7, payer_name="张三", payer_id_number=PATIENT_ID),
    ]
    groups = group_by_claimant(documents)
    assert [(g.id_number, [d.id.rsplit("#")[1] for d in g.documents]) for g in groups] == [
        (PATIENT_ID, ["1", "2", "3", "4", "7"]),
        (OTHER_ID, ["5", "6"]),
    ]


def test_an_invoice_of_a_new_person_starts_a_new_group_even_without_a_card() -> None:
    documents = [
        doc(DocType.ID_CARD, 1, name="张三", id_number=PATIENT_ID),
        doc(DocType.MEDICAL_INVOICE, 2, payer_name="王五", payer_id_number=OTHER_ID),
    ]
    assert [g.id_number for g in group_by_claimant(documents)] == [PATIENT_ID, OTHER_ID]


def test_group_claim_ids_are_stable_for_the_same_scan() -> None:
    assert group_claim_id("inbox/scan-001.pdf", 1) == group_claim_id("inbox/scan-001.pdf", 1)
    assert group_claim_id("inbox/scan-001.pdf", 1) != group_claim_id("inbox/scan-002.pdf", 1)


def test_a_groups_pages_are_copied_into_a_new_pdf(tmp_path: Path) -> None:
    source = tmp_path / "scan.pdf"
    pages = [render_page([f"第{i}页"], size=(300, 400)).convert("RGB") for i in range(5)]
    pages[0].save(source, "PDF", save_all=True, append_images=pages[1:])
    before = source.read_bytes()
    target = write_group_pdf(source, [1, 3], tmp_path / "group.pdf")
    assert len(pdfium.PdfDocument(str(target))) == 2
    assert source.read_bytes() == before  # the original upload is never changed
