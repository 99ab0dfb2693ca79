"""The Prefect flows against a real S3 server, a real Prefect engine and the OCR worker pool."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DOCS, flows_runtime

from flows.pipeline_run import upload_claim_folder
from infra.s3server import EmbeddedS3
from infra.store import CalculationRow, StatusHistoryRow
from pipeline.settings import Settings

pytestmark = pytest.mark.ocr


@pytest.fixture(scope="module")
def runtime(
    s3_server: EmbeddedS3,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    prefect_engine: None,
) -> Iterator[Any]:
    with flows_runtime(settings, tmp_path_factory.mktemp("flows"), "flows", s3_server) as runtime:
        yield runtime


def test_process_claim_stores_and_publishes_a_complete_claim(runtime: Any) -> None:
    from flows.prefect_flows import process_claim

    claim_id = upload_claim_folder(runtime.objects, SAMPLE_DOCS / "claims" / "C-2026-0001")
    result = process_claim(claim_id)
    assert result["status"] == "complete"
    published = runtime.objects.get_json(f"claims/{claim_id}/_results/result.json")
    assert published["status"] == "complete"
    money = runtime.objects.get_json(f"claims/{claim_id}/_results/reimbursement.json")
    assert (
        money["policy"] == "yantai-2026"
        and money["fund_payment"] == result["reimbursement"]["fund_payment"]
    )
    assert claim_id not in runtime.objects.pending_claims()


def test_rerunning_a_claim_is_idempotent(runtime: Any) -> None:
    from flows.prefect_flows import process_claim

    claim_id = upload_claim_folder(runtime.objects, SAMPLE_DOCS / "claims" / "C-2026-0001")
    calculations = runtime.store.count(CalculationRow)
    history = runtime.store.count(StatusHistoryRow)
    assert process_claim(claim_id)["status"] == "complete"
    assert runtime.store.count(CalculationRow) == calculations
    assert runtime.store.count(StatusHistoryRow) == history


def test_a_batch_processes_every_pending_claim_and_quarantines_bad_files(runtime: Any) -> None:
    from flows.prefect_flows import process_pending

    for name in ("C-2026-0007", "C-2026-0010"):
        upload_claim_folder(runtime.objects, SAMPLE_DOCS / "claims" / name)
    statuses = process_pending()
    assert statuses == {"C-2026-0007": "incomplete", "C-2026-0010": "needs_review"}
    meta = runtime.objects.metadata("quarantine/C-2026-0010/scan_notes.docx")
    assert "unsupported_file" in meta["x-amz-meta-reason"]
    assert runtime.objects.read_bytes("claims/C-2026-0010/scan_notes.docx").startswith(b"PK")


def test_reprocess_runs_again_after_a_correction(runtime: Any, tmp_path: Path) -> None:
    from flows.prefect_flows import reprocess_claim

    result = reprocess_claim("C-2026-0007")
    assert result["status"] == "incomplete"
    assert [s for s, _ in runtime.store.status_history("C-2026-0007")] == ["incomplete"]
