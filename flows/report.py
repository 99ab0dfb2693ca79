"""A self-contained HTML report of processed claims, in Chinese: a summary first (claims by
status, fund payments, the most frequent issues, the straight-through share, as bar charts),
then each claim with its issues, its calculation as a table and its pages with field boxes.

Page images are embedded as small JPEGs with the extracted fields' boxes drawn as SVG
rectangles on top, so the report is one file that opens anywhere, offline. The words come
from the same message catalogue as the review app (`flows/messages/zh-CN.yaml`).
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flows.i18n import Catalogue, catalogue
from pipeline.errors import IntakeError
from pipeline.reader import PageImage, iter_page_images

THUMB_WIDTH = 900
STATUS_COLOURS = {
    "complete": "#1b7f3b",
    "incomplete": "#b26a00",
    "needs_review": "#b3261e",
    "rejected": "#5f2a8c",
}


def page_thumbnails(path: Path) -> dict[int, tuple[str, int, int]]:
    """Page index -> (data URL, width, height) for every page of an upload."""
    import cv2

    thumbs: dict[int, tuple[str, int, int]] = {}
    try:
        items = list(iter_page_images(path))
    except IntakeError:
        return thumbs
    for item in items:
        if not isinstance(item, PageImage):
            continue  # text-layer PDF pages have no image to show
        image = item.image
        scale = THUMB_WIDTH / image.shape[1]
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 70])
        if ok:
            url = "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode()
            thumbs[item.index] = (url, small.shape[1], small.shape[0])
    return thumbs


def _boxes_svg(document: dict[str, Any], page: int, width: int, height: int) -> str:
    shapes = []
    for key, field in document["fields"].items():
        box = field.get("bbox")
        if not box or box[0] != page:
            continue
        _, x0, y0, x1, y1 = box
        colour = "#1b7f3b" if field["confidence"] >= 0.9 else "#b3261e"
        shapes.append(
            f'<rect x="{x0 * width:.1f}" y="{y0 * height:.1f}" width="{(x1 - x0) * width:.1f}" '
            f'height="{(y1 - y0) * height:.1f}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{html.escape(key)}: {html.escape(str(field['value']))}</title></rect>"
        )
    return "".join(shapes)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _bars(rows: list[tuple[str, float, str, str]]) -> str:
    """A horizontal bar chart in plain HTML/CSS: (label, value, shown value, colour)."""
    top = max((value for _, value, _, _ in rows), default=0.0) or 1.0
    items = "".join(
        f'<div class="bar"><span class="bar-label" title="{_e(label)}">{_e(label)}</span>'
        f'<span class="bar-track"><span class="bar-fill" style="width:{100 * value / top:.1f}%;'
        f'background:{colour}"></span></span><span class="bar-value">{_e(shown)}</span></div>'
        for label, value, shown, colour in rows
    )
    return f'<div class="bars">{items}</div>'


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _summary(results: list[dict[str, Any]], m: Catalogue) -> str:
    total = len(results)
    by_status = Counter(r["status"] for r in results)
    status_rows = [
        (m.status_label(s), float(by_status.get(s, 0)), str(by_status.get(s, 0)), colour)
        for s, colour in STATUS_COLOURS.items()
    ]
    paid = [
        (r["claim_id"], _money((r.get("reimbursement") or {}).get("fund_payment"))) for r in results
    ]
    paid = [(c, v) for c, v in paid if v > 0]
    fund_total = sum((v for _, v in paid), Decimal(0))
    fund_rows = [(c, float(v), f"{v:.2f}", "#1b7f3b") for c, v in paid]
    issues = Counter(i["code"] for r in results for i in r.get("issues", []))
    issue_rows = [
        (m.issue_text(code), float(n), str(n), "#b3261e") for code, n in issues.most_common(8)
    ]
    straight = by_status.get("complete", 0)
    share = straight / total if total else 0.0
    return (
        f"<section class='summary'><h2>{_e(m.t('report_summary'))}</h2>"
        f"<div class='tiles'><div class='tile'><b>{total}</b>{_e(m.t('report_claims'))}</div>"
        f"<div class='tile'><b>{fund_total:.2f}</b>{_e(m.t('report_fund_total'))}</div>"
        f"<div class='tile'><b>{share:.0%}</b>{_e(m.t('report_straight_through'))}</div></div>"
        f"<div class='charts'><div><h3>{_e(m.t('report_by_status'))}</h3>{_bars(status_rows)}</div>"
        f"<div><h3>{_e(m.t('report_fund_payments'))}</h3>"
        f"{_bars(fund_rows) if fund_rows else _e(m.t('report_none'))}</div>"
        f"<div><h3>{_e(m.t('report_top_issues'))}</h3>"
        f"{_bars(issue_rows) if issue_rows else _e(m.t('report_none'))}</div></div>"
        f"<p class='note'>{_e(m.t('report_straight_note'))}</p></section>"
    )


def _calculation(money: dict[str, Any], m: Catalogue) -> str:
    """The calculation as tables: each line with its class, rule and amounts; then the steps."""
    lines = "".join(
        f"<tr><td>{_e(line.get('name', ''))}</td>"
        f"<td>{_e(line.get('category') or '')}</td><td>{_e(line.get('treated_as', ''))}</td>"
        f"<td class='num'>{_e(line.get('amount', ''))}</td>"
        f"<td class='num'>{_e(line.get('compliant', ''))}</td><td>{_e(line.get('rule', ''))}</td></tr>"
        for line in money.get("lines", [])
    )
    steps = "".join(
        f"<tr><td>{_e(step.get('step', ''))}</td>"
        f"<td class='num'>{_e(step['figure']) if step.get('figure') is not None else ''}</td>"
        f"<td>{_e(step.get('rule', ''))}</td>"
        f"<td>{_e(step['policy_key']) if step.get('policy_key') else ''}</td></tr>"
        if isinstance(step, dict)
        else f"<tr><td colspan='4'>{_e(step)}</td></tr>"
        for step in money.get("explanation", [])
    )
    head = (
        f"<h3>{_e(m.t('reimbursement'))} <small>{_e(money.get('policy'))}</small></h3>"
        f"<p>{_e(m.t('money_compliant'))} {_e(money['compliant_amount'])} · "
        f"{_e(m.t('money_deductible'))} {_e(money['deductible'])} · "
        f"<b>{_e(m.t('money_fund'))} {_e(money['fund_payment'])}</b> · "
        f"{_e(m.t('money_individual'))} {_e(money['individual_payment'])}</p>"
    )
    if money.get("refusal_reason"):
        head += f"<p class='warn'>{_e(money['refusal_reason'])}</p>"
    line_table = (
        f"<table><tr><th>{_e(m.column_label('name'))}</th><th>{_e(m.column_label('category'))}</th>"
        f"<th>{_e(m.column_label('class'))}</th><th>{_e(m.column_label('amount'))}</th>"
        f"<th>{_e(m.column_label('compliant'))}</th><th>{_e(m.column_label('rule'))}</th></tr>"
        f"{lines}</table>"
        if lines
        else ""
    )
    step_table = (
        f"<table><tr><th>{_e(m.t('report_step'))}</th><th>{_e(m.column_label('amount'))}</th>"
        f"<th>{_e(m.column_label('rule'))}</th><th>{_e(m.t('report_policy_key'))}</th></tr>"
        f"{steps}</table>"
        if steps
        else ""
    )
    return head + line_table + step_table


def _claim_section(result: dict[str, Any], folder: Path | None, m: Catalogue) -> str:
    status = result["status"]
    parts = [
        f"<section><h2>{_e(result['claim_id'])} "
        f'<span class="status" style="background:{STATUS_COLOURS.get(status, "#444")}" '
        f'title="{_e(status)}">{_e(m.status_label(status))}</span></h2>',
        f"<p>{_e(m.claim_type_label(result.get('claim_type', '')))} · "
        f"{_e(m.care_type_label(result.get('care_type', '')))}</p>",
    ]
    if result["missing_documents"]:
        names = "、".join(m.doc_type_label(d) for d in result["missing_documents"])
        parts.append(f"<p><b>{_e(m.t('missing_documents'))}</b> {_e(names)}</p>")
    if result["issues"]:
        rows = "".join(
            f"<tr><td>{_e(m.severity_label(i['severity']))}</td>"
            f"<td title='{_e(i['code'])}'>{_e(m.issue_text(i['code']))}</td>"
            f"<td>{_e(m.field_label(i['field'])) if i.get('field') else ''}</td>"
            f"<td class='detail'>{_e(i['message'])}</td></tr>"
            for i in result["issues"]
        )
        parts.append(
            f"<table><tr><th>{_e(m.t('report_severity'))}</th><th>{_e(m.t('issues'))}</th>"
            f"<th>{_e(m.t('audit_field'))}</th><th>{_e(m.t('report_detail'))}</th></tr>{rows}</table>"
        )
    money = result.get("reimbursement")
    if money:
        parts.append(_calculation(money, m))
    for document in result["documents"]:
        parts.append(_document_block(document, folder, m))
    parts.append("</section>")
    return "".join(parts)


def _document_block(document: dict[str, Any], folder: Path | None, m: Catalogue) -> str:
    fields = "".join(
        f"<tr><td title='{_e(k)}'>{_e(m.field_label(k))}</td><td>{_e(_short(f['value'], m))}</td>"
        f"<td>{f['confidence']:.2f}</td></tr>"
        for k, f in document["fields"].items()
    )
    images = ""
    if folder is not None and (folder / document["file"]).is_file():
        thumbs = page_thumbnails(folder / document["file"])
        for page in document["pages"]:
            if page in thumbs:
                url, width, height = thumbs[page]
                images += (
                    f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
                    f'<image href="{url}" width="{width}" height="{height}"/>'
                    f"{_boxes_svg(document, page, width, height)}</svg>"
                )
    return (
        f"<details><summary>{_e(m.doc_type_label(document['doc_type']))} — {_e(document['id'])} "
        f"({document['doc_type_confidence']:.2f})</summary>{images}"
        f"<table><tr><th>{_e(m.t('audit_field'))}</th><th>{_e(m.t('report_value'))}</th>"
        f"<th>{_e(m.t('confidence'))}</th></tr>{fields}</table></details>"
    )


def _short(value: Any, m: Catalogue) -> str:
    if isinstance(value, list):
        return m.t("rows", n=len(value))
    return str(value)


def write_report(results: list[tuple[dict[str, Any], Path | None]], path: Path) -> Path:
    """Write one HTML file for the given (result, local claim folder) pairs."""
    m = catalogue()
    summary = _summary([result for result, _ in results], m)
    sections = "".join(_claim_section(result, folder, m) for result, folder in results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>{_e(m.t('report_title'))}"
        "</title><style>body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;"
        "margin:2em;max-width:1100px}"
        ".status{color:#fff;padding:2px 8px;border-radius:4px;font-size:.8em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:left;vertical-align:top}svg{display:block;margin:.5em 0;border:1px solid #ddd}"
        "section{border-top:2px solid #333;margin-top:2em}.num{text-align:right}"
        ".detail{color:#555;font-size:.85em}.warn{color:#b3261e}"
        ".tiles{display:flex;gap:1em;flex-wrap:wrap}.tile{border:1px solid #ccc;padding:.6em 1em;"
        "min-width:10em}.tile b{display:block;font-size:1.6em}"
        ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:1.5em}"
        ".bar{display:grid;grid-template-columns:8em 1fr 4.5em;gap:.5em;align-items:center;"
        "margin:.2em 0}.bar-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
        ".bar-track{background:#eee;height:1em;display:block}.bar-fill{display:block;height:100%}"
        ".bar-value{text-align:right;font-variant-numeric:tabular-nums}.note{color:#555}</style>"
        f"<h1>{_e(m.t('report_title'))}</h1>{summary}{sections}</html>",
        encoding="utf-8",
    )
    return path
