"""The review and upload app in a real browser (Debian's Chromium driven by Playwright),
served by uvicorn over a real S3 server, the SQLite claim store, real OCR and Prefect flows.

The pages are Chinese by default (English per user); the tests read them as a Chinese reviewer
and claimant would, keyboard only where it matters. Screenshots of the review and upload pages
are saved to artifacts/screenshots/."""

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
from infra.s3server import EmbeddedS3
from infra.store import CalculationRow
from pipeline.settings import Settings
from webapp.accounts import Role

pytestmark = pytest.mark.ocr

PASSWORD = "review-password-1"
CLAIMANT = "carl"
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
        assert run_claim(CLAIM).status.value == "needs_review"
        yield runtime


@pytest.fixture(scope="module")
def base_url(runtime: Any) -> Iterator[str]:
    import uvicorn

    from webapp.server import build_app

    app = build_app(runtime)
    app.state.accounts.add_user("rita", PASSWORD, Role.REVIEWER)
    app.state.accounts.add_user(CLAIMANT, PASSWORD, Role.CLAIMANT)
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
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def _login(page: Any, base_url: str, target: str = "/claims", user: str = "rita") -> None:
    page.goto(f"{base_url}{target}")
    assert "/login" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
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
    page.click("main button[type=submit]")
    assert "用户名或密码错误" in page.inner_text(".error")
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
    assert response.headers["content-type"].startswith("text/html")
    assert "CSRF" in response.text() and "表单已过期" in response.text()
    assert not response.text().lstrip().startswith("{")
    api = page.request.post(f"{base_url}/api/claims/{CLAIM}/take")
    assert api.status == 403 and "CSRF" in api.json()["detail"], "the API keeps JSON"


def _field_input(page: Any, key: str) -> Any:
    return page.locator(f"form.field[data-ref$='-{key}'] input.value").first


def _invoice_value(runtime: Any, key: str) -> str:
    result = runtime.store.get_result(CLAIM)
    invoice = next(d for d in result["documents"] if d["doc_type"] == "medical_invoice")
    return str(invoice["fields"][key]["value"])


def _open_claim(page: Any, base_url: str) -> None:
    """Log in, open the claim and take it unless rita holds it already."""
    _login(page, base_url, f"/claims/{CLAIM}")
    take = page.locator("#take")
    if take.count():
        with page.expect_navigation():
            take.click()
    page.wait_for_selector("#release")


def _in_view(page: Any, selector: str = "document.activeElement") -> bool:
    return bool(
        page.evaluate(
            f"""() => {{ const r = ({selector}).getBoundingClientRect();
            return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }}"""
        )
    )


def test_pages_are_chinese_by_default_and_english_per_user(page: Any, base_url: str) -> None:
    _login(page, base_url)
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert "审核队列" in page.inner_text("h1")
    row = page.locator(f"tr[data-claim='{CLAIM}']")
    text = row.inner_text()
    assert "待审核" in text and "异地转诊就医" in text and "住院" in text
    for raw in ("needs_review", "referral", "inpatient", "amount_words_mismatch"):
        assert raw not in text, raw
    assert row.locator(".status").get_attribute("title") == "needs_review"
    counts = page.inner_text("#counts")
    assert "待审核" in counts and "材料齐全" in counts
    deadline = row.locator("td.deadline")
    assert re.search(r"剩余 \d+ 天|申报期已过 \d+ 天", deadline.inner_text()), "from the rules"
    assert "出院 2026-03-15" in (deadline.get_attribute("title") or "")
    page.screenshot(path="/tmp/shots/queue_desktop_populated.png", full_page=False)

    page.click("#lang-en")
    page.wait_for_url(f"{base_url}/claims*")
    assert page.get_attribute("html", "lang") == "en"
    assert "needs review" in page.locator(f"tr[data-claim='{CLAIM}'] .status").inner_text()
    assert "total in words differs" in page.inner_text(f"tr[data-claim='{CLAIM}']")
    page.goto(f"{base_url}/claims/{CLAIM}")
    assert "Audit trail" in page.inner_text("main"), "the choice is kept for the user"
    page.click("#lang-zh-CN")
    page.wait_for_url(f"{base_url}/claims/{CLAIM}*")
    assert "审核记录" in page.inner_text("main")


