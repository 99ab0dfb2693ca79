"""The review and upload app in a real browser (Debian's Chromium driven by Playwright),
served by uvicorn over a real S3 server, the SQLite claim store, real OCR and Prefect flows.

Screenshots of the review and upload pages are saved to artifacts/screenshots/."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SAMPLE_DOCS, flows_runtime

from flows.pipeline_run import upload_claim_folder
from pipeline.s3server import EmbeddedS3
from pipeline.settings import Settings
from pipeline.store import CalculationRow
from webapp.accounts import Role

pytestmark = pytest.mark.ocr

PASSWORD = "review-password-1"
CLAIM = "C-2026-0008"  # invoice 大写 10 yuan above 小写, cash payment 5 yuan too high
ARTIFACTS = Path(os.environ.get("INTAKE_TEST_ARTIFACTS", REPO / "artifacts")) / "screenshots"
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--disable-component-update",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def runtime(
    s3_server: EmbeddedS3,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    prefect_engine: None,
) -> Iterator[Any]:
    from flows.prefect_flows import run_claim

    with flows_runtime(
        settings, tmp_path_factory.mktemp("browser"), "browser", s3_server
    ) as runtime:
        upload_claim_folder(runtime.objects, SAMPLE_DOCS / "claims" / CLAIM)
        assert run_claim(CLAIM)["status"] == "needs_review"
        yield runtime


@pytest.fixture(scope="module")
def base_url(runtime: Any) -> Iterator[str]:
    import uvicorn

    from webapp.server import build_app

    app = build_app(runtime)
    app.state.accounts.add_user("rita", PASSWORD, Role.REVIEWER)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the review app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _login(page: Any, base_url: str, target: str = "/claims") -> None:
    page.goto(f"{base_url}{target}")
    assert "/login" in page.url
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{target}*")


def _screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_login_logout_and_no_access_without_a_session(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/claims/{CLAIM}")
    assert page.url.startswith(f"{base_url}/login")
    api = page.request.get(f"{base_url}/api/claims")
    assert api.status == 401
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert "Wrong user name or password" in page.inner_text(".error")
    _login(page, base_url, f"/claims/{CLAIM}")
    assert CLAIM in page.inner_text("h1")
    page.click("#logout")
    page.wait_for_url(f"{base_url}/login*")
    page.goto(f"{base_url}/claims")
    assert page.url.startswith(f"{base_url}/login")


def test_a_forged_form_is_refused_in_the_browser(page: Any, base_url: str) -> None:
    _login(page, base_url)
    response = page.request.post(
        f"{base_url}/claims/{CLAIM}/take", form={"csrf_token": "forged-token"}
    )
    assert response.status == 403
    assert "CSRF" in response.text()


def _field_input(page: Any, key: str) -> Any:
    return page.locator(f"form.field[data-ref$='-{key}'] input.value").first


def _invoice_value(runtime: Any, key: str) -> str:
    result = runtime.store.get_result(CLAIM)
    invoice = next(d for d in result["documents"] if d["doc_type"] == "medical_invoice")
    return str(invoice["fields"][key]["value"])


def test_a_reviewer_corrects_flagged_fields_until_the_claim_is_complete_and_paid(
    page: Any, base_url: str, runtime: Any
) -> None:
    _login(page, base_url)
    row = page.locator(f"tr[data-claim='{CLAIM}']")
    assert "amount_words_mismatch" in row.inner_text()
    assert re.search(r"\d{4}\*{10}[\dX]{4}", row.inner_text()), "ID numbers are masked in lists"
    row.locator("button", has_text="Take").click()
    page.wait_for_url(f"{base_url}/claims/{CLAIM}*")
    assert "needs review" in page.inner_text("#claim-status")
    flagged = page.locator("form.field.flagged")
    assert flagged.count() >= 2

    # clicking a field's box highlights the field, and focusing a field highlights its box
    words = _field_input(page, "total_amount_words")
    words.focus()
    assert "active" in (
        page.locator("rect.box[data-ref$='-total_amount_words']").first.get_attribute("class") or ""
    )
    page.locator("rect.box[data-ref$='-cash_payment']").first.click(force=True)
    assert "active" in (
        page.locator("form.field[data-ref$='-cash_payment']").get_attribute("class") or ""
    )

    # Tab moves between flagged fields only
    words.focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('form').dataset.ref")
    assert focused.endswith(("-cash_payment", "-total_amount")), focused

    total = _invoice_value(runtime, "total_amount")
    cash = Decimal(_invoice_value(runtime, "cash_payment")) - Decimal("5.00")
    words = _field_input(page, "total_amount_words")
    words.fill(total)
    words.press("Enter")
    page.wait_for_selector("#flash")
    assert "needs review" in page.inner_text("#flash")
    cash_input = _field_input(page, "cash_payment")
    cash_input.fill(f"{cash:.2f}")
    cash_input.press("Enter")
    page.wait_for_selector("#flash")
    assert "complete" in page.inner_text("#flash")
    assert "complete" in page.inner_text("#claim-status")
    assert "fund pays" in page.inner_text("#reimbursement")

    audit = page.inner_text("#audit")
    assert "rita" in audit and "total_amount_words" in audit and "cash_payment" in audit
    assert f"→ {total}" in audit and "value corrected against the page image" in audit
    assert "confirmed" in (
        page.locator("form.field[data-ref$='-cash_payment']").get_attribute("class") or ""
    )
    _screenshot(page, "review_page.png")

    stored = runtime.store.get_result(CLAIM)
    assert stored["status"] == "complete" and stored["reimbursement"]["fund_payment"]
    assert runtime.store.count(CalculationRow) == 1
    published = runtime.objects.get_json(f"claims/{CLAIM}/_results/result.json")
    assert published["status"] == "complete"
    original = (SAMPLE_DOCS / "claims" / CLAIM / "03_invoice.jpg").read_bytes()
    assert runtime.objects.read_bytes(f"claims/{CLAIM}/03_invoice.jpg") == original


def test_a_claimant_uploads_photos_by_presigned_url_and_sees_the_verdict(
    browser: Any, base_url: str, runtime: Any
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 412, "height": 915}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    s3_puts: list[str] = []
    page.on(
        "request",
        lambda r: (
            s3_puts.append(r.url) if r.method == "PUT" and "X-Amz-Signature" in r.url else None
        ),
    )
    try:
        _login(page, base_url, "/upload")
        page.select_option("#claim_type", "referral")
        page.select_option("#care_type", "inpatient")
        page.fill("#treatment_region", "上海市")
        page.click("#start-button")
        page.wait_for_selector("#checklist li")
        claim_id = page.inner_text("#claim-id")
        assert "referral form" in page.inner_text("#checklist")
        assert "Still missing" in page.inner_text("#message")

        id_slot = page.locator("li.slot[data-slot='id_card']")
        id_slot.locator("input[type=file]").set_input_files(
            str(SAMPLE_DOCS / "documents" / "photo" / "id_front_00.jpg")
        )
        expect(id_slot.locator(".verdict")).to_contain_text("usable", timeout=60_000)
        assert "done" in (id_slot.get_attribute("class") or "")

        invoice_slot = page.locator("li.slot[data-slot='medical_invoice']")
        invoice_slot.locator("input[type=file]").set_input_files(
            str(SAMPLE_DOCS / "documents" / "photo" / "id_front_bad_blur.jpg")
        )
        expect(invoice_slot.locator(".verdict")).to_contain_text("retake", timeout=60_000)
        verdict = invoice_slot.locator(".verdict").inner_text()
        assert "blur" in verdict
        assert "done" not in (invoice_slot.get_attribute("class") or "")
        _screenshot(page, "upload_page.png")

        assert len(s3_puts) == 2 and all(runtime.objects.url in u for u in s3_puts)
        keys = [k for k, _ in runtime.objects.list_keys(f"claims/{claim_id}/")]
        assert len(keys) == 2 and any("_id_card_" in k for k in keys)
        photo = next(k for k in keys if "_id_card_" in k)
        sent = (SAMPLE_DOCS / "documents" / "photo" / "id_front_00.jpg").read_bytes()
        assert runtime.objects.read_bytes(photo) == sent

        page.click("#submit")
        expect(page.locator("#message")).to_contain_text("Submitted", timeout=60_000)
        manifest = json.loads(runtime.objects.read_bytes(f"claims/{claim_id}/claim.json"))
        assert manifest["claim_type"] == "referral" and manifest["claim_id"] == claim_id
        assert claim_id in runtime.objects.pending_claims()
    finally:
        context.close()
