"""The review and upload web app: server-rendered pages plus a JSON API under /api/.

Every route but /login and /health needs a session; every state-changing request needs the
session's CSRF token (a form field, or the X-CSRF-Token header for the API). Reviewers
correct flagged extractions; each change goes to the audit trail and the claim is validated
again at once through the reprocess flow. Claimants upload phone photos straight to S3.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware

from flows.review import ACTIONS, CorrectionError, current_value, document_from_json
from pipeline.bundle import CareType, ClaimType, ManifestError
from pipeline.errors import IntakeError
from pipeline.privacy import mask_id_number, mask_name
from pipeline.records import RECORD_TYPES, DocType
from pipeline.settings import Settings
from pipeline.storage import ObjectStore, StorageUnavailableError, UnsafeKeyError, validate_key_part
from pipeline.store import ClaimRow, ClaimStore
from webapp.accounts import Accounts, LoginLimiter, Role, SessionUser
from webapp.pages import page_png
from webapp.uploads import UploadError, Uploads

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "intake_session"
LOGIN_CSRF_COOKIE = "intake_login_csrf"
QUEUE_STATUSES = ["needs_review", "rejected"]
ALL_STATUSES = ["needs_review", "rejected", "incomplete", "complete"]
STATUS_LABELS = {
    "complete": "complete",
    "incomplete": "incomplete",
    "needs_review": "needs review",
    "rejected": "rejected",
}

Reprocess = Callable[[str], dict[str, Any]]


class LoginRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


class CorrectionIn(BaseModel):
    doc_id: str = Field(max_length=300)
    key: str = Field("", max_length=64)
    action: str = Field(max_length=16)
    value: str = Field("", max_length=2000)
    reason: str = Field("", max_length=500)


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
        raise HTTPException(403, "this needs the admin role")
    return user


def check_csrf(user: SessionUser, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, user.csrf_token):
        raise HTTPException(403, "the form is out of date or forged (CSRF check failed)")


def api_csrf(request: Request, user: Annotated[SessionUser, Depends(current_user)]) -> None:
    """State-changing API calls carry the session's CSRF token in X-CSRF-Token."""
    check_csrf(user, request.headers.get("x-csrf-token"))


User = Annotated[SessionUser, Depends(current_user)]
Admin = Annotated[SessionUser, Depends(admin_user)]
CsrfForm = Annotated[str, Form()]


