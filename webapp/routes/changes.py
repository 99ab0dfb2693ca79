"""What a reviewer changes on a claim they hold: fields and tables (corrections), a document's
type, turn or readability, merging and splitting documents, a contradiction on the paper, and
the decision on the whole claim. Every change goes to the audit trail; the claim is validated
again at once (the reprocess flow) and, once complete, released from the queue."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from flows.i18n import catalogue
from flows.review import (
    ACTIONS,
    CONTRADICTION,
    DECISION,
    TABLE_COLUMNS,
    CorrectionError,
    amounts_of,
    check_field_value,
    current_typed_value,
    current_value,
    parse_field_value,
    parse_table_value,
)
from infra.store import ClaimRow
from pipeline.bundle import ClaimStatus
from pipeline.records import RECORD_TYPES, DocType, Document
from pipeline.wording import with_article
from webapp.accounts import SessionUser
from webapp.deps import API_CSRF, CsrfForm, PageError, Reviewer, Web, WebContext, check_csrf
from webapp.models import (
    ClaimChange,
    ContradictionIn,
    CorrectionAnswer,
    CorrectionIn,
    CorrectionProblem,
    Decision,
    DecisionIn,
    DecisionKind,
    MergeIn,
    SplitIn,
)
from webapp.reextract import Reextraction, reextract
from webapp.restructure import Restructure, merge, split
from webapp.routes.claim import claim_page
from webapp.views import decisions_of, mismatched_documents, rotations

DEFAULT_REASONS = {
    "edit": "value corrected against the page image",
    "confirm": "value confirmed against the page image",
    "doc_type": "document type corrected",
    "unreadable": "page unreadable: new photo requested from the claimant",
    "rotate": "page turned for reading",
    "reextract": "page read again as turned",
    "split": "document split",
    "merge": "documents merged",
}

router = APIRouter()


def default_reason(action: str) -> str:
    """The audit trail's reason when the reviewer gave none (stored in English, shown translated)."""
    return DEFAULT_REASONS.get(action, "")


def revalidated(web: WebContext, claim_id: str, user: SessionUser) -> dict[str, Any]:
    """The claim validated again; a complete claim leaves the queue and nobody holds it."""
    result = web.reprocess(claim_id)
    if result["status"] == ClaimStatus.COMPLETE.value:
        web.store.release_claim(claim_id, user.username)
    return result


def _change(result: dict[str, Any]) -> ClaimChange:
    return ClaimChange(status=result["status"], issues=result["issues"])


def _held(web: WebContext, claim_id: str, user: SessionUser) -> dict[str, dict[str, Any]]:
    """The claim's documents by id, when the user holds the claim."""
    row = web.claim_row(claim_id)
    if row.claimed_by != user.username:
        raise PageError(409, "take the claim first to change it", "take_first")
    return {d["id"]: d for d in row.result.get("documents", [])}


# -- corrections: fields, tables, type, turn, readability -------------------------------------


def _reread_turned(
    web: WebContext, row: ClaimRow, user: SessionUser, document: dict[str, Any], turn: int
) -> Reextraction:
    """Read a turned document again (OCR) and record the outcome in the audit trail; a
    better reading replaces the document's fields when the claim is validated again."""
    outcome = reextract(web.objects, web.settings, row.claim_id, document, turn)
    web.store.add_correction(
        row.claim_id,
        document["id"],
        "",
        "reextract",
        {"doc_type": outcome.doc_type_before, "fields": outcome.fields_before},
        outcome.model_dump(mode="json"),
        user.username,
        default_reason("reextract"),
    )
    return outcome


def _correct(
    web: WebContext, claim_id: str, user: SessionUser, change: CorrectionIn
) -> tuple[dict[str, Any], Reextraction | None]:
    row = web.claim_row(claim_id)
    if change.action not in ACTIONS:
        raise HTTPException(400, f"unknown action {change.action!r}; one of {ACTIONS}")
    if row.claimed_by != user.username:
        raise PageError(
            409,
            "take the claim first: corrections are made by the reviewer holding it",
            "take_first",
        )
    documents = {d["id"]: d for d in row.result.get("documents", [])}
    if change.doc_id not in documents:
        raise HTTPException(400, f"the claim has no document {change.doc_id!r}")
    document = Document.from_json(documents[change.doc_id])
    old: Any = None
    new: Any = change.value
    if change.action in ("edit", "confirm"):
        if change.key not in RECORD_TYPES[document.doc_type].model_fields:
            raise HTTPException(
                400, f"{with_article(document.doc_type.value)} has no field {change.key!r}"
            )
        old = current_value(document, change.key)
        if change.action == "confirm":
            new = old
            check_field_value(document, change.key, current_typed_value(document, change.key))
        elif isinstance(change.value, list):
            parse_table_value(document.doc_type, change.key, change.value)
        else:
            typed = parse_field_value(document.doc_type, change.key, change.value)
            check_field_value(document, change.key, typed)
    elif change.action == "doc_type":
        if change.value not in {t.value for t in DocType}:
            raise HTTPException(400, f"unknown document type {change.value!r}")
        old = document.doc_type.value
    elif change.action == "rotate":
        old = rotations(web.store.corrections(claim_id)).get(change.doc_id, 0)
        step = {"left": 270, "reset": -old}.get(str(change.value), 90)
        new = (old + step) % 360
    web.store.add_correction(
        claim_id,
        change.doc_id,
        change.key,
        change.action,
        old,
        new,
        user.username,
        change.reason or default_reason(change.action),
    )
    reread = None
    if change.action == "rotate":
        reread = _reread_turned(web, row, user, documents[change.doc_id], int(new or 0))
        if not reread.replaced:
            return row.result, reread
    return revalidated(web, claim_id, user), reread


