"""The review queue's priority (submission deadline from the rules, waiting time, amount), the
statistics page and the review API's rules for region reading and merging, over HTTP against
the real app, a real S3 server and a SQLite store.
Reviewer changes go through the app's own correction API, so the audit trail is the real one."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import SAMPLE_DOCS
from fastapi.testclient import TestClient

from infra.s3server import EmbeddedS3
from infra.storage import ObjectStore
from infra.store import ClaimRow, ClaimStore
from pipeline.settings import Settings
from webapp.accounts import Role
from webapp.app import create_app
from webapp.stats import iso_week

PASSWORD = "queue and stats pass"
TODAY = date.today()
WINDOW = 30 + 30  # yantai.yaml: submission_days_after_discharge + submission_grace_days


def _field(value: Any) -> dict[str, Any]:
    return {"value": value, "confidence": 0.97, "bbox": None, "raw": str(value)}


def _invoice(doc_id: str, total: str, discharge: date | None) -> dict[str, Any]:
    fields = {"total_amount": _field(total), "invoice_number": _field("00012345")}
    if discharge is not None:
        fields["discharge_date"] = _field(discharge.isoformat())
    return {
        "id": doc_id,
        "file": doc_id.split("#")[0],
        "pages": [0],
        "doc_type": "medical_invoice",
        "doc_type_confidence": 0.95,
        "region": None,
        "quality": {},
        "fields": fields,
        "missing": {},
    }


def _claim(
    claim_id: str, status: str, total: str, discharge: date | None, care: str = "inpatient"
) -> tuple[dict[str, Any], dict[str, Any]]:
    issues = (
        [
            {
                "code": "low_confidence",
                "severity": "warning",
                "message": "total read with low confidence",
                "doc_ids": [f"{claim_id}.jpg#1"],
                "field": "total_amount",
                "bbox": None,
            }
        ]
        if status == "needs_review"
        else []
    )
    result = {
        "claim_id": claim_id,
        "status": status,
        "claim_type": "referral",
        "care_type": care,
        "documents": [_invoice(f"{claim_id}.jpg#1", total, discharge)],
        "file_problems": [],
        "missing_documents": [],
        "issues": issues,
        "reimbursement": None,
    }
    manifest = {
        "claim_id": claim_id,
        "claim_type": "referral",
        "care_type": care,
        "insured_region": "烟台市",
        "treatment_region": "上海市",
        "submitted_on": TODAY.isoformat(),
    }
    return result, manifest


# claim -> (status, amount, discharge date, hours waited)
CLAIMS = {
    "Q-TEN-LEFT": ("needs_review", "900.00", TODAY - timedelta(days=WINDOW - 10), 5),
    "Q-TWO-LEFT": ("needs_review", "100.00", TODAY - timedelta(days=WINDOW - 2), 1),
    "Q-NO-DATE": ("needs_review", "5000.00", None, 300),
    "Q-OVERDUE": ("needs_review", "50.00", TODAY - timedelta(days=WINDOW + 20), 30),
    "Q-STRAIGHT": ("complete", "300.00", TODAY - timedelta(days=5), 2),
    "Q-REVIEWED": ("needs_review", "400.00", TODAY - timedelta(days=WINDOW - 20), 3),
}


@pytest.fixture(scope="module")
def app_parts(
    s3_server: EmbeddedS3, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, ClaimStore]]:
    state = tmp_path_factory.mktemp("web-queue")
    local = settings.model_copy(
        update={"state_dir": state, "s3_bucket": f"webq-{uuid.uuid4().hex[:8]}"}
    )
    store = ClaimStore(f"sqlite:///{state / 'claims.db'}")
    objects = ObjectStore(local, endpoint=s3_server.endpoint)
    objects.ensure_bucket()
    for claim_id, (status, total, discharge, hours) in CLAIMS.items():
        result, manifest = _claim(claim_id, status, total, discharge)
        store.save_result(result, manifest, [])
        with store.session() as session:
            row = session.get(ClaimRow, claim_id)
            assert row is not None
            row.created_at = datetime.now(UTC) - timedelta(hours=hours)

    def reprocess(claim_id: str) -> dict[str, Any]:
        """Validation again from the stored result: a claim whose flagged total a reviewer
        vouched for has no issue left and is complete (what the reprocess flow concludes)."""
        row = store.get_claim(claim_id)
        assert row is not None
        confirmed = store.confirmed_fields(claim_id)
        issues = [
            i
            for i in row.result["issues"]
            if not any(f"{d}:{i['field']}" in confirmed for d in i["doc_ids"])
        ]
        result = {
            **row.result,
            "issues": issues,
            "status": "needs_review" if issues else "complete",
        }
        store.save_result(result, row.manifest, [])
        return result

    app = create_app(local, store, objects, reprocess)
    app.state.accounts.add_user("quinn", PASSWORD, Role.REVIEWER)
    app.state.accounts.add_user("cora", PASSWORD, Role.CLAIMANT)
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
    home = client.get("/upload")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf is not None
    return client, csrf.group(1)


def test_the_queue_puts_the_nearest_deadline_first_then_the_longest_waiting(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, _ = app_parts
    client, _ = _login(app, "quinn")
    entries = client.get("/api/claims").json()
    order = [e["claim_id"] for e in entries]
    assert order == ["Q-TWO-LEFT", "Q-TEN-LEFT", "Q-REVIEWED", "Q-NO-DATE", "Q-OVERDUE"], order
    by_id = {e["claim_id"]: e for e in entries}
    assert by_id["Q-TWO-LEFT"]["days_left"] == 2
    assert by_id["Q-TWO-LEFT"]["due_date"] == (TODAY + timedelta(days=2)).isoformat()
    assert by_id["Q-OVERDUE"]["days_left"] == -20
    assert by_id["Q-OVERDUE"]["submitted_late"] is True, "submitted today, due 20 days ago"
    assert by_id["Q-TWO-LEFT"]["submitted_late"] is False
    assert by_id["Q-NO-DATE"]["days_left"] is None
    assert "Q-STRAIGHT" not in order, "complete claims are not in the queue"

    by_age = [e["claim_id"] for e in client.get("/api/claims?sort=age").json()]
    assert by_age[0] == "Q-NO-DATE", "oldest first"
    by_amount = [e["claim_id"] for e in client.get("/api/claims?sort=amount").json()]
    assert by_amount[:2] == ["Q-NO-DATE", "Q-TEN-LEFT"]

    page = client.get("/claims").text
    rows = re.findall(r'<tr data-claim="([^"]+)"', page)
    assert rows == order, "the page shows the API's order"
    assert "剩余 2 天" in page and "申报期已过 20 天" in page and "申报截止" in page
    assert page.count("逾期提交") == 1
    assert re.search(r'<option value="priority"\s+selected', page)
    counts = re.search(r'<ul class="counts" id="counts".*?</ul>', page, re.S)
    assert counts is not None and "<b>5</b>" in counts.group(0) and "<b>1</b>" in counts.group(0)


def test_a_claim_that_becomes_complete_leaves_the_queue_released(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, store = app_parts
    client, csrf = _login(app, "quinn")
    headers = {"X-CSRF-Token": csrf}
    assert client.post("/api/claims/Q-TEN-LEFT/take", headers=headers).status_code == 200
    form = client.post(
        "/claims/Q-TEN-LEFT/corrections",
        data={
            "csrf_token": csrf,
            "doc_id": "Q-TEN-LEFT.jpg#1",
            "key": "total_amount",
            "action": "edit",
            "value": "950.00",
            "reason": "票据上写的是 950",
        },
    )
    assert form.status_code == 303
    assert "saved=complete" in form.headers["location"]
    row = store.get_claim("Q-TEN-LEFT")
    assert row is not None and row.status == "complete" and row.claimed_by is None
    assert "Q-TEN-LEFT" not in [e["claim_id"] for e in client.get("/api/claims").json()]
    page = client.get("/claims/Q-TEN-LEFT?saved=complete").text
    assert "材料齐全，案件已离开审核队列并释放" in page


def test_statistics_show_straight_through_share_and_the_fields_reviewers_touch(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, store = app_parts
    client, csrf = _login(app, "quinn")
    headers = {"X-CSRF-Token": csrf}
    assert client.post("/api/claims/Q-REVIEWED/take", headers=headers).status_code == 200
    confirmed = client.post(
        "/api/claims/Q-REVIEWED/corrections",
        json={"doc_id": "Q-REVIEWED.jpg#1", "key": "total_amount", "action": "confirm"},
        headers=headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "complete"

    stats = client.get("/api/stats").json()
    assert stats["claims"] == len(CLAIMS)
    # Q-STRAIGHT alone was complete from the start and never touched; Q-TEN-LEFT (corrected,
    # test above, when run with it) and Q-REVIEWED (confirmed) became complete by review
    assert stats["straight_through"] == 1
    assert stats["straight_through_share"] == round(1 / len(CLAIMS), 4)
    fields = {(f["doc_type"], f["key"]): f for f in stats["fields"]}
    total = fields[("medical_invoice", "total_amount")]
    assert total["confirmed"] >= 1
    invoice = next(d for d in stats["doc_types"] if d["doc_type"] == "medical_invoice")
    assert invoice["documents"] == len(CLAIMS) and invoice["reviewed"] >= 1
    this_week = iso_week(datetime.now(UTC))
    week = next(w for w in stats["weeks"] if w["week"] == this_week)
    assert week["changes"] >= 1
    assert sum(w["claims"] for w in stats["weeks"]) == len(CLAIMS), "Q-NO-DATE came weeks ago"
    assert len(stats["weeks"]) >= 2

    page = client.get("/stats")
    assert page.status_code == 200
    html = page.text
    assert "审核统计" in html and "直通率" in html
    assert f"{100 / len(CLAIMS):.1f}%" in html
    assert 'data-key="total_amount"' in html and "合计" in html and "医疗收费票据" in html
    assert '<svg class="bar' in html, "inline SVG bars, nothing from a CDN"
    assert "http://" not in html.split("<main", 1)[1] and "https://" not in html
    assert this_week in html
    assert 'id="stats-forms"' not in html, "no result names a form family: no such table"
    store_changes = [c for c in store.all_corrections() if c.claim_id == "Q-REVIEWED"]
    assert [c.action for c in store_changes] == ["confirm"]


def test_statistics_break_documents_and_fields_down_by_form_family(
    s3_server: EmbeddedS3, settings: Settings, tmp_path: Any
) -> None:
    """Results whose documents name their form family (票据版式, as the extractor records it in
    `form`): the statistics count documents and reviewer changes per form, worst first."""
    local = settings.model_copy(
        update={"state_dir": tmp_path, "s3_bucket": f"webf-{uuid.uuid4().hex[:8]}"}
    )
    store = ClaimStore(f"sqlite:///{tmp_path / 'claims.db'}")
    objects = ObjectStore(local, endpoint=s3_server.endpoint)
    objects.ensure_bucket()
    forms = {"F-E-1": "电子票据", "F-E-2": "电子票据", "F-IN-1": "住院票据", "F-NONE": None}
    for claim_id, form in forms.items():
        result, manifest = _claim(claim_id, "needs_review", "100.00", TODAY - timedelta(days=5))
        if form:
            result["documents"][0]["form"] = form
        store.save_result(result, manifest, [])

    def reprocess(claim_id: str) -> dict[str, Any]:
        """The stored result as it is (the statistics read the audit trail, not the status)."""
        result = store.get_result(claim_id)
        assert result is not None
        return result

    app = create_app(local, store, objects, reprocess)
    app.state.accounts.add_user("fay", PASSWORD, Role.REVIEWER)
    client, csrf = _login(app, "fay")
    headers = {"X-CSRF-Token": csrf}
    for claim_id, action, value in (("F-IN-1", "edit", "120.00"), ("F-E-1", "confirm", "")):
        assert client.post(f"/api/claims/{claim_id}/take", headers=headers).status_code == 200
        change = {"doc_id": f"{claim_id}.jpg#1", "key": "total_amount", "action": action}
        response = client.post(
            f"/api/claims/{claim_id}/corrections", json={**change, "value": value}, headers=headers
        )
        assert response.status_code == 200, response.text

    stats = client.get("/api/stats").json()
    by_form = {(f["doc_type"], f["form"]): f for f in stats["forms"]}
    assert set(by_form) == {("medical_invoice", "电子票据"), ("medical_invoice", "住院票据")}
    inpatient = by_form[("medical_invoice", "住院票据")]
    assert (inpatient["documents"], inpatient["reviewed"]) == (1, 1)
    assert (inpatient["changed_fields"], inpatient["confirmed_fields"]) == (1, 0)
    electronic = by_form[("medical_invoice", "电子票据")]
    assert (electronic["documents"], electronic["reviewed"]) == (2, 1)
    assert (electronic["changed_fields"], electronic["confirmed_fields"]) == (0, 1)
    assert [f["form"] for f in stats["forms"]] == ["住院票据", "电子票据"], "worst share first"
    fields = {(f["doc_type"], f["form"], f["key"]): f for f in stats["fields"]}
    assert fields[("medical_invoice", "住院票据", "total_amount")]["changed"] == 1
    assert fields[("medical_invoice", "电子票据", "total_amount")]["confirmed"] == 1

    html = client.get("/stats").text
    assert "按票据版式" in html
    table = html.split('id="stats-forms"', 1)[1].split("</table>", 1)[0]
    assert "票据版式" in table and "医疗收费票据" in table
    row = re.search(r'data-form="住院票据">(.*?)</tr>', table)
    assert row is not None and "住院票据" in row.group(1) and "100%" in row.group(1)
    row = re.search(r'data-form="电子票据">(.*?)</tr>', table)
    assert row is not None and "50%" in row.group(1)
    fields_table = html.split('id="stats-fields"', 1)[1].split("</table>", 1)[0]
    assert "<td>住院票据</td>" in fields_table and "<td>电子票据</td>" in fields_table


def test_statistics_are_for_reviewers_only(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    client, _ = _login(app, "cora")
    assert client.get("/stats").status_code == 403
    assert client.get("/api/stats").status_code == 403
    visitor = TestClient(app, follow_redirects=False)
    assert visitor.get("/stats").status_code == 303
    assert visitor.get("/api/stats").status_code == 401


def test_reading_a_region_needs_a_reviewer_the_csrf_token_and_a_page_of_the_claim(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, _ = app_parts
    body = {"file": "Q-TWO-LEFT.jpg", "page": 0, "box": [0.1, 0.1, 0.5, 0.2]}
    url = "/api/claims/Q-TWO-LEFT/read-region"
    visitor = TestClient(app, follow_redirects=False)
    assert visitor.post(url, json=body).status_code == 401
    claimant, claimant_csrf = _login(app, "cora")
    assert claimant.post(url, json=body, headers={"X-CSRF-Token": claimant_csrf}).status_code == 403
    client, csrf = _login(app, "quinn")
    assert client.post(url, json=body).status_code == 403, "no CSRF token"
    headers = {"X-CSRF-Token": csrf}
    other = {**body, "file": "Q-TEN-LEFT.jpg"}
    assert client.post(url, json=other, headers=headers).status_code == 404, "another claim's file"
    traversal = {**body, "file": "../Q-TEN-LEFT/Q-TEN-LEFT.jpg"}
    assert client.post(url, json=traversal, headers=headers).status_code == 404
    outside = {**body, "box": [0.1, 0.1, 1.5, 0.2]}
    assert client.post(url, json=outside, headers=headers).status_code == 422


def test_page_words_are_for_reviewers_and_a_picked_word_is_written_as_the_field_wants(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, store = app_parts
    words = "/api/claims/Q-TWO-LEFT/files/{name}/pages/0/words"
    own = words.format(name="Q-TWO-LEFT.jpg")
    visitor = TestClient(app, follow_redirects=False)
    assert visitor.get(own).status_code == 401
    claimant, claimant_csrf = _login(app, "cora")
    assert claimant.get(own).status_code == 403
    client, csrf = _login(app, "quinn")
    assert client.get(words.format(name="Q-TEN-LEFT.jpg")).status_code == 404, "another claim's"
    assert client.get(own.replace("/pages/0/", "/pages/1000/")).status_code == 404

    url = "/api/claims/Q-TWO-LEFT/field-text"
    body = {"doc_id": "Q-TWO-LEFT.jpg#1", "key": "total_amount", "text": "(小写)¥1,234.5"}
    assert client.post(url, json=body).status_code == 403, "no CSRF token"
    headers = {"X-CSRF-Token": csrf}
    assert claimant.post(url, json=body, headers={"X-CSRF-Token": claimant_csrf}).status_code == 403
    picked = client.post(url, json=body, headers=headers)
    assert picked.status_code == 200
    assert picked.json() == {"text": "1234.50", "normalised": True}
    date_word = {**body, "key": "discharge_date", "text": "2026年3月1日"}
    assert client.post(url, json=date_word, headers=headers).json()["text"] == "2026-03-01"
    plain = {**body, "key": "invoice_number", "text": "00012345"}
    assert client.post(url, json=plain, headers=headers).json() == {
        "text": "00012345",
        "normalised": False,
    }
    other = {**body, "doc_id": "Q-TEN-LEFT.jpg#1"}
    assert client.post(url, json=other, headers=headers).status_code == 400, "another claim's"
    assert store.corrections("Q-TWO-LEFT") == [], "picking a word saves nothing"


def test_merging_needs_the_claim_held_and_two_different_documents_of_it(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, store = app_parts
    client, csrf = _login(app, "quinn")
    headers = {"X-CSRF-Token": csrf}
    url = "/api/claims/Q-OVERDUE/documents/merge"
    body = {"doc_id": "Q-OVERDUE.jpg#1", "other": "Q-OVERDUE.jpg#1"}
    assert client.post(url, json=body, headers=headers).status_code == 409, "take it first"
    assert client.post("/api/claims/Q-OVERDUE/take", headers=headers).status_code == 200
    assert client.post(url, json=body, headers=headers).status_code == 400, "not into itself"
    other = {**body, "other": "Q-TWO-LEFT.jpg#1"}
    assert client.post(url, json=other, headers=headers).status_code == 400, "another claim's"
    assert client.post(url, json=other).status_code == 403, "no CSRF token"
    split = client.post(
        "/api/claims/Q-OVERDUE/documents/split",
        json={"doc_id": "Q-OVERDUE.jpg#1", "page": 1},
        headers=headers,
    )
    assert split.status_code == 400, "a one-page document has nothing to split"
    assert [c.action for c in store.corrections("Q-OVERDUE")] == []


@pytest.mark.ocr
def test_a_file_left_waiting_by_a_restarted_server_is_read_when_its_draft_is_next_seen(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    from webapp.uploads import DraftRow

    app, store = app_parts
    client, csrf = _login(app, "cora")
    headers = {"X-CSRF-Token": csrf}
    started = client.post(
        "/api/uploads",
        json={"claim_type": "referral", "care_type": "inpatient", "treatment_region": "上海市"},
        headers=headers,
    )
    assert started.status_code == 200, started.text
    claim_id = started.json()["claim_id"]
    target = client.post(
        f"/api/uploads/{claim_id}/files",
        json={"slot": "id_card", "filename": "id.jpg"},
        headers=headers,
    ).json()
    name = target["name"]
    photo = SAMPLE_DOCS / "documents" / "photo" / "id_front_00.jpg"
    assert httpx.put(target["url"], content=photo.read_bytes()).status_code == 200
    with store.session() as session:  # judged usable, then the server stopped mid-read
        row = session.get(DraftRow, claim_id)
        assert row is not None
        row.files = {
            name: {
                "slot": "id_card",
                "verdict": {"usable": True, "flags": [], "advice": []},
                "kind": {"state": "pending", "doc_types": [], "matches": None},
            }
        }
    deadline = datetime.now(UTC) + timedelta(seconds=120)
    while True:
        state = client.get(f"/api/uploads/{claim_id}").json()
        kind = state["files"][name]["kind"]
        if kind["state"] != "pending" or datetime.now(UTC) > deadline:
            break
        assert not next(i for i in state["checklist"] if i["slot"] == "id_card")["done"]
        time.sleep(0.5)
    assert kind == {"state": "done", "doc_types": ["id_card"], "matches": True}
    state = client.get(f"/api/uploads/{claim_id}").json()
    assert next(i for i in state["checklist"] if i["slot"] == "id_card")["done"]
