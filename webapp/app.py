"""The review and upload web app: server-rendered pages plus a JSON API under /api/.

Every route but /login and /health needs a session; every state-changing request needs the
session's CSRF token (a form field, or the X-CSRF-Token header for the API). Reviewers
correct flagged extractions; each change goes to the audit trail and the claim is validated
again at once through the reprocess flow. Claimants upload phone photos straight to S3.

`create_app` assembles the app: its shared parts (`webapp.deps.WebContext`, on
`app.state.web`), security headers, error pages, static files, and one router per concern
(`webapp.routes`: auth, queue, claim, changes, uploads, admin).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from flows.i18n import DEFAULT_LANGUAGE, Language, catalogue
from flows.review import TABLE_COLUMNS
from infra.storage import ObjectStore, StorageUnavailableError
from infra.store import ClaimStore
from pipeline.errors import IntakeError
from pipeline.settings import Settings
from webapp.accounts import Accounts, LoginLimiter
from webapp.deps import LoginRequired, PageError, Reprocess, WebContext
from webapp.routes import admin, auth, changes, claim, queue, uploads
from webapp.routes.changes import DEFAULT_REASONS
from webapp.uploads import Uploads
from webapp.views import age_text

HERE = Path(__file__).resolve().parent
ROUTERS = (auth, queue, admin, claim, changes, uploads)


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


def _page_next(path: str) -> str:
    """Where a login should return after a form POST whose session had expired: the page."""
    found = re.match(r"^/claims/([^/]+)/", path)
    if found:
        return f"/claims/{found.group(1)}"
    if path.startswith("/api/uploads") or path == "/upload":
        return "/upload"
    return "/"


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["age_text"] = age_text
    templates.env.globals["table_columns"] = TABLE_COLUMNS
    templates.env.globals["languages"] = list(Language)
    templates.env.globals["default_reasons"] = DEFAULT_REASONS
    return templates


def _error_page(
    web: WebContext, request: Request, status: int, key: str, values: dict[str, str]
) -> Response:
    """An error as a page in the visitor's language (the catalogue's words for its key)."""
    user = web.visitor(request)
    m = catalogue(user.language if user else DEFAULT_LANGUAGE)
    known = key in m.error
    message = m.error_text(key if known else f"status_{status}", **values)
    return web.render(
        request,
        "error.html",
        user,
        {"status": status, "message": message, "code": key},
        status=status,
    )


def _add_error_handlers(app: FastAPI, web: WebContext) -> None:
    """The API answers errors in JSON; pages get a page (or the login, when the session ended)."""

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
            return _error_page(web, request, exc.status_code, exc.key, exc.values)
        return _error_page(web, request, exc.status_code, f"status_{exc.status_code}", {})

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, exc)
        return _error_page(web, request, 422, "status_422", {})

    @app.exception_handler(IntakeError)
    async def _intake_error(request: Request, exc: IntakeError) -> Response:
        status = 503 if isinstance(exc, StorageUnavailableError) else 400
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc), "reason": exc.reason}, status_code=status)
        return _error_page(web, request, status, f"status_{status}", {})


def create_app(
    settings: Settings,
    store: ClaimStore,
    objects: ObjectStore,
    reprocess: Reprocess,
    s3_public_url: str | None = None,
) -> FastAPI:
    """The app over a claim store, an object store and a reprocess callable (the flow)."""
    web = WebContext(
        settings=settings,
        store=store,
        objects=objects,
        reprocess=reprocess,
        accounts=Accounts(store, settings.web_session_hours),
        uploads=Uploads(store, objects, settings),
        limiter=LoginLimiter(settings.web_login_attempts, settings.web_login_window_seconds),
        templates=_templates(),
    )
    app = FastAPI(
        title="Yidi Claims Intake — review and upload",
        version="1.0",
        docs_url=None,
        openapi_url=None,  # served by the auth router, behind the login like every API route
        redoc_url=None,
        # the routers' routes themselves, not routers included as one lazy entry each
        # (FastAPI 0.150): `app.routes` lists every route, as the access checks walk them
        routes=[route for part in ROUTERS for route in part.router.routes],
    )
    app.add_middleware(SecurityHeaders, connect_src=s3_public_url or objects.url)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.web = web
    app.state.accounts = web.accounts
    _add_error_handlers(app, web)
    return app