def _flash_key(change: CorrectionIn) -> str:
    if change.action in ("edit", "confirm") and change.key in TABLE_COLUMNS:
        return "table"
    return {"edit": "saved"}.get(change.action, change.action)


def _submit_correction(
    web: WebContext, request: Request, claim_id: str, user: SessionUser, change: CorrectionIn
) -> Response:
    """A form's correction: back to the claim page with a banner, or the page again with the
    refusal beside the field and the value the reviewer typed."""
    try:
        result, reread = _correct(web, claim_id, user, change)
    except CorrectionError as exc:
        m = catalogue(user.language)
        label = m.field_label(exc.field or change.key)
        problem = CorrectionProblem(
            message=m.error_text(f"correction_{exc.kind}", field=label),
            doc_id=change.doc_id,
            key=change.key,
            value=change.value if isinstance(change.value, str) else "",
        )
        return claim_page(web, request, user, web.claim_row(claim_id), problem=problem, status=400)
    ref = quote(f"{change.doc_id}:{change.key}")
    flash = _flash_key(change)
    if reread is not None and reread.read:
        flash = "rotate_replaced" if reread.replaced else "rotate_kept"
    if (change.action != "rotate" or flash == "rotate_replaced") and result[
        "status"
    ] == ClaimStatus.COMPLETE.value:
        flash = "complete"
    return RedirectResponse(f"/claims/{quote(claim_id)}?saved={flash}&at={ref}", status_code=303)


