"""The review and upload web app: server-rendered pages plus a JSON API under /api/.

Every route but /login and /health needs a session; every state-changing request needs the
session's CSRF token (a form field, or the X-CSRF-Token header for the API). Reviewers
correct flagged extractions; each change goes to the audit trail and the claim is validated
again at once through the reprocess flow. Claimants upload phone photos straight to S3.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from flows.i18n import DEFAULT_LANGUAGE, Catalogue, Language, catalogue
from flows.review import (
    ACTIONS,
    CONTRADICTION,
    DECISION,
    TABLE_COLUMNS,
    AmountSide,
    Contradiction,
    CorrectionError,
    amounts_of,
    check_field_value,
    contradictions,
    current_typed_value,
    current_value,
    document_from_json,
    field_text,
    parse_field_value,
    parse_table_value,
)
from infra.storage import ObjectStore, StorageUnavailableError, UnsafeKeyError, validate_key_part
from infra.store import ClaimRow, ClaimStore, CorrectionRow
from pipeline.bundle import CareType, ClaimStatus, ClaimType, IssueCode, ManifestError
from pipeline.errors import IntakeError
from pipeline.privacy import mask_id_number, mask_name
from pipeline.records import RECORD_TYPES, DocType
from pipeline.settings import Settings
from pipeline.wording import with_article
from webapp.accounts import Accounts, LoginLimiter, Role, SessionUser
from webapp.pages import crop_png, page_png, png_size, turned_png
from webapp.pages import document_files as _document_files
from webapp.pages import numbered_pages as _numbered_pages
from webapp.priority import deadline_of, priority_key
from webapp.reextract import Reextraction, reextract
from webapp.reread import RegionText, read_region
from webapp.restructure import Restructure, merge, split
from webapp.stats import Stats, compute
from webapp.uploads import UploadError, Uploads
from webapp.words import PageWords, page_words

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "intake_session"
LOGIN_CSRF_COOKIE = "intake_login_csrf"
QUEUE_STATUSES = ["needs_review", "rejected"]
ALL_STATUSES = ["needs_review", "rejected", "incomplete", "complete"]
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
SORTS = ("priority", "deadline", "age", "amount")

Reprocess = Callable[[str], dict[str, Any]]
TableRows = Annotated[
    list[dict[str, Annotated[str, Field(max_length=300)]]], Field(max_length=2000)
]


class LoginRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


class PageError(HTTPException):
    """An HTTP error whose page text comes from the catalogue (`error.<key>`)."""

    def __init__(self, status: int, detail: str, key: str, **values: str) -> None:
        super().__init__(status, detail)
        self.key = key
        self.values = values


class CorrectionIn(BaseModel):
    doc_id: str = Field(max_length=300)
    key: str = Field("", max_length=64)
    action: str = Field(max_length=16)
    value: Annotated[str, Field(max_length=2000)] | TableRows = ""
    reason: str = Field("", max_length=500)


class DecisionKind(StrEnum):
    APPROVE = "approve"
    RETURN = "return_to_claimant"
    REJECT = "reject"


class DecisionIn(BaseModel):
    """A reviewer's decision on a whole claim; returning it names the documents to bring."""

    kind: DecisionKind
    reason: str = Field("", max_length=500)
    documents: list[DocType] = Field(default_factory=list, max_length=20)


class Decision(BaseModel):
    kind: DecisionKind
    reviewer: str
    at: str
    reason: str
    documents: list[str]
    status_before: str


class QueueEntry(BaseModel):
    claim_id: str
    status: str
    claim_type: str
    care_type: str
    issue_codes: list[str]
    missing_documents: list[str]
    patient_name: str
    patient_id_number: str
    age: str
    age_hours: float
    amount: str | None
    claimed_by: str | None
    decision: DecisionKind | None
    discharge_date: date | None = Field(None, description="as read from the documents")
    due_date: date | None = Field(None, description="submission deadline under the rules")
    days_left: int | None = Field(None, description="days before the deadline; < 0 past")
    submitted_late: bool | None = Field(None, description="submitted after the deadline")


class PageView(BaseModel):
    index: int = Field(description="page number in the document (fields' bbox pages)")
    file: str
    page: int = Field(description="page number in the file")
    url: str
    width: int | None
    height: int | None
    turn: int


class RegionIn(BaseModel):
    """A box the reviewer drew on a page image, relative to the image as shown (turned)."""

    file: str = Field(max_length=300)
    page: int = Field(ge=0, lt=1000)
    turn: int = Field(0, ge=0, lt=360)
    box: tuple[
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(ge=0, le=1)],
    ]


class FieldTextIn(BaseModel):
    """A word the reviewer clicked on a page, for the field (or table column) in focus."""

    doc_id: str = Field(max_length=300)
    key: str = Field(max_length=64)
    column: str = Field("", max_length=64)
    text: str = Field(max_length=2000)


class FieldTextOut(BaseModel):
    text: str
    normalised: bool = Field(description="the text was rewritten (amount, date, label dropped)")


class ContradictionIn(BaseModel):
    """The reviewer's decision that a document contradicts itself on the paper (大写 ≠ 小写):
    which amount governs, and why (required)."""

    doc_id: str = Field(max_length=300)
    governs: AmountSide
    reason: str = Field(max_length=500)


class MergeIn(BaseModel):
    """Merge `other` into `doc_id` (the pipeline cut one document in two)."""

    doc_id: str = Field(max_length=300)
    other: str = Field(max_length=300)
    reason: str = Field("", max_length=500)


