"""The bulk-scan flow against a real S3 server, the OCR pool and Prefect's local engine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from conftest import SAMPLE_DOCS, flows_runtime

from infra.s3server import EmbeddedS3
from pipeline.settings import Settings

pytestmark = [pytest.mark.ocr, pytest.mark.slow]

BULK = SAMPLE_DOCS / "bulk"


@pytest.fixture(scope="module")
def runtime(
    s3_server: EmbeddedS3,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    prefect_engine: None,
) -> Iterator[Any]:
    with flows_runtime(
        settings, tmp_path_factory.mktemp("bulk-flow"), "bulk", s3_server
    ) as runtime:
        yield runtime


def truth_groups(scan: Path) -> dict[str, list[int]]:
    """The pages of each claimant (by ID number) in a labelled bulk scan."""
    truth = json.loads(scan.with_name(scan.name + ".truth.json").read_text(encoding="utf-8"))
    groups: dict[str, list[int]] = {}
    current = ""
    for document in truth["documents"]:
        fields = document["fields"]
        current = fields.get("id_number") or fields.get("payer_id_number") or current
        groups.setdefault(current, []).extend(document["pages"])
    return {number: sorted(pages) for number, pages in groups.items()}


def uploads(runtime: Any, claim_id: str) -> dict[str, str]:
    """{name: etag} of the claim's uploads (not its results)."""
    prefix = f"claims/{claim_id}/"
    return {
        key[len(prefix) :]: runtime.objects.stat(key).etag
        for key, _ in runtime.objects.list_keys(prefix)
        if "/_results/" not in key
    }


@pytest.fixture(scope="module")
def ingested(runtime: Any) -> tuple[str, dict[str, Any]]:
    from flows.bulk_flow import ingest_bulk_scan, upload_scan

    key = upload_scan(runtime.objects, BULK / "bulk_scan_00.pdf")
    return key, ingest_bulk_scan(key)


def test_a_bulk_scan_becomes_one_claim_per_claimant_by_id_number(
    runtime: Any, ingested: tuple[str, dict[str, Any]]
) -> None:
    key, summary = ingested
    assert key == "bulk/bulk_scan_00.pdf"
    found = {c["id_number"]: c["pages"] for c in summary["claims"]}
    assert found == truth_groups(BULK / "bulk_scan_00.pdf")
    for claim in summary["claims"]:
        assert claim["documents"] == [
            "id_card",
            "medical_invoice",
            "expense_list",
            "discharge_summary",
        ]
        assert uploads(runtime, claim["claim_id"]).keys() == {"bulk_scan_00.pdf"}
        group_pdf = runtime.objects.read_bytes(f"claims/{claim['claim_id']}/bulk_scan_00.pdf")
        assert len(pdfium.PdfDocument(group_pdf)) == len(claim["pages"])
    assert (
        runtime.objects.get_json("bulk/_results/bulk_scan_00.pdf.json")["claims"]
        == (summary["claims"])
    )


def test_a_claim_from_a_bulk_scan_waits_for_its_manifest_and_says_which(
    runtime: Any, ingested: tuple[str, dict[str, Any]]
) -> None:
    _, summary = ingested
    for claim in summary["claims"]:
        claim_id = claim["claim_id"]
        result = runtime.objects.get_result(claim_id)
        assert result["status"] == claim["status"] == "awaiting_manifest"
        assert f"claims/{claim_id}/claim.json" in result["message"]
        assert f'"claim_id": "{claim_id}"' in result["message"]
    assert not set(runtime.objects.pending_claims()) & {c["claim_id"] for c in summary["claims"]}


def test_ingesting_the_same_scan_again_creates_no_duplicate_claims(
    runtime: Any, ingested: tuple[str, dict[str, Any]]
) -> None:
    from flows.bulk_flow import ingest_bulk_scan

    key, first = ingested
    claims_before = runtime.objects.claim_ids()
    files_before = {c["claim_id"]: uploads(runtime, c["claim_id"]) for c in first["claims"]}
    again = ingest_bulk_scan(key)
    assert [c["claim_id"] for c in again["claims"]] == [c["claim_id"] for c in first["claims"]]
    assert runtime.objects.claim_ids() == claims_before
    assert {c["claim_id"]: uploads(runtime, c["claim_id"]) for c in again["claims"]} == (
        files_before
    )


def test_the_original_scan_is_never_changed(
    runtime: Any, ingested: tuple[str, dict[str, Any]]
) -> None:
    key, _ = ingested
    original = (BULK / "bulk_scan_00.pdf").read_bytes()
    assert runtime.objects.read_bytes(key) == original
    assert runtime.objects.stat(key).metadata["sha256"] == hashlib.sha256(original).hexdigest()


def test_a_bulk_claim_is_processed_once_its_manifest_is_uploaded(runtime: Any) -> None:
    from flows.bulk_flow import ingest_bulk_scan, upload_scan
    from flows.prefect_flows import process_pending

    key = upload_scan(runtime.objects, BULK / "bulk_scan_01.pdf")
    claim = ingest_bulk_scan(key)["claims"][0]
    claim_id = claim["claim_id"]
    manifest = {
        "claim_id": claim_id,
        "claim_type": "referral",
        "care_type": "inpatient",
        "insured_region": "烟台市",
        "treatment_region": "杭州市",
        "submitted_on": "2026-03-30",
        "by_agent": False,
        "paid_this_year": "0.00",
    }
    runtime.objects.put_json(f"claims/{claim_id}/claim.json", manifest)
    assert claim_id in runtime.objects.pending_claims()

    statuses = process_pending()
    assert statuses == {claim_id: "incomplete"}  # the scan holds no referral form
    result = runtime.objects.get_result(claim_id)
    assert result["status"] == "incomplete" and result["missing_documents"] == ["referral_form"]

    again = ingest_bulk_scan(key)["claims"][0]  # a re-run leaves the real result alone
    assert again["status"] == "incomplete"
    assert runtime.objects.get_result(claim_id)["status"] == "incomplete"
    assert claim_id not in runtime.objects.pending_claims()


def test_a_bulk_scan_that_is_not_a_pdf_is_refused_and_creates_no_claim(
    runtime: Any, tmp_path: Path
) -> None:
    from flows.bulk_flow import ingest_bulk_scan, upload_scan
    from pipeline.errors import UnsupportedFileError

    photo = tmp_path / "desk_photo.pdf"
    photo.write_bytes(
        (SAMPLE_DOCS / "documents" / "photo" / "invoice_inpatient_01.jpg").read_bytes()
    )
    key = upload_scan(runtime.objects, photo)
    claims_before = runtime.objects.claim_ids()
    with pytest.raises(UnsupportedFileError, match="a bulk scan must be a PDF"):
        ingest_bulk_scan(key)
    assert runtime.objects.claim_ids() == claims_before