def _age(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    hours = (datetime.now(UTC) - moment).total_seconds() / 3600
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{round(hours)} h"
    return f"{round(hours / 24)} d"


def _patient(row: ClaimRow) -> tuple[str, str]:
    """(masked name, masked ID number) of the claim's patient, from its ID card if read."""
    for document in row.result.get("documents", []):
        if document["doc_type"] == DocType.ID_CARD.value:
            fields = document["fields"]
            name = fields.get("name", {}).get("value") or ""
            number = fields.get("id_number", {}).get("value") or ""
            return mask_name(str(name)), mask_id_number(str(number))
    return "", ""


def queue_entry(row: ClaimRow) -> dict[str, Any]:
    name, number = _patient(row)
    return {
        "claim_id": row.claim_id,
        "status": row.status,
        "claim_type": row.claim_type,
        "care_type": row.care_type,
        "issue_codes": sorted({i["code"] for i in row.result.get("issues", [])}),
        "missing_documents": row.result.get("missing_documents", []),
        "patient_name": name,
        "patient_id_number": number,
        "age": _age(row.created_at),
        "claimed_by": row.claimed_by,
    }


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
    templates.env.globals["status_labels"] = STATUS_LABELS

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

    # -- sessions, roles, CSRF --------------------------------------------------------------

    def _secure(request: Request) -> bool:
        mode = settings.web_cookie_secure
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        target = quote(request.url.path, safe="/")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(IntakeError)
    async def _intake_error(request: Request, exc: IntakeError) -> Response:
        status = 503 if isinstance(exc, StorageUnavailableError) else 400
        return JSONResponse({"detail": str(exc), "reason": exc.reason}, status_code=status)

    def _claim_row(claim_id: str) -> ClaimRow:
        try:
            validate_key_part(claim_id)
        except UnsafeKeyError as exc:
            raise HTTPException(404, "no such claim") from exc
        row = store.get_claim(claim_id)
        if row is None:
            raise HTTPException(404, "no such claim")
        return row

    # -- public: health and login -----------------------------------------------------------

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_spec(user: User) -> dict[str, Any]:
        return app.openapi()

    @app.get("/health", tags=["public"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    def login_form(
        request: Request, csrf: str, next: str, error: str, status: int = 200
    ) -> Response:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"csrf": csrf, "next": _safe_next(next), "error": error, "user": None},
            status_code=status,
        )

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/claims", error: str = "") -> Response:
        token = secrets.token_urlsafe(24)
        response = login_form(request, token, next, error)
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
        next: Annotated[str, Form()] = "/claims",
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not expected or not hmac.compare_digest(expected, csrf_token):
            raise HTTPException(403, "the login form is out of date: reload the page")
        address = request.client.host if request.client else "?"
        wait = limiter.blocked_for(address, username)
        if wait:
            message = f"Too many failed logins: try again in {int(wait)} s."
            return login_form(request, expected, next, message, 429)
        if not accounts.verify(username, password):
            limiter.failed(address, username)
            log.info("failed login for a user from %s", address)
            return login_form(request, expected, next, "Wrong user name or password.", 401)
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

    # -- review queue -------------------------------------------------------------------------

    def _queue(status: str, claim_type: str, code: str) -> list[dict[str, Any]]:
        statuses = [status] if status in ALL_STATUSES else QUEUE_STATUSES
        rows = store.list_claims(statuses)
        entries = [queue_entry(r) for r in rows]
        if claim_type:
            entries = [e for e in entries if e["claim_type"] == claim_type]
        if code:
            entries = [e for e in entries if code in e["issue_codes"]]
        return entries

    @app.get("/", include_in_schema=False)
    def home(user: User) -> Response:
        return RedirectResponse("/claims", status_code=303)

    @app.get("/claims", response_class=HTMLResponse, include_in_schema=False)
    def queue_page(
        request: Request, user: User, status: str = "", claim_type: str = "", code: str = ""
    ) -> Response:
        entries = _queue(status, claim_type, code)
        all_codes = sorted({c for e in _queue(status, "", "") for c in e["issue_codes"]})
        return templates.TemplateResponse(
            request,
            "queue.html",
            {
                "user": user,
                "entries": entries,
                "filters": {"status": status, "claim_type": claim_type, "code": code},
                "statuses": ALL_STATUSES,
                "claim_types": [c.value for c in ClaimType],
                "codes": all_codes,
            },
        )

    @app.get("/api/claims", tags=["review"])
    def queue_api(
        user: User, status: str = "", claim_type: str = "", code: str = ""
    ) -> list[dict[str, Any]]:
        """The review queue (needs_review and rejected by default), oldest first."""
        return _queue(status, claim_type, code)

    def _take(claim_id: str, user: SessionUser) -> str:
        _claim_row(claim_id)
        holder = store.take_claim(claim_id, user.username)
        if holder != user.username:
            raise HTTPException(409, f"claim {claim_id} is being reviewed by {holder}")
        return holder

    def _release(claim_id: str, user: SessionUser) -> None:
        _claim_row(claim_id)
        if not store.release_claim(claim_id, user.username, force=user.is_admin):
            raise HTTPException(409, f"claim {claim_id} is not held by you")

    @app.post("/claims/{claim_id}/take", include_in_schema=False)
    def take_form(claim_id: str, user: User, csrf_token: CsrfForm) -> Response:
        check_csrf(user, csrf_token)
        _take(claim_id, user)
        return RedirectResponse(f"/claims/{quote(claim_id)}", status_code=303)

    @app.post("/claims/{claim_id}/release", include_in_schema=False)
    def release_form(claim_id: str, user: User, csrf_token: CsrfForm) -> Response:
        check_csrf(user, csrf_token)
        _release(claim_id, user)
        return RedirectResponse("/claims", status_code=303)

    @app.post("/api/claims/{claim_id}/take", tags=["review"], dependencies=[Depends(api_csrf)])
    def take_api(claim_id: str, user: User) -> dict[str, str]:
        """Take a claim for review, so no other reviewer works on it at the same time."""
        return {"claim_id": claim_id, "claimed_by": _take(claim_id, user)}

    @app.post("/api/claims/{claim_id}/release", tags=["review"], dependencies=[Depends(api_csrf)])
    def release_api(claim_id: str, user: User) -> dict[str, str]:
        """Give a claim back to the queue (admins may release anyone's)."""
        _release(claim_id, user)
        return {"claim_id": claim_id, "claimed_by": ""}

    # -- claim review -------------------------------------------------------------------------

    def _claim_view(row: ClaimRow) -> dict[str, Any]:
        result = row.result
        confirmed = store.confirmed_fields(row.claim_id)
        return {
            "claim": queue_entry(row),
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
                for c in store.corrections(row.claim_id)
            ],
            "rotations": _rotations(row.claim_id),
            "history": store.status_history(row.claim_id),
        }

    def _rotations(claim_id: str) -> dict[str, int]:
        turns: dict[str, int] = {}
        for c in store.corrections(claim_id):
            if c.action == "rotate":
                turns[c.doc_id] = int(c.new_value or 0) % 360
        return turns

    @app.get("/claims/{claim_id}", response_class=HTMLResponse, include_in_schema=False)
    def claim_page(request: Request, claim_id: str, user: User, saved: str = "") -> Response:
        row = _claim_row(claim_id)
        return templates.TemplateResponse(
            request,
            "claim.html",
            {
                "user": user,
                **_claim_view(row),
                "doc_types": [t.value for t in DocType],
                "record_fields": {t.value: list(RECORD_TYPES[t].model_fields) for t in DocType},
                "saved": saved,
            },
        )

    @app.get("/api/claims/{claim_id}", tags=["review"])
    def claim_api(claim_id: str, user: User) -> dict[str, Any]:
        """A claim's result, field states, audit trail and status history."""
        return _claim_view(_claim_row(claim_id))

    @app.get("/claims/{claim_id}/files/{name}/pages/{page}.png", include_in_schema=False)
    def page_image(claim_id: str, name: str, page: int, user: User) -> Response:
        row = _claim_row(claim_id)
        files = {d["file"] for d in row.result.get("documents", [])}
        if name not in files or not 0 <= page < 1000:
            raise HTTPException(404, "no such page")
        data = page_png(objects, settings, claim_id, name, page)
        if data is None:
            raise HTTPException(404, "no such page")
        return Response(data, media_type="image/png", headers={"Cache-Control": "private"})

    def _correct(claim_id: str, user: SessionUser, change: CorrectionIn) -> dict[str, Any]:
        row = _claim_row(claim_id)
        if change.action not in ACTIONS:
            raise HTTPException(400, f"unknown action {change.action!r}; one of {ACTIONS}")
        if row.claimed_by != user.username:
            raise HTTPException(
                409, "take the claim first: corrections are made by the reviewer holding it"
            )
        documents = {d["id"]: d for d in row.result.get("documents", [])}
        if change.doc_id not in documents:
            raise HTTPException(400, f"the claim has no document {change.doc_id!r}")
        document = document_from_json(documents[change.doc_id])
        old: Any = None
        new: Any = change.value
        if change.action in ("edit", "confirm"):
            if change.key not in RECORD_TYPES[document.doc_type].model_fields:
                raise HTTPException(400, f"a {document.doc_type.value} has no field {change.key!r}")
            old = current_value(document, change.key)
            if change.action == "confirm":
                new = old
            else:
                from flows.review import parse_field_value

                parse_field_value(document.doc_type, change.key, change.value)
        elif change.action == "doc_type":
            if change.value not in {t.value for t in DocType}:
                raise HTTPException(400, f"unknown document type {change.value!r}")
            old = document.doc_type.value
        elif change.action == "rotate":
            old = _rotations(claim_id).get(change.doc_id, 0)
            new = (old + 90) % 360
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
        if change.action == "rotate":
            return row.result
        return reprocess(claim_id)

    @app.post("/claims/{claim_id}/corrections", include_in_schema=False)
    def correct_form(
        claim_id: str,
        user: User,
        csrf_token: CsrfForm,
        doc_id: Annotated[str, Form()],
        action: Annotated[str, Form()],
        key: Annotated[str, Form()] = "",
        value: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(user, csrf_token)
        change = CorrectionIn(doc_id=doc_id, key=key, action=action, value=value, reason=reason)
        try:
            result = _correct(claim_id, user, change)
        except CorrectionError as exc:
            return RedirectResponse(
                f"/claims/{quote(claim_id)}?saved={quote('error: ' + str(exc))}", status_code=303
            )
        message = f"saved; the claim is now {STATUS_LABELS.get(result['status'], result['status'])}"
        return RedirectResponse(
            f"/claims/{quote(claim_id)}?saved={quote(message)}",
            status_code=303,
        )

    @app.post(
        "/api/claims/{claim_id}/corrections", tags=["review"], dependencies=[Depends(api_csrf)]
    )
    def correct_api(claim_id: str, change: CorrectionIn, user: User) -> dict[str, Any]:
        """Edit or confirm a field, change a document's type, rotate or reject a page; the
        claim is validated again at once and its new status returned."""
        result = _correct(claim_id, user, change)
        return {"status": result["status"], "issues": result["issues"]}

    @app.get("/api/claims/{claim_id}/audit", tags=["review"])
    def audit_api(claim_id: str, user: User) -> list[dict[str, Any]]:
        """Who changed what, when, from which value to which, and why."""
        audit: list[dict[str, Any]] = _claim_view(_claim_row(claim_id))["audit"]
        return audit

    # -- claimant uploads ---------------------------------------------------------------------

    @app.get("/upload", response_class=HTMLResponse, include_in_schema=False)
    def upload_page(request: Request, user: User) -> Response:
        return templates.TemplateResponse(
            request,
            "upload.html",
            {
                "user": user,
                "claim_types": [c.value for c in ClaimType],
                "care_types": [c.value for c in CareType],
            },
        )

    def _draft_json(claim_id: str, user: SessionUser) -> dict[str, Any]:
        draft = uploads.draft(claim_id, user.username)
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
    def submit_upload(claim_id: str, user: User) -> dict[str, Any]:
        """Hand the claim to the pipeline (it writes claim.json beside the photos)."""
        _own_draft(claim_id, user)
        try:
            uploads.submit(claim_id, user.username)
        except UploadError as exc:
            raise HTTPException(400, str(exc)) from exc
        return _draft_json(claim_id, user)

    # -- admin ----------------------------------------------------------------------------------

    @app.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
    def users_page(request: Request, user: Admin) -> Response:
        return templates.TemplateResponse(
            request, "users.html", {"user": user, "users": accounts.users(), "error": ""}
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
        return templates.TemplateResponse(
            request,
            "users.html",
            {"user": user, "users": accounts.users(), "error": error},
            status_code=400 if error else 200,
        )

    @app.get("/api/admin/users", tags=["admin"])
    def users_api(user: Admin) -> list[dict[str, str]]:
        """Accounts and their roles (admins only)."""
        return [{"username": u, "role": r} for u, r in accounts.users()]

    return app


def _default_reason(action: str) -> str:
    return {
        "edit": "value corrected against the page image",
        "confirm": "value confirmed against the page image",
        "doc_type": "document type corrected",
        "unreadable": "page unreadable: new photo requested from the claimant",
        "rotate": "page turned for reading",
    }.get(action, "")


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect a login to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/claims"
    return target
