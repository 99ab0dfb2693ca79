"""The claimant's side: the upload page, and the API that starts a claim, hands out presigned
URLs (photos go straight to S3), judges each file and submits the claim to the pipeline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from flows.i18n import catalogue
from pipeline.bundle import CareType, ClaimType, ManifestError
from webapp.accounts import SessionUser
from webapp.deps import API_CSRF, User, Web, WebContext
from webapp.models import Decision, DecisionKind, DraftIn, DraftView, PresignIn
from webapp.uploads import UploadError
from webapp.views import current_decision, decisions_of

router = APIRouter()


@router.get("/upload", response_class=HTMLResponse, include_in_schema=False)
def upload_page(request: Request, web: Web, user: User) -> Response:
    m = catalogue(user.language)
    words = {
        "doc_type": m.doc_type,
        "advice": m.advice,
        "quality": m.quality,
        "ui": {k: v for k, v in m.ui.items() if k.startswith("up_")},
    }
    return web.render(
        request,
        "upload.html",
        user,
        {
            "claim_types": [c.value for c in ClaimType],
            "care_types": [c.value for c in CareType],
            "words": words,
            "returned": _returned_claims(web, user),
        },
    )


def _returned_claims(web: WebContext, user: SessionUser) -> list[Decision]:
    """The claimant's claims a reviewer returned: what to bring, by name."""
    found: list[Decision] = []
    for claim_id in web.uploads.claims_of(user.username):
        row = web.store.get_claim(claim_id)
        if row is None:
            continue
        corrections = web.store.corrections(claim_id)
        if current_decision(row, corrections) is DecisionKind.RETURN:
            decision = decisions_of(corrections)[-1]
            found.append(decision.model_copy(update={"status_before": claim_id}))
    return found


def _draft_view(web: WebContext, claim_id: str, user: SessionUser) -> DraftView:
    draft = web.uploads.draft(claim_id, user.username)
    web.uploads.resume_checks(draft)
    return DraftView(
        claim_id=draft.claim_id,
        submitted=draft.submitted_at is not None,
        files=draft.files,
        checklist=web.uploads.checklist(draft),
    )


def _own_draft(web: WebContext, claim_id: str, user: SessionUser) -> DraftView:
    """The user's own upload (another user's, or none, is a 404: never say which)."""
    try:
        return _draft_view(web, claim_id, user)
    except LookupError as exc:
        raise HTTPException(404, "no such upload") from exc


@router.post("/api/uploads", tags=["upload"], dependencies=API_CSRF)
def start_upload(draft: DraftIn, web: Web, user: User) -> DraftView:
    """Start a claim: its type decides which documents the checklist asks for."""
    try:
        row = web.uploads.start(user.username, draft.model_dump(mode="json"))
    except ManifestError as exc:
        raise HTTPException(400, str(exc)) from exc
    return _draft_view(web, row.claim_id, user)


@router.get("/api/uploads/{claim_id}", tags=["upload"])
def upload_state(claim_id: str, web: Web, user: User) -> DraftView:
    """The photos so far, their verdicts, and the checklist of required documents."""
    return _own_draft(web, claim_id, user)


@router.post("/api/uploads/{claim_id}/files", tags=["upload"], dependencies=API_CSRF)
def presign_upload(claim_id: str, body: PresignIn, web: Web, user: User) -> dict[str, str]:
    """A presigned URL: the browser PUTs the photo straight to S3."""
    _own_draft(web, claim_id, user)
    try:
        return web.uploads.presign(claim_id, user.username, body.slot, body.filename)
    except UploadError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.post("/api/uploads/{claim_id}/files/{name}/check", tags=["upload"], dependencies=API_CSRF)
def check_upload(claim_id: str, name: str, web: Web, user: User) -> dict[str, Any]:
    """Judge a stored photo at once: usable, or retake (blur, glare, cut-off...); the answer
    is the verdict beside the whole upload as it stands."""
    _own_draft(web, claim_id, user)
    try:
        verdict = web.uploads.check(claim_id, user.username, name)
    except LookupError as exc:
        raise HTTPException(404, "no such photo in this upload") from exc
    state = _draft_view(web, claim_id, user).model_dump(mode="json")
    return {"name": name, **verdict.as_json(), **state}


@router.post("/api/uploads/{claim_id}/submit", tags=["upload"], dependencies=API_CSRF)
def submit_upload(claim_id: str, web: Web, user: User) -> Response:
    """Hand the claim to the pipeline (it writes claim.json beside the photos); refused,
    naming them, while required documents are missing."""
    _own_draft(web, claim_id, user)
    try:
        web.uploads.submit(claim_id, user.username)
    except UploadError as exc:
        m = catalogue(user.language)
        if exc.checking:
            detail = m.error_text("upload_checking")
        elif exc.missing:
            names = "、".join(m.doc_type_label(slot) for slot in exc.missing)
            detail = m.error_text("upload_missing", documents=names)
        else:
            detail = m.error_text("upload_no_photo")
        return JSONResponse(
            {"detail": detail, "missing": exc.missing, "reason": exc.reason}, status_code=400
        )
    return JSONResponse(_draft_view(web, claim_id, user).model_dump(mode="json"))