def test_keyboard_review_keeps_the_focused_field_in_view_and_never_traps(
    page: Any, base_url: str
) -> None:
    _open_claim(page, base_url)
    assert page.locator("[tabindex='-1']:not(#flash)").count() == 0, "no control is skipped"
    focused = page.evaluate("document.activeElement.className")
    assert "flagged-input" in focused, "after Take the first flagged field has the focus"
    assert _in_view(page), "the focused input is on screen, not just its box"
    first = page.evaluate("document.activeElement.id")

    # Tab follows the page: the reason box and the buttons of the field come next
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('reason')")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == first

    # Escape undoes a change, a second Escape leaves the field
    original = page.input_value(f"#{first}")
    page.keyboard.type("99")
    page.keyboard.press("Escape")
    assert page.input_value(f"#{first}") == original
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") != first

    # the document's own controls are reachable from the keyboard
    page.focus(f"#{first}")
    reached = set()
    for _ in range(400):  # every control of the page, however many fields are flagged
        page.keyboard.press("Shift+Tab")
        reached.add(page.evaluate("document.activeElement.textContent.trim()"))
        if any("向右旋转" in r for r in reached) and any("更改类型" in r for r in reached):
            break
    assert any("向右旋转" in r for r in reached) and any("更改类型" in r for r in reached)

    # Alt+↓ visits the next flagged field and shows it
    page.focus(f"#{first}")
    page.keyboard.press("Alt+ArrowDown")
    assert page.evaluate("document.activeElement.id") != first
    assert "flagged-input" in page.evaluate("document.activeElement.className")
    assert _in_view(page)

    # a visible focus ring
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert float(outline.replace("px", "")) >= 2, outline


def test_a_value_that_fails_its_own_check_is_refused_not_confirmed(
    page: Any, base_url: str, runtime: Any
) -> None:
    _open_claim(page, base_url)
    before = len(runtime.store.corrections(CLAIM))
    field = page.locator("form.field[data-key='id_number'] input.value").first
    bad = (field.input_value() or "37060219900101123") + "5"
    field.fill(bad)
    field.press("Enter")
    page.wait_for_selector("#problem")
    assert "不是有效的身份证号码" in page.inner_text("#problem")
    again = page.locator("form.field[data-key='id_number'] input.value").first
    assert again.input_value() == bad, "the typed value stays for correcting"
    assert again.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"
    assert "confirmed" not in (
        page.locator("form.field[data-key='id_number']").first.get_attribute("class") or ""
    )
    assert len(runtime.store.corrections(CLAIM)) == before, "nothing was recorded"

    date_field = page.locator("form.field[data-key='birth_date'] input.value").first
    date_field.fill("1990-13-45")
    date_field.press("Enter")
    page.wait_for_selector("#problem")
    assert "日期" in page.inner_text("#problem")
    assert len(runtime.store.corrections(CLAIM)) == before


def test_a_turned_page_is_read_again_keeps_clear_of_the_buttons_and_can_be_undone(
    page: Any, base_url: str, runtime: Any
) -> None:
    _open_claim(page, base_url)
    first = runtime.store.get_result(CLAIM)["documents"][0]
    section = page.locator("section.document").first
    image = section.locator("figure.page img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    width, height = int(image.get_attribute("width")), int(image.get_attribute("height"))
    section.locator("button.rotate-right").click()
    page.wait_for_url("**saved=rotate*")
    # the turned page was read again (OCR) and the outcome is in the audit trail
    reread = [c for c in runtime.store.corrections(CLAIM) if c.action == "reextract"]
    assert reread and reread[-1].doc_id == first["id"] and reread[-1].new_value["turn"] == 90
    assert reread[-1].new_value["read"] is True
    assert (
        "旋转 90° 后重新识别"
        in page.locator("#audit tr[data-action='reextract']").last.inner_text()
    )
    assert "重新识别" in page.inner_text("#flash")
    section = page.locator("section.document").first
    image = section.locator("figure.page img").first
    assert "turn=90" in (image.get_attribute("src") or "")
    assert (int(image.get_attribute("width")), int(image.get_attribute("height"))) == (
        height,
        width,
    )
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    figure = section.locator("figure.page").first.bounding_box()
    actions = section.locator(".doc-actions").bounding_box()
    heading = section.locator("h2").bounding_box()
    assert figure["y"] >= actions["y"] + actions["height"] - 1
    assert figure["y"] >= heading["y"] + heading["height"] - 1
    button = section.locator("button.rotate-reset")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).className",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert "rotate-reset" in hit, "the turned page does not cover the buttons"
    _screenshot(page, "review_rotated.png")
    button.click()
    page.wait_for_url("**saved=rotate*")
    # turned back upright, the page read again finds the document as the pipeline read it
    last = [c for c in runtime.store.corrections(CLAIM) if c.action == "reextract"][-1]
    assert last.new_value["turn"] == 0 and last.new_value["replaced"] is True
    assert last.new_value["fields_after"] >= last.new_value["fields_before"]
    again = runtime.store.get_result(CLAIM)["documents"][0]
    assert again["doc_type"] == first["doc_type"]
    assert again["fields"]["id_number"]["value"] == first["fields"]["id_number"]["value"]
    row = page.locator("#audit tr[data-action='reextract']").last.inner_text()
    assert "旋转 0° 后重新识别" in row and "已采用新结果" in row
    src = page.locator("section.document figure.page img").first.get_attribute("src") or ""
    assert "turn=" not in src
    assert page.locator("section.document").first.locator("button.rotate-reset").count() == 0