class SplitIn(BaseModel):
    """Split `doc_id` before its page `page`; the pages from it on become a document of type
    `doc_type` (the same type when empty), read again with the OCR engine."""

    doc_id: str = Field(max_length=300)
    page: int = Field(ge=1, le=1000, description="page number in the document (as in bboxes)")
    doc_type: DocType | None = None
    reason: str = Field("", max_length=500)


class CorrectionProblem(BaseModel):
    """A refused correction shown on the page: the message, and the value the reviewer typed."""

    message: str
    doc_id: str
    key: str
    value: str


class DraftIn(BaseModel):
    claim_type: ClaimType
    care_type: CareType
    insured_region: str = Field("烟台市", min_length=2, max_length=30)
    treatment_region: str = Field(min_length=2, max_length=30)
    by_agent: bool = False


class PresignIn(BaseModel):
    slot: str = Field(max_length=40)
    filename: str = Field(max_length=200)


class SecurityHeaders(BaseHTTPMiddleware):
    """No framing, no sniffing, scripts only from us; uploads may go to the S3 endpoint."""

    def __init__(self, app: Any, connect_src: str) -> None:
        super().__init__(app)
        self.policy = (
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            f"script-src 'self'; connect-src 'self' {connect_src}; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'none'"
        )

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = self.policy
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def current_user(request: Request) -> SessionUser:
    """The session's user; pages redirect to /login and the API answers 401 without one."""
    accounts: Accounts = request.app.state.accounts
    user = accounts.session_user(request.cookies.get(SESSION_COOKIE))
    if user is None:
        raise LoginRequired()
    return user


def admin_user(user: Annotated[SessionUser, Depends(current_user)]) -> SessionUser:
    if not user.is_admin:
        raise PageError(403, "this needs the admin role", "admin_only")
    return user


def reviewer_user(user: Annotated[SessionUser, Depends(current_user)]) -> SessionUser:
    """Reviewers and admins; a claimant's account opens the upload page only."""
    if not user.is_reviewer:
        raise PageError(403, "this needs a reviewer account", "reviewers_only")
    return user


def check_csrf(user: SessionUser, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, user.csrf_token):
        raise PageError(403, "the form is out of date or forged (CSRF check failed)", "csrf")


def api_csrf(request: Request, user: Annotated[SessionUser, Depends(current_user)]) -> None:
    """State-changing API calls carry the session's CSRF token in X-CSRF-Token."""
    check_csrf(user, request.headers.get("x-csrf-token"))


User = Annotated[SessionUser, Depends(current_user)]
Admin = Annotated[SessionUser, Depends(admin_user)]
Reviewer = Annotated[SessionUser, Depends(reviewer_user)]
CsrfForm = Annotated[str, Form()]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hours_since(moment: datetime) -> float:
    return (datetime.now(UTC) - _aware(moment)).total_seconds() / 3600


def _age(moment: datetime) -> str:
    hours = _hours_since(moment)
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
    if latest is None or _aware(latest.at) < _aware(row.updated_at):
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
        age_hours=round(_hours_since(row.created_at), 2),
        amount=_claimed_amount(row),
        claimed_by=row.claimed_by,
        decision=current_decision(row, corrections or []),
        discharge_date=deadline.discharge,
        due_date=deadline.due,
        days_left=deadline.days_left,
        submitted_late=deadline.submitted_late,
    )


def _field_states(result: dict[str, Any], confirmed: set[str]) -> dict[str, str]:
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
        and amounts_of(document_from_json(documents[doc_id])) == c.amounts
    }


def _page_next(path: str) -> str:
    """Where a login should return after a form POST whose session had expired: the page."""
    found = re.match(r"^/claims/([^/]+)/", path)
    if found:
        return f"/claims/{found.group(1)}"
    if path.startswith("/api/uploads") or path == "/upload":
        return "/upload"
    return "/"


