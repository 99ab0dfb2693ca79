"""A claim as the reviewer reads it: its page and JSON, page images, the words of a page
(clicked into a field), a picked word written as its field is edited, a region read again."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from flows.i18n import catalogue
from flows.review import field_text
from infra.store import ClaimRow
from pipeline.errors import IntakeError
from pipeline.records import RECORD_TYPES, DocType
from webapp.accounts import SessionUser
from webapp.deps import API_CSRF, PageError, Reviewer, Web, WebContext
from webapp.models import (
    AuditEntry,
    ClaimView,
    CorrectionProblem,
    DecisionKind,
    FieldTextIn,
    FieldTextOut,
    RegionIn,
)
from webapp.pages import crop_png, document_files, page_png, turned_png
from webapp.reread import RegionText, read_region
from webapp.views import claim_view, flash_of, page_views
from webapp.words import PageWords, page_words

router = APIRouter()


def claim_page(
    web: WebContext,
    request: Request,
    user: SessionUser,
    row: ClaimRow,
    flash: str = "",
    problem: CorrectionProblem | None = None,
    status: int = 200,
) -> Response:
    """The review page: the claim's documents beside their pages, the forms to change them."""
    view = claim_view(web, row)
    return web.render(
        request,
        "claim.html",
        user,
        {
            **{name: getattr(view, name) for name in ClaimView.model_fields},
            "pages": page_views(web, row, view.rotations),
            "doc_types": [t.value for t in DocType],
            "record_fields": {t.value: list(RECORD_TYPES[t].model_fields) for t in DocType},
            "flash": flash,
            "problem": problem,
            "mine": row.claimed_by == user.username,
            "decision_kinds": list(DecisionKind),
            "returnable": [t.value for t in DocType if t is not DocType.OTHER],
            "viewer_words": {
                k: v for k, v in catalogue(user.language).ui.items() if k.startswith("region_")
            },
        },
        status=status,
    )


@router.get("/claims/{claim_id}", response_class=HTMLResponse, include_in_schema=False)
def claim_page_route(
    request: Request, claim_id: str, web: Web, user: Reviewer, saved: str = ""
) -> Response:
    return claim_page(web, request, user, web.claim_row(claim_id), flash_of(saved))


@router.get("/api/claims/{claim_id}", tags=["review"])
def claim_api(claim_id: str, web: Web, user: Reviewer) -> ClaimView:
    """A claim's result, field states, decisions, audit trail and status history."""
    return claim_view(web, web.claim_row(claim_id))


@router.get("/api/claims/{claim_id}/audit", tags=["review"])
def audit_api(claim_id: str, web: Web, user: Reviewer) -> list[AuditEntry]:
    """Who changed or decided what, when, from which value to which, and why."""
    return claim_view(web, web.claim_row(claim_id)).audit


def known_page(row: ClaimRow, name: str, page: int) -> None:
    """Only pages of the claim's own documents are served (never another upload)."""
    files = {n for d in row.result.get("documents", []) for n, _ in document_files(d)}
    if name not in files or not 0 <= page < 1000:
        raise PageError(404, "no such page", "no_page")


def page_data(web: WebContext, row: ClaimRow, name: str, page: int, turn: int) -> bytes:
    """The page image as the reviewer sees it (prepared as the pipeline read it, turned)."""
    known_page(row, name, page)
    data = page_png(web.objects, web.settings, row.claim_id, name, page)
    if data is None:
        raise PageError(404, "no such page", "no_page")
    return turned_png(data, turn) if turn % 360 else data


@router.get("/claims/{claim_id}/files/{name}/pages/{page}.png", include_in_schema=False)
def page_image(
    claim_id: str, name: str, page: int, web: Web, user: Reviewer, turn: int = 0
) -> Response:
    data = page_data(web, web.claim_row(claim_id), name, page, turn)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private"})


@router.get("/api/claims/{claim_id}/files/{name}/pages/{page}/words", tags=["review"])
def page_words_api(claim_id: str, name: str, page: int, web: Web, user: Reviewer) -> PageWords:
    """The page's lines and words with their boxes (relative to the unturned page), for
    clicking a word into a field; read once with the OCR engine, then kept."""
    row = web.claim_row(claim_id)
    known_page(row, name, page)
    words = page_words(web.objects, web.settings, row.claim_id, name, page)
    if words is None:
        raise PageError(404, "no such page", "no_page")
    return words


@router.post("/api/claims/{claim_id}/field-text", tags=["review"], dependencies=API_CSRF)
def field_text_api(claim_id: str, picked: FieldTextIn, web: Web, user: Reviewer) -> FieldTextOut:
    """Text picked on the page written as the field's editor accepts it (1234.56,
    2026-03-01); nothing is saved."""
    documents: dict[str, dict[str, Any]] = {
        d["id"]: d for d in web.claim_row(claim_id).result.get("documents", [])
    }
    document = documents.get(picked.doc_id)
    if document is None:
        raise HTTPException(400, f"the claim has no document {picked.doc_id!r}")
    text = field_text(DocType(document["doc_type"]), picked.key, picked.text, picked.column)
    return FieldTextOut(text=text, normalised=text != picked.text.strip())


@router.post("/api/claims/{claim_id}/read-region", tags=["review"], dependencies=API_CSRF)
def read_region_api(claim_id: str, region: RegionIn, web: Web, user: Reviewer) -> RegionText:
    """Read a box of a page image again with the OCR engine; the text is for the reviewer
    to put in a field and save (nothing is changed here)."""
    data = page_data(web, web.claim_row(claim_id), region.file, region.page, region.turn)
    try:
        crop = crop_png(data, region.box)
    except IntakeError as exc:
        raise HTTPException(400, str(exc)) from exc
    return read_region(crop, web.settings)
