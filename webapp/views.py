"""How a stored claim looks in the queue, on its review page and in the API.

Read-only: everything here is computed from the claim's stored result and its audit trail
(corrections, decisions, turns); the routers decide what to change.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from flows.i18n import Catalogue
from flows.review import DECISION, Contradiction, amounts_of, contradictions
from infra.store import ClaimRow, CorrectionRow
from pipeline.bundle import IssueCode
from pipeline.privacy import mask_id_number, mask_name
from pipeline.records import DocType, Document
from webapp.deps import WebContext
from webapp.models import AuditEntry, ClaimView, Decision, DecisionKind, PageView, QueueEntry
from webapp.pages import numbered_pages, page_png, png_size
from webapp.priority import deadline_of

log = logging.getLogger(__name__)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hours_since(moment: datetime) -> float:
    return (datetime.now(UTC) - aware(moment)).total_seconds() / 3600


def _age(moment: datetime) -> str:
    hours = hours_since(moment)
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{round(hours)} h"
    return f"{round(hours / 24)} d"


def age_text(m: Catalogue, hours: float) -> str:
    """'3 小时' / '3 h': the time a claim has waited, in the reader's language."""
    if hours < 1:
        return m.t("age_minutes", n=max(1, round(hours * 60)))
    if hours < 48:
        return m.t("age_hours", n=round(hours))
    return m.t("age_days", n=round(hours / 24))


def _patient(row: ClaimRow) -> tuple[str, str]:
    """(masked name, masked ID number) of the claim's patient, from its ID card if read."""
    for document in row.result.get("documents", []):
        if document["doc_type"] == DocType.ID_CARD.value:
            fields = document["fields"]
            name = fields.get("name", {}).get("value") or ""
            number = fields.get("id_number", {}).get("value") or ""
            return mask_name(str(name)), mask_id_number(str(number))
    return "", ""


def _claimed_amount(row: ClaimRow) -> str | None:
    """The invoices' 合计 added up, as read (None when no invoice total was read)."""
    total = Decimal(0)
    found = False
    for document in row.result.get("documents", []):
        if document["doc_type"] != DocType.MEDICAL_INVOICE.value:
            continue
        value = document["fields"].get("total_amount", {}).get("value")
        try:
            total += Decimal(str(value))
            found = True
        except (InvalidOperation, ValueError):
            continue
    return f"{total:.2f}" if found else None


def decisions_of(corrections: list[CorrectionRow]) -> list[Decision]:
    decisions = []
    for c in corrections:
        if c.action != DECISION:
            continue
        documents = c.new_value if isinstance(c.new_value, list) else []
        decisions.append(
            Decision(
                kind=DecisionKind(c.key),
                reviewer=c.reviewer,
                at=c.at.strftime("%Y-%m-%d %H:%M:%S"),
                reason=c.reason,
                documents=[str(d) for d in documents],
                status_before=str(c.old_value or ""),
            )
        )
    return decisions


def current_decision(row: ClaimRow, corrections: list[CorrectionRow]) -> DecisionKind | None:
    """The latest decision, unless the claim was processed again after it (new documents)."""
    latest = next((c for c in reversed(corrections) if c.action == DECISION), None)
    if latest is None or aware(latest.at) < aware(row.updated_at):
        return None
    return DecisionKind(latest.key)


def queue_entry(row: ClaimRow, corrections: list[CorrectionRow] | None = None) -> QueueEntry:
    name, number = _patient(row)
    deadline = deadline_of(row.manifest, row.result, date.today())
    return QueueEntry(
        claim_id=row.claim_id,
        status=row.status,
        claim_type=row.claim_type,
        care_type=row.care_type,
        issue_codes=sorted({i["code"] for i in row.result.get("issues", [])}),
        missing_documents=row.result.get("missing_documents", []),
        patient_name=name,
        patient_id_number=number,
        age=_age(row.created_at),
        age_hours=round(hours_since(row.created_at), 2),
        amount=_claimed_amount(row),
        claimed_by=row.claimed_by,
        decision=current_decision(row, corrections or []),
        discharge_date=deadline.discharge,
        due_date=deadline.due,
        days_left=deadline.days_left,
        submitted_late=deadline.submitted_late,
    )


