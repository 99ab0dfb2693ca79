"""The claim store keeps results idempotently on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from infra.store import CalculationRow, ClaimStore, FieldRow, InvoiceKeyRow, StatusHistoryRow


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ClaimStore:
    if request.param == "sqlite":
        return ClaimStore(f"sqlite:///{tmp_path / 'claims.db'}")
    url = request.getfixturevalue("postgres_url")
    store = ClaimStore(url)
    with store.engine.begin() as connection:  # a clean slate per test on the shared server
        for table in (
            "calculations",
            "corrections",
            "status_history",
            "invoice_keys",
            "issues",
            "fields",
            "documents",
            "claims",
        ):
            connection.execute(text(f"DELETE FROM {table}"))
    return store


def _result(claim_id: str, status: str, name: str = "张三") -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "status": status,
        "documents": [
            {
                "id": "a.jpg#1",
                "file": "a.jpg",
                "pages": [0],
                "doc_type": "id_card",
                "doc_type_confidence": 0.99,
                "fields": {"name": {"value": name, "confidence": 0.98, "raw": name}},
            }
        ],
        "issues": [
            {"code": "low_confidence", "severity": "warning", "message": "m", "field": "name"}
        ],
    }


MANIFEST = {"claim_id": "C-1", "claim_type": "referral", "care_type": "inpatient"}


def test_saving_the_same_result_twice_adds_no_rows(store: ClaimStore) -> None:
    assert store.save_result(_result("C-1", "needs_review"), MANIFEST, ["3706-001"]) is True
    assert store.save_result(_result("C-1", "needs_review"), MANIFEST, ["3706-001"]) is False
    assert store.count(FieldRow) == 1
    assert store.count(InvoiceKeyRow) == 1
    assert store.status_history("C-1") == [("needs_review", "low_confidence")]


def test_status_change_is_appended_to_history(store: ClaimStore) -> None:
    store.save_result(_result("C-1", "needs_review"), MANIFEST, [])
    store.save_result(_result("C-1", "complete", name="李四"), MANIFEST, [])
    assert [s for s, _ in store.status_history("C-1")] == ["needs_review", "complete"]
    assert store.get_result("C-1")["documents"][0]["fields"]["name"]["value"] == "李四"  # type: ignore[index]


def test_an_invoice_belongs_to_the_claim_that_used_it_first(store: ClaimStore) -> None:
    store.save_result(_result("C-1", "complete"), MANIFEST, ["37060126-0012345678"])
    store.save_result(
        _result("C-2", "rejected"), {**MANIFEST, "claim_id": "C-2"}, ["37060126-0012345678"]
    )
    assert store.claims_using_invoice("37060126-0012345678", "C-2") == ["C-1"]
    # re-running the first claim does not make it a duplicate of the second
    store.save_result(_result("C-1", "complete"), MANIFEST, ["37060126-0012345678"])
    assert store.claims_using_invoice("37060126-0012345678", "C-1") == []


def test_a_calculation_is_stored_once_per_input_digest(store: ClaimStore) -> None:
    store.save_result(_result("C-1", "complete"), MANIFEST, [])
    assert store.save_calculation("C-1", "d1", {"fund_payment": "10.00"}) is True
    assert store.save_calculation("C-1", "d1", {"fund_payment": "10.00"}) is False
    assert store.count(CalculationRow) == 1
    assert store.count(StatusHistoryRow) == 1
