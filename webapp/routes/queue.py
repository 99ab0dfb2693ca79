"""The review queue (page and API), most urgent first, and taking and releasing claims."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.bundle import ClaimType
from webapp.accounts import SessionUser
from webapp.deps import API_CSRF, CsrfForm, PageError, Reviewer, User, Web, WebContext, check_csrf
from webapp.models import Holder, QueueEntry
from webapp.priority import priority_key
from webapp.views import flash_of, queue_entry

QUEUE_STATUSES = ["needs_review", "rejected"]
ALL_STATUSES = ["needs_review", "rejected", "incomplete", "complete"]
SORTS = ("priority", "deadline", "age", "amount")

router = APIRouter()


def queue(
    web: WebContext,
    status: str,
    claim_type: str,
    code: str,
    sort: str = "age",
    decided: bool = False,
) -> list[QueueEntry]:
    """The claims to review (needs_review and rejected, undecided, unless a status is asked
    for), filtered and sorted."""
    statuses = [status] if status in ALL_STATUSES else QUEUE_STATUSES
    rows = web.store.list_claims(statuses)
    entries = [queue_entry(r, web.store.corrections(r.claim_id)) for r in rows]
    if not status and not decided:
        entries = [e for e in entries if e.decision is None]
    if claim_type:
        entries = [e for e in entries if e.claim_type == claim_type]
    if code:
        entries = [e for e in entries if code in e.issue_codes]
    if sort == "amount":
        entries.sort(key=lambda e: Decimal(e.amount or "0"), reverse=True)
    elif sort == "deadline":
        entries.sort(key=lambda e: (e.days_left is None, e.days_left or 0))
    elif sort == "priority":
        entries.sort(key=lambda e: priority_key(e.days_left, e.age_hours, e.amount))
    return entries


def _counts(web: WebContext) -> dict[str, int]:
    counts = dict.fromkeys(ALL_STATUSES, 0)
    for row in web.store.list_claims():
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


@router.get("/", include_in_schema=False)
def home(user: User) -> Response:
    return RedirectResponse("/claims" if user.is_reviewer else "/upload", status_code=303)


@router.get("/claims", response_class=HTMLResponse, include_in_schema=False)
def queue_page(
    request: Request,
    web: Web,
    user: Reviewer,
    status: str = "",
    claim_type: str = "",
    code: str = "",
    sort: str = "priority",
    saved: str = "",
) -> Response:
    sort = sort if sort in SORTS else "priority"
    entries = queue(web, status, claim_type, code, sort)
    all_codes = sorted({c for e in queue(web, status, "", "") for c in e.issue_codes})
    return web.render(
        request,
        "queue.html",
        user,
        {
            "entries": entries,
            "filters": {"status": status, "claim_type": claim_type, "code": code, "sort": sort},
            "statuses": ALL_STATUSES,
            "claim_types": [c.value for c in ClaimType],
            "codes": all_codes,
            "sorts": SORTS,
            "counts": _counts(web),
            "flash": flash_of(saved),
        },
    )


@router.get("/api/claims", tags=["review"])
def queue_api(
    web: Web,
    user: Reviewer,
    status: str = "",
    claim_type: str = "",
    code: str = "",
    sort: str = "priority",
) -> list[QueueEntry]:
    """The review queue (needs_review and rejected, undecided, by default), most urgent
    first: a submission deadline still ahead (nearest first), then the longest waiting, then
    the largest amount. `sort=deadline`, `age` (oldest first) or `amount` (largest first)."""
    return queue(web, status, claim_type, code, sort if sort in SORTS else "priority")


def _take(web: WebContext, claim_id: str, user: SessionUser) -> str:
    web.claim_row(claim_id)
    holder = web.store.take_claim(claim_id, user.username)
    if holder != user.username:
        raise PageError(
            409,
            f"claim {claim_id} is being reviewed by {holder}",
            "held",
            holder=str(holder),
        )
    return holder


def _release(web: WebContext, claim_id: str, user: SessionUser) -> None:
    web.claim_row(claim_id)
    if not web.store.release_claim(claim_id, user.username, force=user.is_admin):
        raise PageError(409, f"claim {claim_id} is not held by you", "not_holder")


@router.post("/claims/{claim_id}/take", include_in_schema=False)
def take_form(claim_id: str, web: Web, user: Reviewer, csrf_token: CsrfForm) -> Response:
    check_csrf(user, csrf_token)
    _take(web, claim_id, user)
    return RedirectResponse(f"/claims/{quote(claim_id)}", status_code=303)


@router.post("/claims/{claim_id}/release", include_in_schema=False)
def release_form(claim_id: str, web: Web, user: Reviewer, csrf_token: CsrfForm) -> Response:
    check_csrf(user, csrf_token)
    _release(web, claim_id, user)
    return RedirectResponse("/claims", status_code=303)


@router.post("/api/claims/{claim_id}/take", tags=["review"], dependencies=API_CSRF)
def take_api(claim_id: str, web: Web, user: Reviewer) -> Holder:
    """Take a claim for review, so no other reviewer works on it at the same time."""
    return Holder(claim_id=claim_id, claimed_by=_take(web, claim_id, user))


@router.post("/api/claims/{claim_id}/release", tags=["review"], dependencies=API_CSRF)
def release_api(claim_id: str, web: Web, user: Reviewer) -> Holder:
    """Give a claim back to the queue (admins may release anyone's)."""
    _release(web, claim_id, user)
    return Holder(claim_id=claim_id, claimed_by="")