def test_an_expense_table_is_edited_with_live_sums(page: Any, base_url: str, runtime: Any) -> None:
    _open_claim(page, base_url)
    codes_before = sorted(
        (i["code"], i["field"]) for i in runtime.store.get_result(CLAIM)["issues"]
    )
    table = page.locator("form.table-edit[data-key='lines']").first
    table.scroll_into_view_if_needed()
    amounts = table.locator("input.cell-amount")
    rows = amounts.count()
    assert rows >= 2, "the read rows plus one blank row"
    verdict = table.locator(".sum-verdict")
    first = amounts.nth(0)
    value = Decimal(first.input_value())
    first.fill(f"{value + Decimal('1.00'):.2f}")
    assert "1.00" in verdict.inner_text() and "✗" in verdict.inner_text()
    first.fill(f"{value:.2f}")
    table.locator("button.row-add").click()
    assert table.locator("input.cell-amount").count() == rows + 1
    assert page.evaluate("document.activeElement.name") == "c_name"
    page.keyboard.type("测试项目")
    table.locator("input.cell-amount").last.fill("5.00")
    assert "5.00" in verdict.inner_text()
    table.locator("button.row-delete").last.click()
    assert table.locator("input.cell-amount").count() == rows
    table.locator("button.save").click()
    page.wait_for_url("**saved=table*")
    assert "表格已保存" in page.inner_text("#flash")
    audit = page.inner_text("#audit")
    assert "费用明细" in audit
    lines = next(
        d for d in runtime.store.get_result(CLAIM)["documents"] if d["doc_type"] == "expense_list"
    )["fields"]["lines"]
    assert lines["confidence"] == 1.0 and len(lines["value"]) == rows - 1
    codes = sorted((i["code"], i["field"]) for i in runtime.store.get_result(CLAIM)["issues"])
    assert codes == codes_before, "the same rows saved change nothing else"


def test_a_session_that_expired_returns_to_the_claim_with_the_edit(
    page: Any, base_url: str, runtime: Any
) -> None:
    _open_claim(page, base_url)
    field = page.locator("form.field[data-key='admission_number'] input.value").first
    field.fill("ZY-EXPIRED-1")
    page.context.clear_cookies()
    field.press("Enter")
    page.wait_for_url(re.compile(r"/login\?next=/claims/"))
    assert "登录已过期" in page.inner_text("#expired")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/claims/{CLAIM}")
    assert "审核记录" in page.inner_text("main"), "the claim page, not a JSON error"
    restored = page.locator("form.field[data-key='admission_number'] input.value").first
    assert restored.input_value() == "ZY-EXPIRED-1", "the unsaved edit is put back"
    assert "restored" in (
        page.locator("form.field[data-key='admission_number']").first.get_attribute("class") or ""
    )
    assert all(c.new_value != "ZY-EXPIRED-1" for c in runtime.store.corrections(CLAIM))


def test_pages_are_labelled_sized_and_fit_a_phone(browser: Any, base_url: str) -> None:
    context, page = _phone(browser)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    try:
        _login(page, base_url)
        take = page.locator(f"tr[data-claim='{CLAIM}'] form button").first
        assert CLAIM in (take.get_attribute("aria-label") or "")
        fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        assert page.evaluate(fits), "the queue fits 390 px"
        page.screenshot(path="/tmp/shots/queue_390.png", full_page=True)
        page.goto(f"{base_url}/claims/{CLAIM}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate(fits), page.evaluate(
            """() => Array.from(document.querySelectorAll('body *'))
              .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
              .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' +
                Math.round(e.getBoundingClientRect().right))"""
        )
        page.screenshot(path="/tmp/shots/claim_390.png", full_page=False)
        unlabelled = page.evaluate(
            """() => Array.from(document.querySelectorAll('input, select, textarea'))
              .filter(e => e.type !== 'hidden' && e.closest('template') === null)
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
              .map(e => e.outerHTML)"""
        )
        assert unlabelled == [], unlabelled[:3]
        sizes = page.evaluate(
            """() => Array.from(document.querySelectorAll('figure.page img'))
              .map(i => [i.getAttribute('width'), i.getAttribute('height')])"""
        )
        assert sizes and all(w and h for w, h in sizes), sizes
        assert page.locator("link[rel=icon]").count() == 1
        icon = page.request.get(f"{base_url}/static/favicon.svg")
        assert icon.status == 200 and "svg" in icon.headers["content-type"]
        assert missing == [], missing
        spoof = page.goto(f"{base_url}/claims/{CLAIM}?saved=理赔已批准，请拨打4008123456")
        assert spoof is not None and spoof.status == 200
        assert "4008123456" not in page.inner_text("body")
    finally:
        context.close()


