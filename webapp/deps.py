"""What every router of the web app shares, passed explicitly as FastAPI dependencies.

`Web` is the app's context (settings, claim store, object store, the reprocess flow, accounts,
uploads, login limiter, templates), built once by `webapp.app.create_app` and kept on
`app.state.web`; a route asks for it (`web: Web`) rather than closing over it. `User`,
`Reviewer` and `Admin` are the session's user with the role a route needs; `api_csrf` checks
the CSRF header of state-changing API calls, `check_csrf` a form's token. Pages are rendered
with `render` (the user's language, the page to come back to after switching language).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, HTTPException, Request, Response
from fastapi.templating import Jinja2Templates

from flows.i18n import DEFAULT_LANGUAGE, Language, catalogue
from infra.storage import ObjectStore, UnsafeKeyError, validate_key_part
from infra.store import ClaimRow, ClaimStore
from pipeline.settings import Settings
from webapp.accounts import Accounts, LoginLimiter, SessionUser
from webapp.uploads import Uploads

SESSION_COOKIE = "intake_session"
LOGIN_CSRF_COOKIE = "intake_login_csrf"

Reprocess = Callable[[str], dict[str, Any]]


class LoginRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


class PageError(HTTPException):
    """An HTTP error whose page text comes from the catalogue (`error.<key>`)."""

    def __init__(self, status: int, detail: str, key: str, **values: str) -> None:
        super().__init__(status, detail)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class WebContext:
    """The app's parts, shared by its routers (one per app, on `app.state.web`)."""

    settings: Settings
    store: ClaimStore
    objects: ObjectStore
    reprocess: Reprocess
    accounts: Accounts
    uploads: Uploads
    limiter: LoginLimiter
    templates: Jinja2Templates

    def claim_row(self, claim_id: str) -> ClaimRow:
        """The stored claim, or the catalogue's 404 page (an unsafe id is no claim at all)."""
        try:
            validate_key_part(claim_id)
        except UnsafeKeyError as exc:
            raise PageError(404, "no such claim", "no_claim") from exc
        row = self.store.get_claim(claim_id)
        if row is None:
            raise PageError(404, "no such claim", "no_claim")
        return row

    def secure_cookies(self, request: Request) -> bool:
        mode = self.settings.web_cookie_secure
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")

    def visitor(self, request: Request) -> SessionUser | None:
        """The session's user if there is one (error pages speak the user's language)."""
        return self.accounts.session_user(request.cookies.get(SESSION_COOKIE))

    def render(
        self,
        request: Request,
        name: str,
        user: SessionUser | None,
        context: dict[str, Any],
        status: int = 200,
        language: Language | None = None,
    ) -> Response:
        """A page in the user's language (the login page's own choice before a session)."""
        chosen = language or (user.language if user else DEFAULT_LANGUAGE)
        return self.templates.TemplateResponse(
            request,
            name,
            {"user": user, "m": catalogue(chosen), "here": here(request), **context},
            status_code=status,
        )


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


Web = Annotated[WebContext, Depends(web_context)]


def current_user(request: Request, web: Web) -> SessionUser:
    """The session's user; pages redirect to /login and the API answers 401 without one."""
    user = web.visitor(request)
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
API_CSRF = [Depends(api_csrf)]


def safe_next(target: str) -> str:
    """Only same-site paths: never redirect a login to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def here(request: Request) -> str:
    """This page, to come back to after switching language (one-off banners dropped)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("saved", "at")]
    query = f"?{urlencode(kept)}" if kept else ""
    return safe_next(f"{request.url.path}{query}")