def field_states(result: dict[str, Any], confirmed: set[str]) -> dict[str, str]:
    """'doc_id:key' -> flagged / confirmed / checked, for colouring the review page."""
    flagged = {
        f"{doc_id}:{i['field']}"
        for i in result.get("issues", [])
        if i.get("field")
        for doc_id in i.get("doc_ids", [])
    }
    states: dict[str, str] = {}
    for document in result.get("documents", []):
        for key in document["fields"]:
            ref = f"{document['id']}:{key}"
            states[ref] = (
                "confirmed" if ref in confirmed else "flagged" if ref in flagged else "checked"
            )
    return states


def mismatched_documents(result: dict[str, Any]) -> set[str]:
    """Documents whose 合计 in words and in figures differ, still open in the result."""
    return {
        doc_id
        for i in result.get("issues", [])
        if i.get("code") == IssueCode.AMOUNT_WORDS_MISMATCH.value
        for doc_id in i.get("doc_ids", [])
    }


def decided_contradictions(
    result: dict[str, Any], corrections: list[CorrectionRow]
) -> dict[str, Contradiction]:
    """Contradiction decisions that settle their document's mismatch now: the mismatch is
    not open and both amounts read as when the reviewer decided."""
    documents = {d["id"]: d for d in result.get("documents", [])}
    open_ones = mismatched_documents(result)
    return {
        doc_id: c
        for doc_id, c in contradictions(corrections).items()
        if doc_id in documents
        and doc_id not in open_ones
        and amounts_of(Document.from_json(documents[doc_id])) == c.amounts
    }


def rotations(corrections: list[CorrectionRow]) -> dict[str, int]:
    """How far each document's pages are turned for reading (the latest turn)."""
    turns: dict[str, int] = {}
    for c in corrections:
        if c.action == "rotate":
            turns[c.doc_id] = int(c.new_value or 0) % 360
    return turns


def audit_entry(c: CorrectionRow) -> AuditEntry:
    return AuditEntry(
        at=c.at.strftime("%Y-%m-%d %H:%M:%S"),
        reviewer=c.reviewer,
        doc_id=c.doc_id,
        key=c.key,
        action=c.action,
        old=c.old_value,
        new=c.new_value,
        reason=c.reason,
    )


def claim_view(web: WebContext, row: ClaimRow) -> ClaimView:
    """The claim with its field states, audit trail, decisions and status history."""
    result = row.result
    corrections = web.store.corrections(row.claim_id)
    return ClaimView(
        claim=queue_entry(row, corrections),
        result=result,
        states=field_states(result, web.store.confirmed_fields(row.claim_id)),
        audit=[audit_entry(c) for c in corrections],
        rotations=rotations(corrections),
        decisions=decisions_of(corrections),
        mismatched=sorted(mismatched_documents(result)),
        contradictions=decided_contradictions(result, corrections),
        history=web.store.status_history(row.claim_id),
    )


def page_views(web: WebContext, row: ClaimRow, turns: dict[str, int]) -> dict[str, list[PageView]]:
    """Each document's page images with their size (so the layout does not jump)."""
    wanted = [
        (document["id"], name, page, number, turns.get(document["id"], 0))
        for document in row.result.get("documents", [])
        for name, page, number in numbered_pages(document)
    ]

    def view(item: tuple[str, str, int, int, int]) -> tuple[str, PageView]:
        doc_id, name, page, number, turn = item
        size: tuple[int, int] | None = None
        try:
            data = page_png(web.objects, web.settings, row.claim_id, name, page)
            size = png_size(data) if data else None
        except Exception as exc:  # a missing image must not break the page; it shows 404
            log.warning("no page image for %s page %d: %s", name, page, exc)
        if size and turn in (90, 270):
            size = (size[1], size[0])
        url = f"/claims/{quote(row.claim_id)}/files/{quote(name)}/pages/{page}.png"
        return doc_id, PageView(
            index=number,
            file=name,
            page=page,
            url=f"{url}?turn={turn}" if turn else url,
            width=size[0] if size else None,
            height=size[1] if size else None,
            turn=turn,
        )

    views: dict[str, list[PageView]] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for doc_id, page_view in pool.map(view, wanted):
            views.setdefault(doc_id, []).append(page_view)
    return views


# ?saved=<key> on the claim and queue pages: only these keys, each a catalogue sentence
FLASH_KEYS = frozenset(
    {
        "saved",
        "confirmed",
        "doc_type",
        "rotate",
        "unreadable",
        "table",
        "decided",
        "language",
        "complete",
        "rotate_replaced",
        "rotate_kept",
        "split",
        "merge",
        "contradiction",
    }
)


def flash_of(saved: str) -> str:
    """The banner to show for `?saved=`: a known key only, never the text given (spoofing)."""
    return saved if saved in FLASH_KEYS else ""