def create_app(
    settings: Settings,
    store: ClaimStore,
    objects: ObjectStore,
    reprocess: Reprocess,
    s3_public_url: str | None = None,
) -> FastAPI:
    """The app over a claim store, an object store and a reprocess callable (the flow)."""
    accounts = Accounts(store, settings.web_session_hours)
    uploads = Uploads(store, objects, settings)
    limiter = LoginLimiter(settings.web_login_attempts, settings.web_login_window_seconds)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["age_text"] = age_text
    templates.env.globals["table_columns"] = TABLE_COLUMNS
    templates.env.globals["languages"] = list(Language)
    templates.env.globals["default_reasons"] = DEFAULT_REASONS

    app = FastAPI(
        title="Yidi Claims Intake — review and upload",
        version="1.0",
        docs_url=None,
        openapi_url=None,  # served below, behind the login like every other API route
        redoc_url=None,
    )
    app.add_middleware(SecurityHeaders, connect_src=s3_public_url or objects.url)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.accounts = accounts

    def render(
        request: Request,
        name: str,
        user: SessionUser | None,
        context: dict[str, Any],
        status: int = 200,
        language: Language | None = None,
    ) -> Response:
        chosen = language or (user.language if user else DEFAULT_LANGUAGE)
        return templates.TemplateResponse(
            request,
            name,
            {"user": user, "m": catalogue(chosen), "here": _here(request), **context},
            status_code=status,
        )

    def _here(request: Request) -> str:
        """This page, to come back to after switching language (one-off banners dropped)."""
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("saved", "at")]
        query = f"?{urlencode(kept)}" if kept else ""
        return _safe_next(f"{request.url.path}{query}")

    # -- sessions, roles, CSRF, error pages ---------------------------------------------------

    def _secure(request: Request) -> bool:
        mode = settings.web_cookie_secure
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")

    def _visitor(request: Request) -> SessionUser | None:
        return accounts.session_user(request.cookies.get(SESSION_COOKIE))

    def error_page(request: Request, status: int, key: str, values: dict[str, str]) -> Response:
        user = _visitor(request)
        m = catalogue(user.language if user else DEFAULT_LANGUAGE)
        known = key in m.error
        message = m.error_text(key if known else f"status_{status}", **values)
        return render(
            request,
            "error.html",
            user,
            {"status": status, "message": message, "code": key},
            status=status,
        )

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        path = request.url.path if request.method == "GET" else _page_next(request.url.path)
        target = quote(path, safe="/")
        return RedirectResponse(f"/login?next={target}&expired=1", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        if isinstance(exc, PageError):
            return error_page(request, exc.status_code, exc.key, exc.values)
        return error_page(request, exc.status_code, f"status_{exc.status_code}", {})

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, exc)
        return error_page(request, 422, "status_422", {})

    @app.exception_handler(IntakeError)
    async def _intake_error(request: Request, exc: IntakeError) -> Response:
        status = 503 if isinstance(exc, StorageUnavailableError) else 400
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc), "reason": exc.reason}, status_code=status)
        return error_page(request, status, f"status_{status}", {})

    def _claim_row(claim_id: str) -> ClaimRow:
        try:
            validate_key_part(claim_id)
        except UnsafeKeyError as exc:
            raise PageError(404, "no such claim", "no_claim") from exc
        row = store.get_claim(claim_id)
        if row is None:
            raise PageError(404, "no such claim", "no_claim")
        return row

    # -- public: health and login -----------------------------------------------------------

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_spec(user: User) -> dict[str, Any]:
        return app.openapi()

    @app.get("/health", tags=["public"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    def _login_language(value: str) -> Language:
        try:
            return Language(value)
        except ValueError:
            return DEFAULT_LANGUAGE

    def login_form(
        request: Request,
        csrf: str,
        next: str,
        error: str,
        status: int = 200,
        language: Language = DEFAULT_LANGUAGE,
        expired: bool = False,
    ) -> Response:
        return render(
            request,
            "login.html",
            None,
            {"csrf": csrf, "next": _safe_next(next), "error": error, "expired": expired},
            status=status,
            language=language,
        )

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(
        request: Request, next: str = "/", lang: str = "", expired: str = ""
    ) -> Response:
        token = secrets.token_urlsafe(24)
        language = _login_language(lang)
        response = login_form(request, token, next, "", language=language, expired=bool(expired))
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
        )
        return response

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=256)],
        csrf_token: CsrfForm,
        next: Annotated[str, Form()] = "/",
        lang: Annotated[str, Form()] = "",
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not expected or not hmac.compare_digest(expected, csrf_token):
            raise PageError(403, "the login form is out of date: reload the page", "login_csrf")
        language = _login_language(lang)
        m = catalogue(language)
        address = request.client.host if request.client else "?"
        wait = limiter.blocked_for(address, username)
        if wait:
            message = m.t("login_blocked", seconds=int(wait))
            return login_form(request, expected, next, message, 429, language)
        if not accounts.verify(username, password):
            limiter.failed(address, username)
            log.info("failed login for a user from %s", address)
            return login_form(request, expected, next, m.t("login_wrong"), 401, language)
        limiter.succeeded(address, username)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            accounts.open_session(username),
            httponly=True,
            samesite="lax",
            secure=_secure(request),
            max_age=int(settings.web_session_hours * 3600),
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, user: User, csrf_token: CsrfForm) -> Response:
        check_csrf(user, csrf_token)
        accounts.close_session(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.post("/settings/language", include_in_schema=False)
    def language_form(
        user: User,
        csrf_token: CsrfForm,
        language: Annotated[Language, Form()],
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        """The user's language for every page from now on (stored with the account)."""
        check_csrf(user, csrf_token)
        accounts.set_language(user.username, language)
        return RedirectResponse(_safe_next(next), status_code=303)

    # -- review queue -------------------------------------------------------------------------

    def _queue(
        status: str, claim_type: str, code: str, sort: str = "age", decided: bool = False
    ) -> list[QueueEntry]:
        statuses = [status] if status in ALL_STATUSES else QUEUE_STATUSES
        rows = store.list_claims(statuses)
        entries = [queue_entry(r, store.corrections(r.claim_id)) for r in rows]
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

    def _counts() -> dict[str, int]:
        counts = dict.fromkeys(ALL_STATUSES, 0)
        for row in store.list_claims():
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    @app.get("/", include_in_schema=False)
    def home(user: User) -> Response:
        return RedirectResponse("/claims" if user.is_reviewer else "/upload", status_code=303)

    @app.get("/claims", response_class=HTMLResponse, include_in_schema=False)
    def queue_page(
        request: Request,
        user: Reviewer,
        status: str = "",
        claim_type: str = "",
        code: str = "",
        sort: str = "priority",
        saved: str = "",
    ) -> Response:
        sort = sort if sort in SORTS else "priority"
        entries = _queue(status, claim_type, code, sort)
        all_codes = sorted({c for e in _queue(status, "", "") for c in e.issue_codes})
        return render(
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
                "counts": _counts(),
                "flash": saved if saved in FLASH_KEYS else "",
            },
        )

    @app.get("/api/claims", tags=["review"])
    def queue_api(
        user: Reviewer,
        status: str = "",
        claim_type: str = "",
        code: str = "",
        sort: str = "priority",
    ) -> list[QueueEntry]:
        """The review queue (needs_review and rejected, undecided, by default), most urgent
        first: a submission deadline still ahead (nearest first), then the longest waiting, then
        the largest amount. `sort=deadline`, `age` (oldest first) or `amount` (largest first)."""
        return _queue(status, claim_type, code, sort if sort in SORTS else "priority")

    def _take(claim_id: str, user: SessionUser) -> str:
        _claim_row(claim_id)
        holder = store.take_claim(claim_id, user.username)
        if holder != user.username:
            raise PageError(
                409,
                f"claim {claim_id} is being reviewed by {holder}",
                "held",
                holder=str(holder),
            )
        return holder

    def _release(claim_id: str, user: SessionUser) -> None:
        _claim_row(claim_id)
        if not store.release_claim(claim_id, user.username, force=user.is_admin):
            raise PageError(409, f"claim {claim_id} is not held by you", "not_holder")

    @app.post("/claims/{claim_id}/take", include_in_schema=False)
    def take_form(claim_id: str, user: Reviewer, csrf_token: CsrfForm) -> Response:
        check_csrf(user, csrf_token)
        _take(claim_id, user)
        return RedirectResponse(f"/claims/{quote(claim_id)}", status_code=303)

    @app.post("/claims/{claim_id}/release", include_in_schema=False)
    def release_form(claim_id: str, user: Reviewer, csrf_token: CsrfForm) -> Response:
        check_csrf(user, csrf_token)
        _release(claim_id, user)
        return RedirectResponse("/claims", status_code=303)

    @app.post("/api/claims/{claim_id}/take", tags=["review"], dependencies=[Depends(api_csrf)])
    def take_api(claim_id: str, user: Reviewer) -> dict[str, str]:
        """Take a claim for review, so no other reviewer works on it at the same time."""
        return {"claim_id": claim_id, "claimed_by": _take(claim_id, user)}

    @app.post("/api/claims/{claim_id}/release", tags=["review"], dependencies=[Depends(api_csrf)])
    def release_api(claim_id: str, user: Reviewer) -> dict[str, str]:
        """Give a claim back to the queue (admins may release anyone's)."""
        _release(claim_id, user)
        return {"claim_id": claim_id, "claimed_by": ""}

    # -- statistics ---------------------------------------------------------------------------

    def _stats() -> Stats:
        return compute(store.list_claims(), store.all_corrections(), store.first_statuses())

    @app.get("/stats", response_class=HTMLResponse, include_in_schema=False)
    def stats_page(request: Request, user: Reviewer) -> Response:
        stats = _stats()
        return render(
            request,
            "stats.html",
            user,
            {
                "stats": stats,
                "field_max": max((f.total for f in stats.fields), default=0) or 1,
                "week_max": max((w.claims for w in stats.weeks), default=0) or 1,
                "change_max": max((w.changes for w in stats.weeks), default=0) or 1,
                "status_max": max(stats.by_status.values(), default=0) or 1,
            },
        )

    @app.get("/api/stats", tags=["review"])
    def stats_api(user: Reviewer) -> Stats:
        """Straight-through share, the fields reviewers change or confirm most by document
        type, and claims and changes per ISO week."""
        return _stats()

    # -- claim review -------------------------------------------------------------------------

    def _claim_view(row: ClaimRow) -> dict[str, Any]:
        result = row.result
        corrections = store.corrections(row.claim_id)
        confirmed = store.confirmed_fields(row.claim_id)
        return {
            "claim": queue_entry(row, corrections).model_dump(mode="json"),
            "result": result,
            "states": _field_states(result, confirmed),
            "audit": [
                {
                    "at": c.at.strftime("%Y-%m-%d %H:%M:%S"),
                    "reviewer": c.reviewer,
                    "doc_id": c.doc_id,
                    "key": c.key,
                    "action": c.action,
                    "old": c.old_value,
                    "new": c.new_value,
                    "reason": c.reason,
                }
                for c in corrections
            ],
            "rotations": _rotations(corrections),
            "decisions": [d.model_dump(mode="json") for d in decisions_of(corrections)],
            "mismatched": sorted(mismatched_documents(result)),
            "contradictions": {
                doc_id: c.model_dump(mode="json")
                for doc_id, c in decided_contradictions(result, corrections).items()
            },
            "history": store.status_history(row.claim_id),
        }

    def _rotations(corrections: list[CorrectionRow]) -> dict[str, int]:
        turns: dict[str, int] = {}
        for c in corrections:
            if c.action == "rotate":
                turns[c.doc_id] = int(c.new_value or 0) % 360
        return turns

    def _page_views(row: ClaimRow, rotations: dict[str, int]) -> dict[str, list[PageView]]:
        """Each document's page images with their size (so the layout does not jump)."""
        wanted = [
            (document["id"], name, page, number, rotations.get(document["id"], 0))
            for document in row.result.get("documents", [])
            for name, page, number in _numbered_pages(document)
        ]

        def view(item: tuple[str, str, int, int, int]) -> tuple[str, PageView]:
            doc_id, name, page, number, turn = item
            size: tuple[int, int] | None = None
            try:
                data = page_png(objects, settings, row.claim_id, name, page)
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

    def _claim_page(
        request: Request,
        user: SessionUser,
        row: ClaimRow,
        flash: str = "",
        problem: CorrectionProblem | None = None,
        status: int = 200,
    ) -> Response:
        view = _claim_view(row)
        return render(
            request,
            "claim.html",
            user,
            {
                **view,
                "pages": _page_views(row, view["rotations"]),
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

    @app.get("/claims/{claim_id}", response_class=HTMLResponse, include_in_schema=False)
    def claim_page(request: Request, claim_id: str, user: Reviewer, saved: str = "") -> Response:
        row = _claim_row(claim_id)
        flash = saved if saved in FLASH_KEYS else ""
        return _claim_page(request, user, row, flash)

    @app.get("/api/claims/{claim_id}", tags=["review"])
    def claim_api(claim_id: str, user: Reviewer) -> dict[str, Any]:
        """A claim's result, field states, decisions, audit trail and status history."""
        return _claim_view(_claim_row(claim_id))

    @app.get("/claims/{claim_id}/files/{name}/pages/{page}.png", include_in_schema=False)
    def page_image(claim_id: str, name: str, page: int, user: Reviewer, turn: int = 0) -> Response:
        data = _page_data(_claim_row(claim_id), name, page, turn)
        return Response(data, media_type="image/png", headers={"Cache-Control": "private"})

    def _known_page(row: ClaimRow, name: str, page: int) -> None:
        """Only pages of the claim's own documents are served (never another upload)."""
        files = {n for d in row.result.get("documents", []) for n, _ in _document_files(d)}
        if name not in files or not 0 <= page < 1000:
            raise PageError(404, "no such page", "no_page")

    def _page_data(row: ClaimRow, name: str, page: int, turn: int) -> bytes:
        _known_page(row, name, page)
        data = page_png(objects, settings, row.claim_id, name, page)
        if data is None:
            raise PageError(404, "no such page", "no_page")
        return turned_png(data, turn) if turn % 360 else data

    @app.post(
        "/api/claims/{claim_id}/read-region", tags=["review"], dependencies=[Depends(api_csrf)]
    )
    def read_region_api(claim_id: str, region: RegionIn, user: Reviewer) -> RegionText:
        """Read a box of a page image again with the OCR engine; the text is for the reviewer
        to put in a field and save (nothing is changed here)."""
        data = _page_data(_claim_row(claim_id), region.file, region.page, region.turn)
        try:
            crop = crop_png(data, region.box)
        except IntakeError as exc:
            raise HTTPException(400, str(exc)) from exc
        return read_region(crop, settings)

    @app.get("/api/claims/{claim_id}/files/{name}/pages/{page}/words", tags=["review"])
    def page_words_api(claim_id: str, name: str, page: int, user: Reviewer) -> PageWords:
        """The page's lines and words with their boxes (relative to the unturned page), for
        clicking a word into a field; read once with the OCR engine, then kept."""
        row = _claim_row(claim_id)
        _known_page(row, name, page)
        words = page_words(objects, settings, row.claim_id, name, page)
        if words is None:
            raise PageError(404, "no such page", "no_page")
        return words

    @app.post(
        "/api/claims/{claim_id}/field-text", tags=["review"], dependencies=[Depends(api_csrf)]
    )
    def field_text_api(claim_id: str, picked: FieldTextIn, user: Reviewer) -> FieldTextOut:
        """Text picked on the page written as the field's editor accepts it (1234.56,
        2026-03-01); nothing is saved."""
        documents = {d["id"]: d for d in _claim_row(claim_id).result.get("documents", [])}
        document = documents.get(picked.doc_id)
        if document is None:
            raise HTTPException(400, f"the claim has no document {picked.doc_id!r}")
        text = field_text(DocType(document["doc_type"]), picked.key, picked.text, picked.column)
        return FieldTextOut(text=text, normalised=text != picked.text.strip())

    def _reread_turned(
        row: ClaimRow, user: SessionUser, document: dict[str, Any], turn: int
    ) -> Reextraction:
        """Read a turned document again (OCR) and record the outcome in the audit trail; a
        better reading replaces the document's fields when the claim is validated again."""
        outcome = reextract(objects, settings, row.claim_id, document, turn)
        store.add_correction(
            row.claim_id,
            document["id"],
            "",
            "reextract",
            {"doc_type": outcome.doc_type_before, "fields": outcome.fields_before},
            outcome.model_dump(mode="json"),
            user.username,
            _default_reason("reextract"),
        )
        return outcome

    def _correct(
        claim_id: str, user: SessionUser, change: CorrectionIn
    ) -> tuple[dict[str, Any], Reextraction | None]:
        row = _claim_row(claim_id)
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
        document = document_from_json(documents[change.doc_id])
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
            old = _rotations(store.corrections(claim_id)).get(change.doc_id, 0)
            step = {"left": 270, "reset": -old}.get(str(change.value), 90)
            new = (old + step) % 360
        store.add_correction(
            claim_id,
            change.doc_id,
            change.key,
            change.action,
            old,
            new,
            user.username,
            change.reason or _default_reason(change.action),
        )
        reread = None
        if change.action == "rotate":
            reread = _reread_turned(row, user, documents[change.doc_id], int(new or 0))
            if not reread.replaced:
                return row.result, reread
        result = reprocess(claim_id)
        if result["status"] == ClaimStatus.COMPLETE.value:
            # complete: it leaves the queue, and nobody holds it any more
            store.release_claim(claim_id, user.username)
        return result, reread

    def _flash_key(change: CorrectionIn) -> str:
        if change.action in ("edit", "confirm") and change.key in TABLE_COLUMNS:
            return "table"
        return {"edit": "saved"}.get(change.action, change.action)

    def _submit_correction(
        request: Request, claim_id: str, user: SessionUser, change: CorrectionIn
    ) -> Response:
        try:
            result, reread = _correct(claim_id, user, change)
        except CorrectionError as exc:
            m = catalogue(user.language)
            label = m.field_label(exc.field or change.key)
            problem = CorrectionProblem(
                message=m.error_text(f"correction_{exc.kind}", field=label),
                doc_id=change.doc_id,
                key=change.key,
                value=change.value if isinstance(change.value, str) else "",
            )
            return _claim_page(request, user, _claim_row(claim_id), problem=problem, status=400)
        ref = quote(f"{change.doc_id}:{change.key}")
        flash = _flash_key(change)
        if reread is not None and reread.read:
            flash = "rotate_replaced" if reread.replaced else "rotate_kept"
        if (change.action != "rotate" or flash == "rotate_replaced") and result[
            "status"
        ] == ClaimStatus.COMPLETE.value:
            flash = "complete"
        return RedirectResponse(
            f"/claims/{quote(claim_id)}?saved={flash}&at={ref}", status_code=303
        )

    @app.post("/claims/{claim_id}/corrections", include_in_schema=False)
    def correct_form(
        request: Request,
        claim_id: str,
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
        return _submit_correction(request, claim_id, user, change)

    @app.post("/claims/{claim_id}/tables", include_in_schema=False)
    async def table_form(request: Request, claim_id: str, user: Reviewer) -> Response:
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
        return _submit_correction(request, claim_id, user, change)

    @app.post(
        "/api/claims/{claim_id}/corrections", tags=["review"], dependencies=[Depends(api_csrf)]
    )
    def correct_api(claim_id: str, change: CorrectionIn, user: Reviewer) -> dict[str, Any]:
        """Edit or confirm a field (a table field takes a list of rows), change a document's
        type, rotate or reject a page; the claim is validated again at once and its new status
        returned. A value that fails its own check (an ID number's check digit) is refused."""
        result, reread = _correct(claim_id, user, change)
        answer: dict[str, Any] = {"status": result["status"], "issues": result["issues"]}
        if reread is not None:
            answer["reread"] = reread.model_dump(mode="json", exclude={"document"})
        return answer

    def _held(claim_id: str, user: SessionUser) -> dict[str, dict[str, Any]]:
        """The claim's documents by id, when the user holds the claim."""
        row = _claim_row(claim_id)
        if row.claimed_by != user.username:
            raise PageError(409, "take the claim first to change it", "take_first")
        return {d["id"]: d for d in row.result.get("documents", [])}

    def _merge(claim_id: str, user: SessionUser, change: MergeIn) -> dict[str, Any]:
        documents = _held(claim_id, user)
        if change.doc_id not in documents or change.other not in documents:
            raise PageError(400, "no such document in this claim", "status_400")
        if change.doc_id == change.other:
            raise PageError(400, "a document cannot be merged into itself", "status_400")
        outcome = merge(documents[change.doc_id], documents[change.other])
        store.add_correction(
            claim_id,
            change.doc_id,
            "",
            "merge",
            {"documents": [change.doc_id, change.other]},
            outcome.model_dump(mode="json"),
            user.username,
            change.reason.strip() or _default_reason("merge"),
        )
        return _revalidated(claim_id, user)

    def _split(claim_id: str, user: SessionUser, change: SplitIn) -> dict[str, Any]:
        documents = _held(claim_id, user)
        document = documents.get(change.doc_id)
        if document is None:
            raise PageError(400, "no such document in this claim", "status_400")
        doc_type = (change.doc_type or DocType(document["doc_type"])).value
        used = set(documents)
        for c in store.corrections(claim_id):
            used.add(c.doc_id)
            if c.action == "merge" and isinstance(c.new_value, dict):
                used.update(str(i) for i in c.new_value.get("removed", []))
        try:
            first, second = split(document, change.page, doc_type, used)
        except ValueError as exc:
            raise PageError(400, str(exc), "split_pages") from exc
        turn = _rotations(store.corrections(claim_id)).get(change.doc_id, 0)
        reread = reextract(objects, settings, claim_id, second, turn)
        if reread.document is not None:
            second = {**reread.document, "doc_type": doc_type, "doc_type_confidence": 1.0}
        outcome = Restructure(documents=[first, second], removed=[], created=second["id"])
        store.add_correction(
            claim_id,
            change.doc_id,
            "",
            "split",
            {"documents": [change.doc_id], "page": change.page},
            outcome.model_dump(mode="json"),
            user.username,
            change.reason.strip() or _default_reason("split"),
        )
        return _revalidated(claim_id, user)

    def _revalidated(claim_id: str, user: SessionUser) -> dict[str, Any]:
        result = reprocess(claim_id)
        if result["status"] == ClaimStatus.COMPLETE.value:
            store.release_claim(claim_id, user.username)
        return result

    @app.post("/claims/{claim_id}/documents/merge", include_in_schema=False)
    async def merge_form(request: Request, claim_id: str, user: Reviewer) -> Response:
        form = await request.form()
        check_csrf(user, str(form.get("csrf_token") or ""))
        change = MergeIn(
            doc_id=str(form.get("doc_id") or "")[:300],
            other=str(form.get("other") or "")[:300],
            reason=str(form.get("reason") or "")[:500],
        )
        await run_in_threadpool(_merge, claim_id, user, change)
        return RedirectResponse(f"/claims/{quote(claim_id)}?saved=merge", status_code=303)

    @app.post("/claims/{claim_id}/documents/split", include_in_schema=False)
    async def split_form(request: Request, claim_id: str, user: Reviewer) -> Response:
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
        await run_in_threadpool(_split, claim_id, user, change)
        return RedirectResponse(f"/claims/{quote(claim_id)}?saved=split", status_code=303)

    @app.post(
        "/api/claims/{claim_id}/documents/merge", tags=["review"], dependencies=[Depends(api_csrf)]
    )
    def merge_api(claim_id: str, change: MergeIn, user: Reviewer) -> dict[str, Any]:
        """Merge a document into another (pages run on, missing fields filled, table rows
        appended); recorded in the audit trail, the claim validated again."""
        result = _merge(claim_id, user, change)
        return {"status": result["status"], "issues": result["issues"]}

    @app.post(
        "/api/claims/{claim_id}/documents/split", tags=["review"], dependencies=[Depends(api_csrf)]
    )
    def split_api(claim_id: str, change: SplitIn, user: Reviewer) -> dict[str, Any]:
        """Split a document before a page; the pages from it on become a document of their own,
        read again with the OCR engine; recorded in the audit trail, the claim validated again."""
        result = _split(claim_id, user, change)
        return {"status": result["status"], "issues": result["issues"]}

    def _contradiction(claim_id: str, user: SessionUser, change: ContradictionIn) -> dict[str, Any]:
        """Record that a document contradicts itself and which amount governs; validate again
        (the mismatch no longer holds the claim up while both amounts read as they do now)."""
        documents = _held(claim_id, user)
        document = documents.get(change.doc_id)
        if document is None:
            raise PageError(400, "no such document in this claim", "status_400")
        if change.doc_id not in mismatched_documents(_claim_row(claim_id).result):
            raise PageError(400, "no open 大写/小写 mismatch on this document", "no_contradiction")
        if not change.reason.strip():
            raise PageError(400, "say why that amount governs", "contradiction_reason")
        amounts = amounts_of(document_from_json(document))
        store.add_correction(
            claim_id,
            change.doc_id,
            change.governs,
            CONTRADICTION,
            amounts,
            amounts[change.governs],
            user.username,
            change.reason.strip(),
        )
        return _revalidated(claim_id, user)

    @app.post("/claims/{claim_id}/documents/contradiction", include_in_schema=False)
    async def contradiction_form(request: Request, claim_id: str, user: Reviewer) -> Response:
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
        await run_in_threadpool(_contradiction, claim_id, user, change)
        return RedirectResponse(
            f"/claims/{quote(claim_id)}?saved=contradiction&at={quote(change.doc_id)}:",
            status_code=303,
        )

    @app.post(
        "/api/claims/{claim_id}/documents/contradiction",
        tags=["review"],
        dependencies=[Depends(api_csrf)],
    )
    def contradiction_api(claim_id: str, change: ContradictionIn, user: Reviewer) -> dict[str, Any]:
        """A document that really contradicts itself (合计 大写 ≠ 小写 on the paper): record which
        amount governs and why. A decision in the audit trail, not an edit: the values stay as
        read, the mismatch no longer holds the claim up, and the calculation takes the
        governing amount. The claim is validated again at once."""
        result = _contradiction(claim_id, user, change)
        return {"status": result["status"], "issues": result["issues"]}

    def _decide(claim_id: str, user: SessionUser, decision: DecisionIn) -> Decision:
        row = _claim_row(claim_id)
        if row.claimed_by != user.username:
            raise PageError(409, "take the claim first to decide on it", "take_first")
        if decision.kind is DecisionKind.REJECT and not decision.reason.strip():
            raise PageError(400, "a rejection needs a reason", "decision_reason")
        if decision.kind is DecisionKind.RETURN and not (
            decision.documents or decision.reason.strip()
        ):
            raise PageError(400, "say what the claimant must bring", "decision_documents")
        if decision.kind is DecisionKind.APPROVE:
            if row.status == ClaimStatus.INCOMPLETE.value:
                raise PageError(400, "documents are missing: return the claim", "approve_missing")
            if row.status != ClaimStatus.COMPLETE.value and not decision.reason.strip():
                raise PageError(400, "approving an open claim needs a reason", "approve_reason")
        documents = [d.value for d in decision.documents]
        store.add_correction(
            claim_id,
            "",
            decision.kind.value,
            DECISION,
            row.status,
            documents,
            user.username,
            decision.reason.strip(),
        )
        store.release_claim(claim_id, user.username)
        return decisions_of(store.corrections(claim_id))[-1]

    @app.post("/claims/{claim_id}/decision", include_in_schema=False)
    async def decision_form(request: Request, claim_id: str, user: Reviewer) -> Response:
        form = await request.form()
        check_csrf(user, str(form.get("csrf_token") or ""))
        try:
            kind = DecisionKind(str(form.get("kind") or ""))
            documents = [DocType(str(d)) for d in form.getlist("documents")]
        except ValueError as exc:
            raise PageError(400, "unknown decision", "status_400") from exc
        reason = str(form.get("reason") or "")[:500]
        _decide(claim_id, user, DecisionIn(kind=kind, reason=reason, documents=documents))
        return RedirectResponse("/claims?saved=decided", status_code=303)

    @app.post("/api/claims/{claim_id}/decision", tags=["review"], dependencies=[Depends(api_csrf)])
    def decision_api(claim_id: str, decision: DecisionIn, user: Reviewer) -> Decision:
        """Approve, return to the claimant (naming the documents to bring) or reject, with a
        reason; recorded in the audit trail, and the claim leaves the queue."""
        return _decide(claim_id, user, decision)

    @app.get("/api/claims/{claim_id}/audit", tags=["review"])
    def audit_api(claim_id: str, user: Reviewer) -> list[dict[str, Any]]:
        """Who changed or decided what, when, from which value to which, and why."""
        audit: list[dict[str, Any]] = _claim_view(_claim_row(claim_id))["audit"]
        return audit

    # -- claimant uploads ---------------------------------------------------------------------

    @app.get("/upload", response_class=HTMLResponse, include_in_schema=False)
    def upload_page(request: Request, user: User) -> Response:
        m = catalogue(user.language)
        words = {
            "doc_type": m.doc_type,
            "advice": m.advice,
            "quality": m.quality,
            "ui": {k: v for k, v in m.ui.items() if k.startswith("up_")},
        }
        return render(
            request,
            "upload.html",
            user,
            {
                "claim_types": [c.value for c in ClaimType],
                "care_types": [c.value for c in CareType],
                "words": words,
                "returned": _returned_claims(user),
            },
        )

    def _returned_claims(user: SessionUser) -> list[Decision]:
        """The claimant's claims a reviewer returned: what to bring, by name."""
        found: list[Decision] = []
        for claim_id in uploads.claims_of(user.username):
            row = store.get_claim(claim_id)
            if row is None:
                continue
            corrections = store.corrections(claim_id)
            if current_decision(row, corrections) is DecisionKind.RETURN:
                decision = decisions_of(corrections)[-1]
                found.append(decision.model_copy(update={"status_before": claim_id}))
        return found

    def _draft_json(claim_id: str, user: SessionUser) -> dict[str, Any]:
        draft = uploads.draft(claim_id, user.username)
        uploads.resume_checks(draft)
        return {
            "claim_id": draft.claim_id,
            "submitted": draft.submitted_at is not None,
            "files": draft.files,
            "checklist": uploads.checklist(draft),
        }

    def _own_draft(claim_id: str, user: SessionUser) -> dict[str, Any]:
        try:
            return _draft_json(claim_id, user)
        except LookupError as exc:
            raise HTTPException(404, "no such upload") from exc

    @app.post("/api/uploads", tags=["upload"], dependencies=[Depends(api_csrf)])
    def start_upload(draft: DraftIn, user: User) -> dict[str, Any]:
        """Start a claim: its type decides which documents the checklist asks for."""
        try:
            row = uploads.start(user.username, draft.model_dump(mode="json"))
        except ManifestError as exc:
            raise HTTPException(400, str(exc)) from exc
        return _draft_json(row.claim_id, user)

    @app.get("/api/uploads/{claim_id}", tags=["upload"])
    def upload_state(claim_id: str, user: User) -> dict[str, Any]:
        """The photos so far, their verdicts, and the checklist of required documents."""
        return _own_draft(claim_id, user)

    @app.post("/api/uploads/{claim_id}/files", tags=["upload"], dependencies=[Depends(api_csrf)])
    def presign_upload(claim_id: str, body: PresignIn, user: User) -> dict[str, str]:
        """A presigned URL: the browser PUTs the photo straight to S3."""
        _own_draft(claim_id, user)
        try:
            return uploads.presign(claim_id, user.username, body.slot, body.filename)
        except UploadError as exc:
            raise HTTPException(400, str(exc)) from exc

    @app.post(
        "/api/uploads/{claim_id}/files/{name}/check",
        tags=["upload"],
        dependencies=[Depends(api_csrf)],
    )
    def check_upload(claim_id: str, name: str, user: User) -> dict[str, Any]:
        """Judge a stored photo at once: usable, or retake (blur, glare, cut-off...)."""
        _own_draft(claim_id, user)
        try:
            verdict = uploads.check(claim_id, user.username, name)
        except LookupError as exc:
            raise HTTPException(404, "no such photo in this upload") from exc
        return {"name": name, **verdict.as_json(), **_draft_json(claim_id, user)}

    @app.post("/api/uploads/{claim_id}/submit", tags=["upload"], dependencies=[Depends(api_csrf)])
    def submit_upload(claim_id: str, user: User) -> Response:
        """Hand the claim to the pipeline (it writes claim.json beside the photos); refused,
        naming them, while required documents are missing."""
        _own_draft(claim_id, user)
        try:
            uploads.submit(claim_id, user.username)
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
        return JSONResponse(_draft_json(claim_id, user))

    # -- admin ----------------------------------------------------------------------------------

    @app.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
    def users_page(request: Request, user: Admin) -> Response:
        return render(
            request,
            "users.html",
            user,
            {"users": accounts.users(), "error": "", "roles": list(Role)},
        )

    @app.post("/admin/users", include_in_schema=False)
    def add_user_form(
        request: Request,
        user: Admin,
        csrf_token: CsrfForm,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        role: Annotated[Role, Form()],
    ) -> Response:
        check_csrf(user, csrf_token)
        error = ""
        try:
            accounts.add_user(username, password, role)
        except IntakeError as exc:
            error = str(exc)
        return render(
            request,
            "users.html",
            user,
            {"users": accounts.users(), "error": error, "roles": list(Role)},
            status=400 if error else 200,
        )

    @app.get("/api/admin/users", tags=["admin"])
    def users_api(user: Admin) -> list[dict[str, str]]:
        """Accounts and their roles (admins only)."""
        return [{"username": u, "role": r} for u, r in accounts.users()]

    return app


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


def _default_reason(action: str) -> str:
    """The audit trail's reason when the reviewer gave none (stored in English, shown translated)."""
    return DEFAULT_REASONS.get(action, "")


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect a login to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
