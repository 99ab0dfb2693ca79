"""Public routes (health, login) and the session's own: logout, language, the API spec."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from flows.i18n import DEFAULT_LANGUAGE, Language, catalogue
from webapp.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfForm,
    PageError,
    User,
    Web,
    WebContext,
    check_csrf,
    safe_next,
)

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/api/openapi.json", include_in_schema=False)
def openapi_spec(request: Request, user: User) -> dict[str, Any]:
    spec: dict[str, Any] = request.app.openapi()
    return spec


@router.get("/health", tags=["public"])
def health() -> dict[str, str]:
    return {"status": "ok"}


def _login_language(value: str) -> Language:
    try:
        return Language(value)
    except ValueError:
        return DEFAULT_LANGUAGE


def login_form(
    web: WebContext,
    request: Request,
    csrf: str,
    next: str,
    error: str,
    status: int = 200,
    language: Language = DEFAULT_LANGUAGE,
    expired: bool = False,
) -> Response:
    return web.render(
        request,
        "login.html",
        None,
        {"csrf": csrf, "next": safe_next(next), "error": error, "expired": expired},
        status=status,
        language=language,
    )


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(
    request: Request, web: Web, next: str = "/", lang: str = "", expired: str = ""
) -> Response:
    token = secrets.token_urlsafe(24)
    language = _login_language(lang)
    response = login_form(web, request, token, next, "", language=language, expired=bool(expired))
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=web.secure_cookies(request),
    )
    return response


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    web: Web,
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
    wait = web.limiter.blocked_for(address, username)
    if wait:
        message = m.t("login_blocked", seconds=int(wait))
        return login_form(web, request, expected, next, message, 429, language)
    if not web.accounts.verify(username, password):
        web.limiter.failed(address, username)
        log.info("failed login for a user from %s", address)
        return login_form(web, request, expected, next, m.t("login_wrong"), 401, language)
    web.limiter.succeeded(address, username)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        web.accounts.open_session(username),
        httponly=True,
        samesite="lax",
        secure=web.secure_cookies(request),
        max_age=int(web.settings.web_session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, web: Web, user: User, csrf_token: CsrfForm) -> Response:
    check_csrf(user, csrf_token)
    web.accounts.close_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/settings/language", include_in_schema=False)
def language_form(
    web: Web,
    user: User,
    csrf_token: CsrfForm,
    language: Annotated[Language, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The user's language for every page from now on (stored with the account)."""
    check_csrf(user, csrf_token)
    web.accounts.set_language(user.username, language)
    return RedirectResponse(safe_next(next), status_code=303)
