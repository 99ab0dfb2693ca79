"""Accounts (admins only) and review statistics (reviewers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from pipeline.errors import IntakeError
from webapp.accounts import Role
from webapp.deps import Admin, CsrfForm, Reviewer, Web, WebContext, check_csrf
from webapp.models import UserEntry
from webapp.stats import Stats, compute

router = APIRouter()


@router.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
def users_page(request: Request, web: Web, user: Admin) -> Response:
    return web.render(
        request,
        "users.html",
        user,
        {"users": web.accounts.users(), "error": "", "roles": list(Role)},
    )


@router.post("/admin/users", include_in_schema=False)
def add_user_form(
    request: Request,
    web: Web,
    user: Admin,
    csrf_token: CsrfForm,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[Role, Form()],
) -> Response:
    check_csrf(user, csrf_token)
    error = ""
    try:
        web.accounts.add_user(username, password, role)
    except IntakeError as exc:
        error = str(exc)
    return web.render(
        request,
        "users.html",
        user,
        {"users": web.accounts.users(), "error": error, "roles": list(Role)},
        status=400 if error else 200,
    )


@router.get("/api/admin/users", tags=["admin"])
def users_api(web: Web, user: Admin) -> list[UserEntry]:
    """Accounts and their roles (admins only)."""
    return [UserEntry(username=u, role=r) for u, r in web.accounts.users()]


def _stats(web: WebContext) -> Stats:
    store = web.store
    return compute(store.list_claims(), store.all_corrections(), store.first_statuses())


@router.get("/stats", response_class=HTMLResponse, include_in_schema=False)
def stats_page(request: Request, web: Web, user: Reviewer) -> Response:
    stats = _stats(web)
    return web.render(
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


@router.get("/api/stats", tags=["review"])
def stats_api(web: Web, user: Reviewer) -> Stats:
    """Straight-through share, the fields reviewers change or confirm most by document
    type and form family, and claims and changes per ISO week."""
    return _stats(web)