def test_a_reviewer_corrects_flagged_fields_until_the_claim_is_complete_and_paid(
    page: Any, base_url: str, runtime: Any
) -> None:
    from playwright.sync_api import expect

    _login(page, base_url)
    row = page.locator(f"tr[data-claim='{CLAIM}']")
    tag = row.locator("[data-code=amount_words_mismatch]")
    assert "大写金额与小写金额不一致" in tag.inner_text()
    assert tag.get_attribute("title") == "amount_words_mismatch", "codes stay in tooltips"
    assert "amount_words_mismatch" not in row.inner_text()
    assert re.search(r"\d{4}\*{10}[\dX]{4}", row.inner_text()), "ID numbers are masked in lists"
    take = row.locator("button", has_text="领取")
    if take.count():
        take.click()
    else:  # rita holds it from the tests above
        row.locator("a").first.click()
    page.wait_for_url(f"{base_url}/claims/{CLAIM}*")
    assert "待审核" in page.inner_text("#claim-status")
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

    # Alt+↓ jumps to the next flagged field (Tab keeps the page order)
    words.focus()
    page.keyboard.press("Alt+ArrowDown")
    focused = page.evaluate("document.activeElement.closest('form').dataset.ref")
    assert not focused.endswith("-total_amount_words"), focused
    assert "flagged-input" in page.evaluate("document.activeElement.className")

    total = _invoice_value(runtime, "total_amount")
    cash = Decimal(_invoice_value(runtime, "cash_payment")) - Decimal("5.00")
    words = _field_input(page, "total_amount_words")
    words.fill(total)
    words.press("Enter")
    expect(page.locator("#flash")).to_contain_text("待审核")
    cash_input = _field_input(page, "cash_payment")
    cash_input.fill(f"{cash:.2f}")
    with page.expect_navigation():
        cash_input.press("Enter")
    # the fields still read with low confidence are confirmed as read: Enter on each, unchanged
    for _ in range(12):
        flagged_inputs = page.locator("input.flagged-input")
        if not flagged_inputs.count():
            break
        with page.expect_navigation():
            flagged_inputs.first.press("Enter")
    expect(page.locator("#claim-status")).to_contain_text("材料齐全")
    assert "材料齐全" in page.inner_text("#claim-status")
    assert "离开审核队列并释放" in page.inner_text("#flash")
    assert runtime.store.get_claim(CLAIM).claimed_by is None, "a complete claim is released"
    assert page.locator("#take").count() == 1
    assert "基金支付" in page.inner_text("#reimbursement")

    audit = page.inner_text("#audit")
    assert "rita" in audit and "合计（大写）" in audit and "个人现金支付" in audit
    assert f"→ {total}" in audit and "已对照原件更正" in audit
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
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.screenshot(path="/tmp/shots/claim_desktop.png", full_page=False)


def test_a_decision_with_its_reason_goes_to_the_audit_trail(
    page: Any, base_url: str, runtime: Any
) -> None:
    _open_claim(page, base_url)
    assert "材料齐全" in page.inner_text("#claim-status")
    page.click("#decision-approve")
    page.fill("#decision-reason", "金额已核对")
    page.click("#decide-button")
    page.wait_for_url(f"{base_url}/claims?saved=decided")
    assert "决定已记录" in page.inner_text("#flash")
    page.screenshot(path="/tmp/shots/queue_desktop.png", full_page=True)
    page.goto(f"{base_url}/claims/{CLAIM}")
    assert "批准" in page.inner_text("#last-decision")
    decision = page.locator("#audit tr[data-action='decision']")
    assert "批准" in decision.inner_text() and "金额已核对" in decision.inner_text()
    row = runtime.store.get_claim(CLAIM)
    assert row.claimed_by is None, "a decided claim is released"


