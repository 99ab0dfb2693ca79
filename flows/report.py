"""A self-contained HTML report of processed claims: pages with field boxes, issues, money.

Page images are embedded as small JPEGs with the extracted fields' boxes drawn as SVG
rectangles on top, so the report is one file that opens anywhere, offline.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

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


def _claim_section(result: dict[str, Any], folder: Path | None) -> str:
    status = result["status"]
    parts = [
        f"<section><h2>{html.escape(result['claim_id'])} "
        f'<span class="status" style="background:{STATUS_COLOURS.get(status, "#444")}">'
        f"{html.escape(status)}</span></h2>",
        f"<p>{html.escape(result.get('claim_type', ''))} · {html.escape(result.get('care_type', ''))}</p>",
    ]
    if result["missing_documents"]:
        parts.append(
            "<p><b>Missing documents:</b> "
            + html.escape(", ".join(result["missing_documents"]))
            + "</p>"
        )
    if result["issues"]:
        rows = "".join(
            f"<tr><td>{html.escape(i['severity'])}</td><td><code>{html.escape(i['code'])}</code></td>"
            f"<td>{html.escape(i['message'])}</td></tr>"
            for i in result["issues"]
        )
        parts.append(
            f"<table><tr><th>severity</th><th>code</th><th>message</th></tr>{rows}</table>"
        )
    money = result.get("reimbursement")
    if money:
        steps = "".join(f"<li>{html.escape(_step(s))}</li>" for s in money.get("explanation", []))
        parts.append(
            f"<h3>Reimbursement ({html.escape(str(money.get('policy')))})</h3>"
            f"<p>compliant {money['compliant_amount']} · deductible {money['deductible']} · "
            f"<b>fund pays {money['fund_payment']}</b> · individual pays "
            f"{money['individual_payment']}</p><ol>{steps}</ol>"
        )
    for document in result["documents"]:
        parts.append(_document_block(document, folder))
    parts.append("</section>")
    return "".join(parts)


def _step(step: Any) -> str:
    if isinstance(step, dict):
        return " · ".join(f"{k}: {v}" for k, v in step.items())
    return str(step)


def _document_block(document: dict[str, Any], folder: Path | None) -> str:
    fields = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(_short(f['value']))}</td>"
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
        f"<details><summary>{html.escape(document['id'])} — {html.escape(document['doc_type'])} "
        f"({document['doc_type_confidence']:.2f})</summary>{images}"
        f"<table><tr><th>field</th><th>value</th><th>confidence</th></tr>{fields}</table></details>"
    )


def _short(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} entries"
    return str(value)


def write_report(results: list[tuple[dict[str, Any], Path | None]], path: Path) -> Path:
    """Write one HTML file for the given (result, local claim folder) pairs."""
    sections = "".join(_claim_section(result, folder) for result, folder in results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!doctype html><html lang='zh'><meta charset='utf-8'><title>Yidi Claims Intake report</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        ".status{color:#fff;padding:2px 8px;border-radius:4px;font-size:.8em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:left;vertical-align:top}svg{display:block;margin:.5em 0;border:1px solid #ddd}"
        "section{border-top:2px solid #333;margin-top:2em}</style>"
        f"<h1>Claims report</h1>{sections}</html>",
        encoding="utf-8",
    )
    return path
