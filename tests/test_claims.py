"""Every sample claim folder gets the expected status, missing documents and issue codes.

The claims run in order through the real OCR, extraction, validation, calculator and a
SQLite claim store, so the duplicate invoice of C-2026-0012 is found against C-2026-0001.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DOCS

from flows.claim import process_claim_folder
from infra.store import CalculationRow, ClaimStore
from pipeline.ocr import OcrEngine
from pipeline.result import ClaimResult
from pipeline.settings import Settings

pytestmark = pytest.mark.ocr

CLAIMS = sorted(p for p in (SAMPLE_DOCS / "claims").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory, rapid_engine: OcrEngine, settings: Settings
) -> dict[str, Any]:
    store = ClaimStore(f"sqlite:///{tmp_path_factory.mktemp('store') / 'claims.db'}")
    out = {
        folder.name: process_claim_folder(
            folder, store=store, engine=rapid_engine, settings=settings
        ).as_json()  # the SPEC §6 JSON, as stored and published
        for folder in CLAIMS
    }
    out["_store"] = store
    return out


def _expected(claim_id: str) -> dict[str, Any]:
    return json.loads(
        (SAMPLE_DOCS / "claims" / f"{claim_id}.truth.json").read_text(encoding="utf-8")
    )["expected"]


@pytest.mark.parametrize("claim_id", [p.name for p in CLAIMS])
def test_sample_claim_gets_its_expected_outcome(claim_id: str, results: dict[str, Any]) -> None:
    result, expected = results[claim_id], _expected(claim_id)
    codes = {i["code"] for i in result["issues"]}
    assert result["status"] == expected["status"], result["issues"]
    assert result["missing_documents"] == expected["missing_documents"]
    assert set(expected["issue_codes"]) <= codes


def test_only_complete_claims_are_calculated(results: dict[str, Any]) -> None:
    for claim_id, result in results.items():
        if claim_id.startswith("_"):
            continue
        assert (result["reimbursement"] is not None) == (result["status"] == "complete"), claim_id
    complete = [
        r for k, r in results.items() if not k.startswith("_") and r["status"] == "complete"
    ]
    assert complete and all(r["reimbursement"]["explanation"] for r in complete)
    store: ClaimStore = results["_store"]
    assert store.count(CalculationRow) == len(complete)


def test_every_stable_issue_code_is_produced_by_some_sample_claim(results: dict[str, Any]) -> None:
    produced = {i["code"] for k, r in results.items() if not k.startswith("_") for i in r["issues"]}
    required = {
        "missing_document", "unsupported_file", "unreadable_page", "retake_photo", "low_confidence",
        "id_checksum_invalid", "amount_words_mismatch", "payment_parts_mismatch", "expense_total_mismatch",
        "expense_lines_mismatch", "name_mismatch", "id_number_mismatch", "outside_filing_validity",
        "document_expired", "hospital_outside_filed_region", "submission_late", "emergency_report_late",
        "duplicate_invoice",
    }  # fmt: skip
    assert required <= produced, required - produced


def test_result_json_follows_the_claim_contract(results: dict[str, Any]) -> None:
    result = results["C-2026-0001"]
    assert set(result) >= {
        "claim_id",
        "status",
        "documents",
        "missing_documents",
        "issues",
        "reimbursement",
    }
    document = result["documents"][0]
    assert set(document) >= {
        "id",
        "file",
        "pages",
        "doc_type",
        "doc_type_confidence",
        "quality",
        "fields",
    }
    field = next(iter(document["fields"].values()))
    assert set(field) >= {"value", "confidence", "bbox", "raw"} and len(field["bbox"]) == 5


def test_the_same_folder_processed_twice_gives_the_same_result(
    results: dict[str, Any], rapid_engine: OcrEngine, settings: Settings
) -> None:
    store: ClaimStore = results["_store"]
    again = process_claim_folder(
        SAMPLE_DOCS / "claims" / "C-2026-0001", store=store, engine=rapid_engine, settings=settings
    )
    assert again.as_json() == results["C-2026-0001"]
    assert store.count(CalculationRow) == sum(
        1 for k, r in results.items() if not k.startswith("_") and r["status"] == "complete"
    )


def test_a_stored_result_reads_back_as_the_same_typed_result(results: dict[str, Any]) -> None:
    store: ClaimStore = results["_store"]
    for claim_id in (p.name for p in CLAIMS):
        stored = store.get_result(claim_id)
        assert stored == results[claim_id]
        typed = ClaimResult.from_json(stored)
        assert typed.as_json() == stored, claim_id  # byte for byte: the contract holds
        assert typed.status.value == stored["status"]


def test_a_claim_without_manifest_is_refused_with_advice(tmp_path: Path) -> None:
    from pipeline.bundle import ManifestError

    with pytest.raises(ManifestError, match=r"claim\.json is missing"):
        process_claim_folder(tmp_path)