def _phone(browser: Any) -> Any:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def test_a_claimant_uploads_photos_by_presigned_url_and_sees_the_verdict(
    browser: Any, base_url: str, runtime: Any
) -> None:
    from playwright.sync_api import expect

    context, page = _phone(browser)
    s3_puts: list[str] = []
    page.on(
        "request",
        lambda r: (
            s3_puts.append(r.url) if r.method == "PUT" and "X-Amz-Signature" in r.url else None
        ),
    )
    photos = SAMPLE_DOCS / "documents" / "photo"
    try:
        _login(page, base_url, "/upload", user=CLAIMANT)
        assert page.locator("a[href='/claims']").count() == 0, "claimants see no review queue"
        page.select_option("#claim_type", "referral")
        page.select_option("#care_type", "inpatient")
        page.fill("#treatment_region", "上海市")
        page.click("#start-button")
        page.wait_for_selector("#checklist li")
        claim_id = page.inner_text("#claim-id")
        assert "转诊证明" in page.inner_text("#checklist")
        assert "还缺" in page.inner_text("#message")
        file_input = page.locator("li.slot[data-slot='id_card'] input[type=file]")
        assert file_input.get_attribute("accept") == "image/*,application/pdf"
        assert file_input.get_attribute("capture") is None, "PDF receipts are not ruled out"
        assert "居民身份证" in (file_input.get_attribute("aria-label") or "")

        id_slot = page.locator("li.slot[data-slot='id_card']")
        id_slot.locator("input[type=file]").set_input_files(str(photos / "id_front_00.jpg"))
        expect(id_slot.locator(".verdict")).to_contain_text("可用", timeout=60_000)
        # then the file is read once in the background: is it the document the slot asks for?
        expect(id_slot.locator(".kind")).to_contain_text("已识别：居民身份证", timeout=90_000)
        expect(id_slot).to_have_class(re.compile(r"\bdone\b"))

        # an ID-card photo in the invoice slot: kept, counted as what it is, the slot still asks
        invoice_slot = page.locator("li.slot[data-slot='medical_invoice']")
        invoice_slot.locator("input[type=file]").set_input_files(str(photos / "id_front_00.jpg"))
        expect(invoice_slot.locator(".verdict")).to_contain_text("可用", timeout=60_000)
        expect(invoice_slot.locator(".kind progress")).to_have_count(1)
        assert "正在识别" in invoice_slot.locator(".kind").inner_text()
        wrong = invoice_slot.locator(".kind.wrong")
        expect(wrong).to_contain_text("看起来是居民身份证，不是医疗收费票据", timeout=90_000)
        assert "文件已保留" in wrong.inner_text()
        assert "done" not in (invoice_slot.get_attribute("class") or "")
        kept = [k for k, _ in runtime.objects.list_keys(f"claims/{claim_id}/")]
        assert sum("_medical_invoice_" in k for k in kept) == 1, "the file is not lost"
        page.screenshot(path="/tmp/shots/upload_wrong_slot_390.png", full_page=True)

        invoice_slot.locator("input[type=file]").set_input_files(
            str(photos / "id_front_bad_blur.jpg")
        )
        expect(invoice_slot.locator(".verdict")).to_contain_text("重拍", timeout=60_000)
        assert "模糊" in invoice_slot.locator(".verdict").inner_text()
        assert "done" not in (invoice_slot.get_attribute("class") or "")

        # a glare photo that is still usable keeps its advice
        summary_slot = page.locator("li.slot[data-slot='discharge_summary']")
        summary_slot.locator("input[type=file]").set_input_files(
            str(photos / "id_front_bad_glare.jpg")
        )
        expect(summary_slot.locator(".verdict")).not_to_contain_text("正在", timeout=60_000)
        glare = summary_slot.locator(".verdict").inner_text()
        assert "反光" in glare, glare
        _screenshot(page, "upload_page.png")
        page.screenshot(path="/tmp/shots/upload_390.png", full_page=True)

        # the draft survives a reload; Submit stays off and says what is missing
        page.reload()
        expect(page.locator("#claim-id")).to_have_text(claim_id)
        # files still being read are polled after the reload, until each has its answer
        expect(page.locator(".kind.reading")).to_have_count(0, timeout=90_000)
        assert "done" in (page.locator("li.slot[data-slot='id_card']").get_attribute("class") or "")
        assert page.locator("#submit").is_disabled()
        message = page.inner_text("#message")
        assert "还缺" in message and "医疗收费票据" in message and "转诊证明" in message
        csrf = page.locator("section.upload").get_attribute("data-csrf")
        refused = page.request.post(
            f"{base_url}/api/uploads/{claim_id}/submit", headers={"X-CSRF-Token": csrf or ""}
        )
        assert refused.status == 400
        assert "医疗收费票据" in refused.json()["detail"]
        assert "medical_invoice" in refused.json()["missing"]
        assert not runtime.objects.exists(f"claims/{claim_id}/claim.json")

        assert all(runtime.objects.url in u for u in s3_puts)
        keys = [k for k, _ in runtime.objects.list_keys(f"claims/{claim_id}/")]
        photo = next(k for k in keys if "_id_card_" in k)
        sent = (photos / "id_front_00.jpg").read_bytes()
        assert runtime.objects.read_bytes(photo) == sent

        for slot, name in [
            ("medical_invoice", "invoice_inpatient_01.jpg"),
            ("expense_list", "expense_list_01.jpg"),
            ("discharge_summary", "discharge_summary_01.jpg"),
            ("referral_form", "referral_01.jpg"),
        ]:
            item = page.locator(f"li.slot[data-slot='{slot}']")
            item.locator("input[type=file]").set_input_files(str(photos / name))
            expect(item).to_have_class(re.compile(r"\bdone\b"), timeout=60_000)
        expect(page.locator("#submit")).to_be_enabled()
        page.click("#submit")
        expect(page.locator("#message")).to_contain_text("已提交", timeout=60_000)
        manifest = json.loads(runtime.objects.read_bytes(f"claims/{claim_id}/claim.json"))
        assert manifest["claim_type"] == "referral" and manifest["claim_id"] == claim_id
        assert claim_id in runtime.objects.pending_claims()

        # the review queue is not theirs
        queue = page.goto(f"{base_url}/claims")
        assert queue is not None and queue.status == 403
        assert "仅供审核员" in page.inner_text("main")
    finally:
        context.close()


