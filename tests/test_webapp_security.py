"""Review app access rules over HTTP (real S3 server, real SQLite store, the real app):
sessions, roles, CSRF, login limits, claim locking, IDOR, path traversal, escaping."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.s3server import EmbeddedS3
from infra.storage import ObjectStore
from infra.store import ClaimStore
from pipeline.settings import Settings
from webapp.accounts import Role
from webapp.app import create_app

PASSWORD = "correct horse battery"
EVIL = "<script>alert('x')</script>"
CLAIM = "C-WEB-0001"
MANIFEST = {
    "claim_id": CLAIM,
    "claim_type": "referral",
    "care_type": "inpatient",
    "insured_region": "烟台市",
    "treatment_region": "上海市",
    "submitted_on": "2026-03-01",
}


def _result() -> dict[str, Any]:
    """A stored claim whose extracted text carries a script (as hostile OCR output would)."""
    return {
        "claim_id": CLAIM,
        "status": "needs_review",
        "claim_type": "referral",
        "care_type": "inpatient",
        "documents": [
            {
                "id": "id.jpg#1",
                "file": "id.jpg",
                "pages": [0],
                "doc_type": "id_card",
                "doc_type_confidence": 0.97,
                "region": None,
                "quality": {},
                "fields": {
                    "name": {"value": EVIL, "confidence": 0.5, "bbox": None, "raw": EVIL},
                    "id_number": {
                        "value": "330102199001011231",
                        "confidence": 0.99,
                        "bbox": [0, 0.1, 0.1, 0.5, 0.2],
                        "raw": "330102199001011231",
                    },
                },
                "missing": {},
            }
        ],
        "file_problems": [],
        "missing_documents": [],
        "issues": [
            {
                "code": "low_confidence",
                "severity": "warning",
                "message": "name read with confidence 0.50",
                "doc_ids": ["id.jpg#1"],
                "field": "name",
                "bbox": None,
            }
        ],
        "reimbursement": None,
    }


@pytest.fixture(scope="module")
def app_parts(
    s3_server: EmbeddedS3, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, ClaimStore]]:
    state = tmp_path_factory.mktemp("web")
    local = settings.model_copy(
        update={"state_dir": state, "s3_bucket": f"web-{uuid.uuid4().hex[:8]}"}
    )
    store = ClaimStore(f"sqlite:///{state / 'claims.db'}")
    objects = ObjectStore(local, endpoint=s3_server.endpoint)
    objects.ensure_bucket()
    store.save_result(_result(), MANIFEST, [])
    reprocessed: list[str] = []

    def reprocess(claim_id: str) -> dict[str, Any]:
        reprocessed.append(claim_id)
        stored = store.get_result(claim_id)
        assert stored is not None
        return stored

    app = create_app(local, store, objects, reprocess)
    accounts = app.state.accounts
    accounts.add_user("rita", PASSWORD, Role.REVIEWER)
    accounts.add_user("rob", PASSWORD, Role.REVIEWER)
    accounts.add_user("adam", PASSWORD, Role.ADMIN)
    yield app, store


def _client(app: Any) -> TestClient:
    return TestClient(app, follow_redirects=False)


def _login(app: Any, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    client = _client(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303, response.text
    claims = client.get("/claims")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', claims.text)
    assert csrf is not None
    return client, csrf.group(1)


def _page_routes(app: Any) -> list[tuple[str, str]]:
    routes = []
    for route in app.routes:
        path = getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", None) or ()):
            if method in {"HEAD", "OPTIONS"} or path.startswith(("/static", "/api/docs")):
                continue
            routes.append((method, path))
    return routes


def _concrete(path: str) -> str:
    return (
        path.replace("{claim_id}", CLAIM)
        .replace("{name}", "id.jpg")
        .replace("{page}", "0")
        .replace("{path}", "x")
    )


def test_every_route_but_login_and_health_refuses_a_visitor_without_a_session(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, _ = app_parts
    client = _client(app)
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 401, "the API description is private too"
    public = {("GET", "/health"), ("GET", "/login"), ("POST", "/login")}
    checked = 0
    for method, path in _page_routes(app):
        if (method, path) in public or path == "/api/openapi.json":
            continue
        response = client.request(method, _concrete(path))
        checked += 1
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
        else:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login")
    assert checked >= 20
    assert client.get("/health").json() == {"status": "ok"}


def test_the_openapi_spec_lists_the_api_and_every_api_route_needs_a_session(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, _ = app_parts
    client, _ = _login(app, "rita")
    spec = client.get("/api/openapi.json").json()
    anonymous = _client(app)
    assert len(spec["paths"]) >= 10
    for path, methods in spec["paths"].items():
        for method in methods:
            if path == "/health":
                continue
            response = anonymous.request(method.upper(), _concrete(path))
            assert response.status_code == 401, (method, path)


def test_a_reviewer_is_refused_on_admin_routes(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    client, csrf = _login(app, "rita")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/api/admin/users").status_code == 403
    response = client.post(
        "/admin/users",
        data={"username": "mallory", "password": PASSWORD, "role": "admin", "csrf_token": csrf},
    )
    assert response.status_code == 403
    admin, _ = _login(app, "adam")
    assert {"username": "rita", "role": "reviewer"} in admin.get("/api/admin/users").json()
    assert "mallory" not in admin.get("/admin/users").text


def test_forms_and_api_calls_without_the_session_csrf_token_are_refused(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, store = app_parts
    client, _ = _login(app, "rita")
    forged = client.post(f"/claims/{CLAIM}/take", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert client.post(f"/api/claims/{CLAIM}/take").status_code == 403
    _, other_csrf = _login(app, "rob")
    stolen = client.post(f"/claims/{CLAIM}/take", data={"csrf_token": other_csrf})
    assert stolen.status_code == 403, "another session's token is no good either"
    row = store.get_claim(CLAIM)
    assert row is not None and row.claimed_by is None
    logout = client.post("/logout", data={"csrf_token": "nope"})
    assert logout.status_code == 403
    assert client.get("/claims").status_code == 200


def test_logout_ends_the_session_on_the_server(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    client, csrf = _login(app, "rita")
    cookie = client.cookies.get("intake_session")
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    replay = _client(app)
    replay.cookies.set("intake_session", cookie or "")
    assert replay.get("/api/claims").status_code == 401


def test_repeated_failed_logins_are_rate_limited(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    app.state.accounts.add_user("vicky", PASSWORD, Role.REVIEWER)
    client = _client(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    codes = [
        client.post(
            "/login",
            data={"username": "vicky", "password": f"wrong-{i}", "csrf_token": token.group(1)},
        ).status_code
        for i in range(7)
    ]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    blocked = client.post(
        "/login", data={"username": "vicky", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert blocked.status_code == 429, "even the right password waits out the window"


def test_login_never_redirects_to_another_site(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    client = _client(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    response = client.post(
        "/login",
        data={
            "username": "rob",
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/", "the start page, which sends each role on"


def test_two_reviewers_cannot_hold_one_claim(app_parts: tuple[Any, ClaimStore]) -> None:
    app, store = app_parts
    rita, rita_csrf = _login(app, "rita")
    rob, rob_csrf = _login(app, "rob")
    headers = {"X-CSRF-Token": rita_csrf}
    assert rita.post(f"/api/claims/{CLAIM}/take", headers=headers).json()["claimed_by"] == "rita"
    taken = rob.post(f"/api/claims/{CLAIM}/take", headers={"X-CSRF-Token": rob_csrf})
    assert taken.status_code == 409 and "rita" in taken.json()["detail"]
    change = {"doc_id": "id.jpg#1", "key": "name", "action": "confirm"}
    refused = rob.post(
        f"/api/claims/{CLAIM}/corrections", json=change, headers={"X-CSRF-Token": rob_csrf}
    )
    assert refused.status_code == 409
    released = rob.post(f"/api/claims/{CLAIM}/release", headers={"X-CSRF-Token": rob_csrf})
    assert released.status_code == 409
    assert rita.post(f"/api/claims/{CLAIM}/release", headers=headers).status_code == 200
    row = store.get_claim(CLAIM)
    assert row is not None and row.claimed_by is None


def test_a_claimants_upload_is_invisible_to_other_users(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, _ = app_parts
    rita, rita_csrf = _login(app, "rita")
    rob, rob_csrf = _login(app, "rob")
    draft = rita.post(
        "/api/uploads",
        json={"claim_type": "referral", "care_type": "inpatient", "treatment_region": "上海市"},
        headers={"X-CSRF-Token": rita_csrf},
    ).json()
    claim_id = draft["claim_id"]
    assert {i["slot"] for i in draft["checklist"]} >= {"id_card", "referral_form"}
    assert rob.get(f"/api/uploads/{claim_id}").status_code == 404
    presign = rob.post(
        f"/api/uploads/{claim_id}/files",
        json={"slot": "id_card", "filename": "a.jpg"},
        headers={"X-CSRF-Token": rob_csrf},
    )
    assert presign.status_code == 404
    assert rob.post(
        f"/api/uploads/{claim_id}/submit", headers={"X-CSRF-Token": rob_csrf}
    ).status_code in {404}


@pytest.mark.parametrize(
    "path",
    [
        f"/claims/{CLAIM}/files/..%2F..%2Fetc%2Fpasswd/pages/0.png",
        f"/claims/{CLAIM}/files/%2Fetc%2Fpasswd/pages/0.png",
        f"/claims/{CLAIM}/files/claim.json/pages/0.png",
        "/claims/..%2Fquarantine/files/id.jpg/pages/0.png",
        f"/claims/{CLAIM}/files/id.jpg/pages/99999.png",
        "/static/..%2F..%2Fpipeline%2Fsettings.py",
    ],
)
def test_image_routes_serve_only_the_claims_own_pages(
    app_parts: tuple[Any, ClaimStore], path: str
) -> None:
    app, _ = app_parts
    client, _ = _login(app, "rita")
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)


def test_extracted_text_is_escaped_on_the_review_page(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    client, _ = _login(app, "rita")
    page = client.get(f"/claims/{CLAIM}")
    assert page.status_code == 200
    assert EVIL not in page.text
    assert "&lt;script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_lists_mask_id_numbers(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    client, _ = _login(app, "rita")
    queue = client.get("/api/claims").json()
    entry = next(e for e in queue if e["claim_id"] == CLAIM)
    assert entry["patient_id_number"] == "3301**********1231"
    assert "330102199001011231" not in client.get("/claims").text


def test_a_bad_correction_gets_a_message_a_reviewer_can_act_on(
    app_parts: tuple[Any, ClaimStore], tmp_path: Path
) -> None:
    app, _ = app_parts
    client, csrf = _login(app, "rob")
    headers = {"X-CSRF-Token": csrf}
    assert client.post(f"/api/claims/{CLAIM}/take", headers=headers).status_code == 200
    wrong_field = client.post(
        f"/api/claims/{CLAIM}/corrections",
        json={"doc_id": "id.jpg#1", "key": "total_amount", "action": "edit", "value": "1"},
        headers=headers,
    )
    assert wrong_field.status_code == 400 and "no field" in wrong_field.json()["detail"]
    bad_date = client.post(
        f"/api/claims/{CLAIM}/corrections",
        json={"doc_id": "id.jpg#1", "key": "birth_date", "action": "edit", "value": "1990-13-45"},
        headers=headers,
    )
    assert bad_date.status_code == 400 and "2026-03-01" in bad_date.json()["detail"]
    client.post(f"/api/claims/{CLAIM}/release", headers=headers)


def test_users_add_creates_an_account_that_can_log_in(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipeline.settings import get_settings
    from webapp.accounts import Accounts
    from webapp.cli import app as cli

    runner = CliRunner()
    added = runner.invoke(
        cli, ["users", "add", "wang.li", "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert added.exit_code == 0, added.output
    assert "created reviewer wang.li" in added.output
    again = runner.invoke(
        cli, ["users", "add", "wang.li", "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert again.exit_code == 1 and "exists already" in again.output
    weak = runner.invoke(cli, ["users", "add", "li.na", "--password-stdin"], input="short\n")
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
    listed = runner.invoke(cli, ["users", "list"])
    assert "wang.li\treviewer" in listed.output
    accounts = Accounts(ClaimStore(get_settings().store_url()))
    assert accounts.verify("wang.li", PASSWORD) and not accounts.verify("wang.li", "nope")


def test_pages_show_errors_as_chinese_html_while_the_api_keeps_json(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, _ = app_parts
    client, csrf = _login(app, "rita")
    forged = client.post(f"/claims/{CLAIM}/take", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and forged.headers["content-type"].startswith("text/html")
    assert "CSRF 校验失败" in forged.text and '"detail"' not in forged.text
    incomplete = client.post(f"/claims/{CLAIM}/corrections", data={"csrf_token": csrf})
    assert incomplete.status_code == 422 and incomplete.headers["content-type"].startswith(
        "text/html"
    )
    assert "表单内容不完整" in incomplete.text
    assert client.get("/claims/NO-SUCH-CLAIM").status_code == 404
    assert "没有这个案件" in client.get("/claims/NO-SUCH-CLAIM").text
    api = client.post(f"/api/claims/{CLAIM}/corrections", json={}, headers={"X-CSRF-Token": csrf})
    assert api.status_code == 422 and api.headers["content-type"] == "application/json"


def test_the_saved_banner_shows_only_fixed_messages(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    client, _ = _login(app, "rita")
    spoof = client.get(f"/claims/{CLAIM}", params={"saved": "您的报销已批准，请致电 400-1234"})
    assert "400-1234" not in spoof.text and 'id="flash"' not in spoof.text
    fixed = client.get(f"/claims/{CLAIM}", params={"saved": "saved"})
    assert 'id="flash"' in fixed.text and "已保存" in fixed.text


def test_an_expired_session_on_a_form_post_returns_to_the_claim_page(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, _ = app_parts
    response = _client(app).post(f"/claims/{CLAIM}/corrections", data={"doc_id": "x"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/claims/{CLAIM}&expired=1"


def test_a_claimant_has_the_upload_page_only(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    app.state.accounts.add_user("clara", PASSWORD, Role.CLAIMANT)
    client, _ = _login(app, "clara") if False else (_client(app), "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    login = client.post(
        "/login", data={"username": "clara", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert client.get(login.headers["location"]).headers["location"] == "/upload"
    upload = client.get("/upload")
    assert upload.status_code == 200 and 'accept="image/*,application/pdf"' in upload.text
    assert "capture=" not in upload.text and 'href="/claims"' not in upload.text
    for path in ("/claims", f"/claims/{CLAIM}", "/api/claims", f"/api/claims/{CLAIM}"):
        assert client.get(path).status_code == 403, path
    assert "仅供审核员" in client.get("/claims").text


def test_english_is_chosen_per_user_and_kept(app_parts: tuple[Any, ClaimStore]) -> None:
    app, _ = app_parts
    app.state.accounts.add_user("emma", PASSWORD, Role.REVIEWER)
    client, csrf = _login(app, "emma")
    assert '<html lang="zh-CN">' in client.get("/claims").text
    switched = client.post(
        "/settings/language", data={"csrf_token": csrf, "language": "en", "next": "/claims"}
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/claims"
    again, _ = _login(app, "emma")
    page = again.get("/claims").text
    assert '<html lang="en">' in page and "Review queue" in page
    rita, _ = _login(app, "rita")
    assert "审核队列" in rita.get("/claims").text, "one user's choice is theirs alone"


def test_a_correction_that_fails_its_own_check_is_refused(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, store = app_parts
    client, csrf = _login(app, "rob")
    headers = {"X-CSRF-Token": csrf}
    assert client.post(f"/api/claims/{CLAIM}/take", headers=headers).status_code == 200
    before = len(store.corrections(CLAIM))
    bad = client.post(
        f"/api/claims/{CLAIM}/corrections",
        json={
            "doc_id": "id.jpg#1",
            "key": "id_number",
            "action": "edit",
            "value": "3301021990010112311",
        },
        headers=headers,
    )
    assert bad.status_code == 400 and "GB 11643" in bad.json()["detail"]
    page = client.post(
        f"/claims/{CLAIM}/corrections",
        data={
            "csrf_token": csrf,
            "doc_id": "id.jpg#1",
            "key": "id_number",
            "action": "edit",
            "value": "330102199001011232",
        },
    )
    assert page.status_code == 400 and "不是有效的身份证号码" in page.text
    assert 'value="330102199001011232"' in page.text and 'aria-invalid="true"' in page.text
    assert len(store.corrections(CLAIM)) == before
    client.post(f"/api/claims/{CLAIM}/release", headers=headers)


def test_decisions_need_their_reasons_and_go_to_the_audit_trail(
    app_parts: tuple[Any, ClaimStore],
) -> None:
    app, store = app_parts
    client, csrf = _login(app, "rob")
    headers = {"X-CSRF-Token": csrf}
    assert client.post(f"/api/claims/{CLAIM}/take", headers=headers).status_code == 200
    url = f"/api/claims/{CLAIM}/decision"
    assert client.post(url, json={"kind": "reject"}, headers=headers).status_code == 400
    assert client.post(url, json={"kind": "approve"}, headers=headers).status_code == 400
    assert client.post(url, json={"kind": "return_to_claimant"}, headers=headers).status_code == 400
    returned = client.post(
        url,
        json={
            "kind": "return_to_claimant",
            "documents": ["id_card"],
            "reason": "身份证照片反光，请重新拍摄",
        },
        headers=headers,
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["documents"] == ["id_card"]
    last = store.corrections(CLAIM)[-1]
    assert last.action == "decision" and last.key == "return_to_claimant" and last.reviewer == "rob"
    row = store.get_claim(CLAIM)
    assert row is not None and row.claimed_by is None, "a decided claim is released"
    queue = [e["claim_id"] for e in client.get("/api/claims").json()]
    assert CLAIM not in queue, "a decided claim leaves the queue"
    assert CLAIM in [e["claim_id"] for e in client.get("/api/claims?status=needs_review").json()]
    audit = client.get(f"/claims/{CLAIM}").text
    assert "退回申请人补件" in audit and "居民身份证" in audit