@router.post("/claims/{claim_id}/corrections", include_in_schema=False)
def correct_form(
    request: Request,
    claim_id: str,
    web: Web,
    user: Reviewer,
    csrf_token: CsrfForm,
    doc_id: Annotated[str, Form(max_length=300)],
    action: Annotated[str, Form(max_length=16)],
    key: Annotated[str, Form(max_length=64)] = "",
    value: Annotated[str, Form(max_length=2000)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_csrf(user, csrf_token)
    change = CorrectionIn(doc_id=doc_id, key=key, action=action, value=value, reason=reason)
    return _submit_correction(web, request, claim_id, user, change)


@router.post("/claims/{claim_id}/tables", include_in_schema=False)
async def table_form(request: Request, claim_id: str, web: Web, user: Reviewer) -> Response:
    """A table field (`items`, `lines`) saved whole: one form field per column, per row."""
    form = await request.form()
    check_csrf(user, str(form.get("csrf_token") or ""))
    key = str(form.get("key") or "")
    columns = TABLE_COLUMNS.get(key)
    if columns is None:
        raise PageError(400, f"no table {key!r}", "status_400")
    cells = [[str(v) for v in form.getlist(f"c_{column}")] for column in columns]
    count = max((len(c) for c in cells), default=0)
    if count > 2000 or any(len(c) not in (0, count) for c in cells):
        raise PageError(400, "the table's columns differ in length", "status_400")
    rows = [
        {column: (cells[i][r] if cells[i] else "") for i, column in enumerate(columns)}
        for r in range(count)
    ]
    action = "confirm" if form.get("action") == "confirm" else "edit"
    change = CorrectionIn(
        doc_id=str(form.get("doc_id") or "")[:300],
        key=key,
        action=action,
        value=rows if action == "edit" else "",
        reason=str(form.get("reason") or "")[:500],
    )
    return _submit_correction(web, request, claim_id, user, change)


@router.post(
    "/api/claims/{claim_id}/corrections",
    tags=["review"],
    dependencies=API_CSRF,
    response_model_exclude_unset=True,
)
def correct_api(claim_id: str, change: CorrectionIn, web: Web, user: Reviewer) -> CorrectionAnswer:
    """Edit or confirm a field (a table field takes a list of rows), change a document's
    type, rotate or reject a page; the claim is validated again at once and its new status
    returned. A value that fails its own check (an ID number's check digit) is refused."""
    result, reread = _correct(web, claim_id, user, change)
    if reread is None:  # no `reread` key at all unless the page was turned
        return CorrectionAnswer(status=result["status"], issues=result["issues"])
    turned = reread.model_dump(mode="json", exclude={"document"})
    return CorrectionAnswer(status=result["status"], issues=result["issues"], reread=turned)


# -- documents: merge and split ---------------------------------------------------------------


def _merge(web: WebContext, claim_id: str, user: SessionUser, change: MergeIn) -> dict[str, Any]:
    documents = _held(web, claim_id, user)
    if change.doc_id not in documents or change.other not in documents:
        raise PageError(400, "no such document in this claim", "status_400")
    if change.doc_id == change.other:
        raise PageError(400, "a document cannot be merged into itself", "status_400")
    outcome = merge(documents[change.doc_id], documents[change.other])
    web.store.add_correction(
        claim_id,
        change.doc_id,
        "",
        "merge",
        {"documents": [change.doc_id, change.other]},
        outcome.model_dump(mode="json"),
        user.username,
        change.reason.strip() or default_reason("merge"),
    )
    return revalidated(web, claim_id, user)


def _split(web: WebContext, claim_id: str, user: SessionUser, change: SplitIn) -> dict[str, Any]:
    documents = _held(web, claim_id, user)
    document = documents.get(change.doc_id)
    if document is None:
        raise PageError(400, "no such document in this claim", "status_400")
    doc_type = (change.doc_type or DocType(document["doc_type"])).value
    used = set(documents)
    for c in web.store.corrections(claim_id):
        used.add(c.doc_id)
        if c.action == "merge" and isinstance(c.new_value, dict):
            used.update(str(i) for i in c.new_value.get("removed", []))
    try:
        first, second = split(document, change.page, doc_type, used)
    except ValueError as exc:
        raise PageError(400, str(exc), "split_pages") from exc
    turn = rotations(web.store.corrections(claim_id)).get(change.doc_id, 0)
    reread = reextract(web.objects, web.settings, claim_id, second, turn)
    if reread.document is not None:
        second = {**reread.document, "doc_type": doc_type, "doc_type_confidence": 1.0}
    outcome = Restructure(documents=[first, second], removed=[], created=second["id"])
    web.store.add_correction(
        claim_id,
        change.doc_id,
        "",
        "split",
        {"documents": [change.doc_id], "page": change.page},
        outcome.model_dump(mode="json"),
        user.username,
        change.reason.strip() or default_reason("split"),
    )
    return revalidated(web, claim_id, user)


@router.post("/claims/{claim_id}/documents/merge", include_in_schema=False)
async def merge_form(request: Request, claim_id: str, web: Web, user: Reviewer) -> Response:
    form = await request.form()
    check_csrf(user, str(form.get("csrf_token") or ""))
    change = MergeIn(
        doc_id=str(form.get("doc_id") or "")[:300],
        other=str(form.get("other") or "")[:300],
        reason=str(form.get("reason") or "")[:500],
    )
    await run_in_threadpool(_merge, web, claim_id, user, change)
    return RedirectResponse(f"/claims/{quote(claim_id)}?saved=merge", status_code=303)


@router.post("/claims/{claim_id}/documents/split", include_in_schema=False)
async def split_form(request: Request, claim_id: str, web: Web, user: Reviewer) -> Response:
    form = await request.form()
    check_csrf(user, str(form.get("csrf_token") or ""))
    try:
        change = SplitIn(
            doc_id=str(form.get("doc_id") or "")[:300],
            page=int(str(form.get("page") or "0")),
            doc_type=DocType(str(form["doc_type"])) if form.get("doc_type") else None,
            reason=str(form.get("reason") or "")[:500],
        )
    except ValueError as exc:
        raise PageError(400, "bad split", "split_pages") from exc
    await run_in_threadpool(_split, web, claim_id, user, change)
    return RedirectResponse(f"/claims/{quote(claim_id)}?saved=split", status_code=303)


@router.post("/api/claims/{claim_id}/documents/merge", tags=["review"], dependencies=API_CSRF)
def merge_api(claim_id: str, change: MergeIn, web: Web, user: Reviewer) -> ClaimChange:
    """Merge a document into another (pages run on, missing fields filled, table rows
    appended); recorded in the audit trail, the claim validated again."""
    return _change(_merge(web, claim_id, user, change))


@router.post("/api/claims/{claim_id}/documents/split", tags=["review"], dependencies=API_CSRF)
def split_api(claim_id: str, change: SplitIn, web: Web, user: Reviewer) -> ClaimChange:
    """Split a document before a page; the pages from it on become a document of their own,
    read again with the OCR engine; recorded in the audit trail, the claim validated again."""
    return _change(_split(web, claim_id, user, change))


# -- a document that contradicts itself --------------------------------------------------------


def _contradiction(
    web: WebContext, claim_id: str, user: SessionUser, change: ContradictionIn
) -> dict[str, Any]:
    """Record that a document contradicts itself and which amount governs; validate again
    (the mismatch no longer holds the claim up while both amounts read as they do now)."""
    documents = _held(web, claim_id, user)
    document = documents.get(change.doc_id)
    if document is None:
        raise PageError(400, "no such document in this claim", "status_400")
    if change.doc_id not in mismatched_documents(web.claim_row(claim_id).result):
        raise PageError(400, "no open 大写/小写 mismatch on this document", "no_contradiction")
    if not change.reason.strip():
        raise PageError(400, "say why that amount governs", "contradiction_reason")
    amounts = amounts_of(Document.from_json(document))
    web.store.add_correction(
        claim_id,
        change.doc_id,
        change.governs,
        CONTRADICTION,
        amounts,
        amounts[change.governs],
        user.username,
        change.reason.strip(),
    )
    return revalidated(web, claim_id, user)


@router.post("/claims/{claim_id}/documents/contradiction", include_in_schema=False)
async def contradiction_form(request: Request, claim_id: str, web: Web, user: Reviewer) -> Response:
    form = await request.form()
    check_csrf(user, str(form.get("csrf_token") or ""))
    try:
        change = ContradictionIn(
            doc_id=str(form.get("doc_id") or "")[:300],
            governs=str(form.get("governs") or ""),
            reason=str(form.get("reason") or "")[:500],
        )
    except ValueError as exc:
        raise PageError(400, "say which amount governs", "status_400") from exc
    await run_in_threadpool(_contradiction, web, claim_id, user, change)
    return RedirectResponse(
        f"/claims/{quote(claim_id)}?saved=contradiction&at={quote(change.doc_id)}:",
        status_code=303,
    )


@router.post(
    "/api/claims/{claim_id}/documents/contradiction", tags=["review"], dependencies=API_CSRF
)
def contradiction_api(
    claim_id: str, change: ContradictionIn, web: Web, user: Reviewer
) -> ClaimChange:
    """A document that really contradicts itself (合计 大写 ≠ 小写 on the paper): record which
    amount governs and why. A decision in the audit trail, not an edit: the values stay as
    read, the mismatch no longer holds the claim up, and the calculation takes the
    governing amount. The claim is validated again at once."""
    return _change(_contradiction(web, claim_id, user, change))


# -- the decision on the whole claim ----------------------------------------------------------


def _decide(web: WebContext, claim_id: str, user: SessionUser, decision: DecisionIn) -> Decision:
    row = web.claim_row(claim_id)
    if row.claimed_by != user.username:
        raise PageError(409, "take the claim first to decide on it", "take_first")
    if decision.kind is DecisionKind.REJECT and not decision.reason.strip():
        raise PageError(400, "a rejection needs a reason", "decision_reason")
    if decision.kind is DecisionKind.RETURN and not (decision.documents or decision.reason.strip()):
        raise PageError(400, "say what the claimant must bring", "decision_documents")
    if decision.kind is DecisionKind.APPROVE:
        if row.status == ClaimStatus.INCOMPLETE.value:
            raise PageError(400, "documents are missing: return the claim", "approve_missing")
        if row.status != ClaimStatus.COMPLETE.value and not decision.reason.strip():
            raise PageError(400, "approving an open claim needs a reason", "approve_reason")
    documents = [d.value for d in decision.documents]
    web.store.add_correction(
        claim_id,
        "",
        decision.kind.value,
        DECISION,
        row.status,
        documents,
        user.username,
        decision.reason.strip(),
    )
    web.store.release_claim(claim_id, user.username)
    return decisions_of(web.store.corrections(claim_id))[-1]


@router.post("/claims/{claim_id}/decision", include_in_schema=False)
async def decision_form(request: Request, claim_id: str, web: Web, user: Reviewer) -> Response:
    form = await request.form()
    check_csrf(user, str(form.get("csrf_token") or ""))
    try:
        kind = DecisionKind(str(form.get("kind") or ""))
        documents = [DocType(str(d)) for d in form.getlist("documents")]
    except ValueError as exc:
        raise PageError(400, "unknown decision", "status_400") from exc
    reason = str(form.get("reason") or "")[:500]
    _decide(web, claim_id, user, DecisionIn(kind=kind, reason=reason, documents=documents))
    return RedirectResponse("/claims?saved=decided", status_code=303)


@router.post("/api/claims/{claim_id}/decision", tags=["review"], dependencies=API_CSRF)
def decision_api(claim_id: str, decision: DecisionIn, web: Web, user: Reviewer) -> Decision:
    """Approve, return to the claimant (naming the documents to bring) or reject, with a
    reason; recorded in the audit trail, and the claim leaves the queue."""
    return _decide(web, claim_id, user, decision)
