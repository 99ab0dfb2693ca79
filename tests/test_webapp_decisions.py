"""A document that contradicts itself on the paper (合计 大写 ≠ 小写) is a reviewer's decision:
over HTTP against the real app, a real S3 server, a SQLite store, and the real pipeline (OCR,
extraction, validation, calculation) on the sample claim whose invoice says 10 yuan more in
words than in figures; revalidation after each change is the real one (flows/review.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from conftest import SAMPLE_DOCS
from fastapi.testclient import TestClient

from flows.claim import process_claim_folder
from flows.review import (
    contradictions,
    governed,
    held_contradictions,
    revalidate,
)
from infra.s3server import EmbeddedS3
from infra.storage import ObjectStore
from infra.store import ClaimStore
from pipeline.bundle import ClaimBundle, ClaimManifest
from pipeline.records import Document
from pipeline.settings import Settings
from webapp.accounts import Role
from webapp.app import create_app

pytestmark = pytest.mark.ocr

PASSWORD = "paper contradicts itself"
CLAIM = "C-2026-0008"  # invoice 大写 10 yuan above 小写, cash payment 5 yuan too high
RESULT_KEYS = {
    "claim_id",
    "status",
    "claim_type",
    "care_type",
    "documents",
    "file_problems",
    "missing_documents",
    "issues",
    "reimbursement",
}


@pytest.fixture(scope="module")
def app_parts(
    s3_server: EmbeddedS3, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, ClaimStore]]:
    state = tmp_path_factory.mktemp("web-decisions")
    local = settings.model_copy(
        update={"state_dir": state, "s3_bucket": f"webd-{uuid.uuid4().hex[:8]}"}
    )
    store = ClaimStore(f"sqlite:///{state / 'claims.db'}")
    objects = ObjectStore(local, endpoint=s3_server.endpoint)
    objects.ensure_bucket()
    result = process_claim_folder(
        SAMPLE_DOCS / "claims" / CLAIM, store=store, settings=local
    ).as_json()
    assert result["status"] == "needs_review"
    assert "amount_words_mismatch" in {i["code"] for i in result["issues"]}

    def reprocess(claim_id: str) -> dict[str, Any]:
        return revalidate(store, claim_id).as_json()

    app = create_app(local, store, objects, reprocess)
    app.state.accounts.add_user("dora", PASSWORD, Role.REVIEWER)
    yield app, store


def _login(app: Any, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303, response.text
    claims = client.get("/claims")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', claims.text)
    assert csrf is not None
    return client, csrf.group(1)


def _invoice(store: ClaimStore) -> dict[str, Any]:
    result = store.get_result(CLAIM)
    assert result is not None
    return next(d for d in result["documents"] if d["doc_type"] == "medical_invoice")


def test_a_contradiction_on_the_paper_is_decided_with_a_reason_not_edited(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, store = app_parts
    client, csrf = _login(app, "dora")
    headers = {"X-CSRF-Token": csrf}
    invoice = _invoice(store)
    figures = invoice["fields"]["total_amount"]["value"]
    words = invoice["fields"]["total_amount_words"]["value"]
    assert Decimal(words) - Decimal(figures) == Decimal("10.00")
    url = f"/api/claims/{CLAIM}/documents/contradiction"
    body = {"doc_id": invoice["id"], "governs": "total_amount", "reason": "大写笔误，以小写为准"}

    assert client.post(url, json=body, headers=headers).status_code == 409, "take it first"
    assert client.post(f"/api/claims/{CLAIM}/take", headers=headers).status_code == 200
    page = client.get(f"/claims/{CLAIM}").text
    assert "票面本身矛盾" in page and f"以小写金额 {figures} 为准" in page
    assert client.post(url, json=body).status_code == 403, "no CSRF token"
    no_reason = client.post(url, json={**body, "reason": "  "}, headers=headers)
    assert no_reason.status_code == 400
    other = next(d for d in store.get_result(CLAIM)["documents"] if d["id"] != invoice["id"])
    no_mismatch = client.post(url, json={**body, "doc_id": other["id"]}, headers=headers)
    assert no_mismatch.status_code == 400, "only a document that has the mismatch"
    not_an_amount = client.post(url, json={**body, "governs": "cash_payment"}, headers=headers)
    assert not_an_amount.status_code == 422
    form = client.post(
        f"/claims/{CLAIM}/documents/contradiction",
        data={"csrf_token": csrf, "doc_id": invoice["id"], "governs": "total_amount"},
    )
    assert form.status_code == 400 and "请写明理由" in form.text, "the form says what is missing"
    assert [c.action for c in store.corrections(CLAIM)] == [], "refusals record nothing"

    decided = client.post(url, json=body, headers=headers)
    assert decided.status_code == 200, decided.text
    assert set(decided.json()) == {"status", "issues"}
    codes = {i["code"] for i in decided.json()["issues"]}
    assert "amount_words_mismatch" not in codes, "no longer an open issue"
    assert "payment_parts_mismatch" in codes, "the other issues stay open"

    entry = store.corrections(CLAIM)[-1]
    assert (entry.action, entry.key, entry.reviewer) == ("contradiction", "total_amount", "dora")
    assert entry.reason == "大写笔误，以小写为准"
    assert entry.old_value == {"total_amount": figures, "total_amount_words": words}
    stored = store.get_result(CLAIM)
    assert set(stored) == RESULT_KEYS, "the result keeps its JSON contract"
    after = _invoice(store)
    assert after["fields"]["total_amount"]["value"] == figures, "nothing was edited"
    assert after["fields"]["total_amount_words"]["value"] == words
    assert "contradicts itself" in after["fields"]["total_amount_words"]["note"]
    assert set(after["fields"]["total_amount_words"]) <= {
        "value",
        "confidence",
        "bbox",
        "raw",
        "note",
    }

    page = client.get(f"/claims/{CLAIM}").text
    assert "已决定" in page and "大写笔误，以小写为准" in page, "it stays visible as decided"
    assert 'data-action="contradiction"' in page and "票面矛盾决定" in page
    assert 'class="contradiction stack"' not in page, "nothing left to decide"
    queue = client.get("/api/claims").json()
    entry_codes = next(e["issue_codes"] for e in queue if e["claim_id"] == CLAIM)
    assert "amount_words_mismatch" not in entry_codes

    # the rest of the claim is put right; it completes and is calculated on the 小写 amount
    cash = Decimal(after["fields"]["cash_payment"]["value"]) - Decimal("5.00")
    edit = {"doc_id": invoice["id"], "key": "cash_payment", "action": "edit", "value": f"{cash}"}
    result = client.post(f"/api/claims/{CLAIM}/corrections", json=edit, headers=headers).json()
    for _ in range(20):
        flagged = [i for i in result["issues"] if i["field"] and i["doc_ids"]]
        if not flagged:
            break
        confirm = {"doc_id": flagged[0]["doc_ids"][0], "key": flagged[0]["field"]}
        result = client.post(
            f"/api/claims/{CLAIM}/corrections",
            json={**confirm, "action": "confirm"},
            headers=headers,
        ).json()
    assert result["status"] == "complete", result["issues"]
    reimbursement = store.get_result(CLAIM)["reimbursement"]
    assert reimbursement is not None and reimbursement["fund_payment"]


def test_the_amount_in_words_governs_the_calculation_and_an_edit_reopens_the_question(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    _, store = app_parts
    row = store.get_claim(CLAIM)
    assert row is not None
    invoice = Document.from_json(_invoice(store))
    bundle = ClaimBundle(manifest=ClaimManifest.parse_data(row.manifest), documents=[invoice])
    decided = contradictions(store.corrections(CLAIM))
    assert set(held_contradictions(bundle, decided)) == {invoice.id}
    words_governs = {
        invoice.id: decided[invoice.id].model_copy(update={"governs": "total_amount_words"})
    }
    total = governed(bundle, words_governs).documents[0].fields["total_amount"].value
    assert (
        total == invoice.fields["total_amount_words"].value != invoice.fields["total_amount"].value
    )
    assert governed(bundle, decided).documents[0].fields["total_amount"].value == (
        invoice.fields["total_amount"].value
    )
    # the amount in figures read otherwise since: the decision no longer holds
    edited = invoice.model_copy(
        update={
            "record": invoice.record.model_copy(
                update={
                    "total_amount": invoice.fields["total_amount"].model_copy(
                        update={"value": Decimal("1.00")}
                    )
                }
            )
        }
    )
    assert held_contradictions(bundle.model_copy(update={"documents": [edited]}), decided) == {}