def test_the_statistics_page_reads_the_audit_trail_in_chinese_and_fits_a_phone(
    browser: Any, base_url: str, runtime: Any
) -> None:
    context, page = _phone(browser)
    try:
        _login(page, base_url, "/stats")
        assert "审核统计" in page.inner_text("h1")
        assert page.locator("header a[href='/stats']").count() == 1
        changes = [c for c in runtime.store.all_corrections() if c.action in ("edit", "confirm")]
        fields = page.locator("#stats-fields tbody tr[data-key]")
        types = {d["id"]: d["doc_type"] for d in runtime.store.get_result(CLAIM)["documents"]}
        expected = {(types.get(c.doc_id, "other"), c.key) for c in changes}
        assert fields.count() == min(len(expected), 25)
        for key in {c.key for c in changes if c.key == "cash_payment"}:
            row = page.locator(f"#stats-fields tr[data-key='{key}']").first
            assert "个人现金支付" in row.inner_text() and "医疗收费票据" in row.inner_text()
            assert int(row.locator("td.changed").inner_text()) >= 1
        if not changes:
            assert "尚无审核员改动" in page.inner_text("#stats-fields")
        share = page.inner_text("#stat-straight")
        assert "%" in share and "直通率" in share
        assert page.locator("svg.bar").count() >= 2, "bars drawn inline"
        fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        assert page.evaluate(fits), "the statistics page fits 390 px"
        page.screenshot(path="/tmp/shots/stats_390.png", full_page=True)
        page.set_viewport_size({"width": 1400, "height": 1000})
        _screenshot(page, "stats_page.png")
        page.screenshot(path="/tmp/shots/stats_desktop.png", full_page=True)
    finally:
        context.close()


def _invoice_section(page: Any) -> Any:
    return page.locator(
        "section.document", has=page.locator("h2 span[title='medical_invoice']")
    ).first


def _figure_width(section: Any) -> float:
    return float(section.locator("figure.page").first.bounding_box()["width"])


def test_the_page_viewer_zooms_and_keeps_the_focused_fields_box_in_sight(
    page: Any, base_url: str
) -> None:
    _open_claim(page, base_url)
    invoice = _invoice_section(page)
    stage = invoice.locator(".viewer-stage")
    image = invoice.locator("figure.page img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    fit = _figure_width(invoice)
    stage_width = float(stage.bounding_box()["width"])
    assert fit <= stage_width + 1
    invoice.locator("button.zoom-in").click()
    assert _figure_width(invoice) == pytest.approx(fit * 1.25, rel=0.03)
    assert invoice.locator(".zoom-level").inner_text() == "125%"
    stage.focus()
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert _figure_width(invoice) == pytest.approx(fit * 0.75, rel=0.03)
    page.keyboard.press("+")
    page.keyboard.press("0")
    assert _figure_width(invoice) == pytest.approx(fit, rel=0.01)
    # the viewer stays beside the fields while they scroll (sticky)
    assert invoice.locator(".pages").evaluate("e => getComputedStyle(e).position") == "sticky"

    # the focused field's box is highlighted and, zoomed in, scrolled into the viewer
    field = invoice.locator("form.field[data-key='total_amount'] input.value")
    box = invoice.locator("rect.box[data-ref$='-total_amount']")
    field.focus()
    assert "active" in (box.get_attribute("class") or "")
    for _ in range(4):
        invoice.locator("button.zoom-in").click()
    assert invoice.locator(".zoom-level").inner_text() == "250%"
    seen, pane = box.bounding_box(), stage.bounding_box()
    assert (
        pane["y"] - 1 <= seen["y"] and seen["y"] + seen["height"] <= pane["y"] + pane["height"] + 1
    )
    assert pane["x"] - 1 <= seen["x"] and seen["x"] + seen["width"] <= pane["x"] + pane["width"] + 1
    assert "active" in (box.get_attribute("class") or "")
    page.screenshot(path="/tmp/shots/viewer_zoomed.png", full_page=False)
    invoice.locator("button.zoom-fit").click()


def test_a_region_drawn_on_the_page_is_read_again_into_the_focused_field(
    page: Any, base_url: str, runtime: Any
) -> None:
    _open_claim(page, base_url)
    before = len(runtime.store.corrections(CLAIM))
    invoice = _invoice_section(page)
    image = invoice.locator("figure.page img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    field = invoice.locator("form.field[data-key='total_amount'] input.value")
    stored = _invoice_value(runtime, "total_amount")
    field.fill("")
    field.focus()
    invoice.locator("button.region-read").click()
    assert invoice.locator("button.region-read").get_attribute("aria-pressed") == "true"
    box = invoice.locator("rect.box[data-ref$='-total_amount']").bounding_box()
    pad = 4
    page.mouse.move(box["x"] - pad, box["y"] - pad)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    page.mouse.move(box["x"] + box["width"] + pad, box["y"] + box["height"] + pad, steps=3)
    page.mouse.up()
    page.wait_for_function("e => e.value !== ''", arg=field.element_handle(), timeout=60_000)
    read = field.input_value()
    digits = re.sub(r"\D", "", stored).rstrip("0")
    assert digits and digits in re.sub(r"\D", "", read), (stored, read)
    status = invoice.locator(".region-status").inner_text()
    assert "已填入" in status and "请核对后保存" in status
    assert page.evaluate("document.activeElement.name") == "value", "the field has the focus"
    page.screenshot(path="/tmp/shots/region_read.png", full_page=False)
    assert len(runtime.store.corrections(CLAIM)) == before, (
        "nothing is saved until the reviewer saves"
    )

    # keyboard only: Alt+R in a field reads that field's own box again
    field.fill("")
    field.press("Alt+r")
    page.wait_for_function("e => e.value !== ''", arg=field.element_handle(), timeout=60_000)
    assert digits in re.sub(r"\D", "", field.input_value())
    assert len(runtime.store.corrections(CLAIM)) == before


def test_a_word_clicked_on_the_page_fills_the_focused_field_unsaved(
    page: Any, base_url: str, runtime: Any
) -> None:
    _open_claim(page, base_url)
    before = len(runtime.store.corrections(CLAIM))
    invoice = _invoice_section(page)
    image = invoice.locator("figure.page img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    field = invoice.locator("form.field[data-key='total_amount'] input.value")
    stored = _invoice_value(runtime, "total_amount")
    field.focus()  # the page's words are fetched (read once with the OCR engine, then kept)
    page.wait_for_function(
        "s => s.querySelectorAll('rect.word').length > 10",
        arg=invoice.element_handle(),
        timeout=120_000,
    )
    assert invoice.locator("rect.word[tabindex]").count() == 0, "words are not in the Tab order"
    # the word that reads the total, inside the total's own (active) box: clicks go through it
    word = invoice.locator(f"rect.word[data-text$='{stored}']").first
    assert word.count() == 1, f"no word reads {stored}"
    field.fill("")
    word.click()
    page.wait_for_function("e => e.value !== ''", arg=field.element_handle())
    assert field.input_value() == stored, "¥ and labels dropped, as the editor writes amounts"
    assert page.evaluate("document.activeElement.closest('form').dataset.key") == "total_amount"
    assert "已填入" in invoice.locator(".region-status").inner_text()
    page.keyboard.press("Escape")
    assert field.input_value() == stored, "Escape undoes as for a typed change"

    # the 大写 words clicked into the 大写 field are written as an amount
    words_field = invoice.locator("form.field[data-key='total_amount_words'] input.value")
    words_field.focus()
    capital = invoice.locator("rect.word").evaluate_all(
        """rects => rects.findIndex(r => /[壹贰叁肆伍陆柒捌玖拾].*[元圆]/.test(r.dataset.text))"""
    )
    assert capital >= 0, "the 大写 amount is among the words"
    words_field.fill("")
    invoice.locator("rect.word").nth(capital).click(force=True)
    page.wait_for_function("e => e.value !== ''", arg=words_field.element_handle())
    assert re.fullmatch(r"\d+\.\d{2}", words_field.input_value()), words_field.input_value()
    page.screenshot(path="/tmp/shots/word_clicked.png", full_page=False)

    # a field's box still takes the focus to its field when clicked
    page.locator("rect.box[data-ref$='-cash_payment']").first.click(force=True)
    assert "active" in (
        page.locator("form.field[data-ref$='-cash_payment']").get_attribute("class") or ""
    )
    assert len(runtime.store.corrections(CLAIM)) == before, "nothing is saved by a click"


def test_the_page_viewer_zooms_inside_its_pane_at_phone_width(browser: Any, base_url: str) -> None:
    context, page = _phone(browser)
    try:
        _login(page, base_url, f"/claims/{CLAIM}")
        invoice = _invoice_section(page)
        invoice.locator(".viewer-stage").scroll_into_view_if_needed()
        fit = _figure_width(invoice)
        invoice.locator("button.zoom-in").click()
        invoice.locator("button.zoom-in").click()
        assert _figure_width(invoice) == pytest.approx(fit * 1.5, rel=0.03)
        fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        assert page.evaluate(fits), "the zoomed page scrolls inside the viewer, not the phone"
        stage = invoice.locator(".viewer-stage")
        assert stage.evaluate("e => e.scrollWidth > e.clientWidth")
        # a field far down the document: the viewer stays on screen above it, its box shown
        field = invoice.locator("form.field[data-key='total_amount'] input.value")
        field.scroll_into_view_if_needed()
        field.click()
        pane, seen = stage.bounding_box(), field.bounding_box()
        assert pane["y"] >= -1 and pane["y"] + pane["height"] <= 844
        assert seen["y"] >= pane["y"] + pane["height"] - 1, "the field is not under the viewer"
        box = invoice.locator("rect.box[data-ref$='-total_amount']")
        assert "active" in (box.get_attribute("class") or "")
        shown = box.bounding_box()
        assert pane["y"] - 1 <= shown["y"] <= pane["y"] + pane["height"]
        page.screenshot(path="/tmp/shots/viewer_390.png", full_page=False)
    finally:
        context.close()


def test_documents_are_merged_and_split_again_with_the_pages_split_off_read_again(
    page: Any, base_url: str, runtime: Any
) -> None:
    _open_claim(page, base_url)
    documents = runtime.store.get_result(CLAIM)["documents"]
    front = next(d for d in documents if d["file"] == "01_id_front.jpg")
    back = next(d for d in documents if d["file"] == "02_id_back.jpg")

    def section(doc_id: str) -> Any:
        return page.locator(
            "section.document", has=page.locator(f".viewer[data-doc='{doc_id}']")
        ).first

    # the ID card's back, read as a document of its own, is merged into its front
    section(front["id"]).locator("select[name=other]").select_option(back["id"])
    section(front["id"]).locator("button.merge-button").click()
    page.wait_for_url("**saved=merge*")
    assert "材料已合并" in page.inner_text("#flash")
    merged = runtime.store.get_result(CLAIM)["documents"]
    assert back["id"] not in [d["id"] for d in merged]
    one = next(d for d in merged if d["id"] == front["id"])
    assert one["continued"] == {"02_id_back.jpg": [0]}
    assert set(back["fields"]) <= set(one["fields"]), "the back's fields fill the front's"
    assert section(front["id"]).locator("figure.page").count() == 2
    assert "并入了" in page.locator("#audit tr[data-action='merge']").last.inner_text()

    # split again from its second page: that page becomes a document, read again (OCR);
    # a claim the merge left complete was released: take it again
    take = page.locator("#take")
    if take.count():
        with page.expect_navigation():
            take.click()
    split = section(front["id"])
    split.locator(".doc-actions").screenshot(path="/tmp/shots/split_merge_forms.png")
    assert split.locator("select[name=page] option").count() == 1
    split.locator("button.split-button").click()
    page.wait_for_url("**saved=split*", timeout=120_000)
    assert "材料已拆分" in page.inner_text("#flash")
    after = runtime.store.get_result(CLAIM)["documents"]
    first = next(d for d in after if d["id"] == front["id"])
    assert "continued" not in first and first["pages"] == front["pages"]
    created = next(d for d in after if d["file"] == "02_id_back.jpg")
    assert created["id"] != back["id"], "a new id, never the merged-away one's"
    assert created["doc_type"] == "id_card" and created["fields"], "read again"
    assert [d["id"] for d in after].index(created["id"]) == [d["id"] for d in after].index(
        first["id"]
    ) + 1
    assert "拆出了" in page.locator("#audit tr[data-action='split']").last.inner_text()
    section(created["id"]).screenshot(path="/tmp/shots/split_off_document.png")


def test_a_paper_that_contradicts_itself_is_decided_from_the_keyboard_with_a_reason(
    page: Any, base_url: str, runtime: Any
) -> None:
    from playwright.sync_api import expect

    _open_claim(page, base_url)
    # the 大写 amount as the paper prints it (the reviewer set it equal to 小写 above)
    total = Decimal(_invoice_value(runtime, "total_amount"))
    words = _field_input(page, "total_amount_words")
    words.fill(f"{total + 10:.2f}")
    with page.expect_navigation():
        words.press("Enter")
    form = page.locator("form.contradiction")
    expect(form).to_have_count(1)
    assert "票面本身矛盾" in form.inner_text()
    assert f"以小写金额 {total:.2f} 为准" in form.inner_text()
    assert f"以大写金额 {total + 10:.2f} 为准" in form.inner_text()
    before = len(runtime.store.corrections(CLAIM))
    form.locator("input[value=total_amount]").focus()
    page.keyboard.press("Space")
    reason = form.locator("input[name=reason]")
    assert reason.get_attribute("required") is not None
    form.screenshot(path="/tmp/shots/contradiction_form.png")
    reason.focus()
    page.keyboard.press("Enter")  # no reason: the browser keeps the form, nothing is recorded
    assert len(runtime.store.corrections(CLAIM)) == before
    reason.fill("票据大写笔误，以小写为准")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("矛盾已决定")
    decided = page.locator("#issues li.decided[data-code=amount_words_mismatch]")
    assert f"以小写金额 {total:.2f} 为准" in decided.inner_text()
    assert page.locator("#issues li:not(.decided)[data-code=amount_words_mismatch]").count() == 0
    assert page.locator("form.contradiction").count() == 0
    note = page.locator(".contradiction-decided").inner_text()
    assert "票据大写笔误，以小写为准" in note and "rita" in note
    audit = page.locator("#audit tr[data-action='contradiction']").last.inner_text()
    assert "票面矛盾决定" in audit and "票据大写笔误" in audit
    stored = runtime.store.get_result(CLAIM)
    assert "amount_words_mismatch" not in {i["code"] for i in stored["issues"]}
    invoice = next(d for d in stored["documents"] if d["doc_type"] == "medical_invoice")
    assert invoice["fields"]["total_amount_words"]["value"] == f"{total + 10:.2f}", "not edited"
    page.screenshot(path="/tmp/shots/contradiction_decided.png", full_page=False)
