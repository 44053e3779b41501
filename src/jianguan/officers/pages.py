"""统一执法主体库 pages: agencies in my scope and their accounts; admins edit accounts here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from jianguan.auth import service as accounts
from jianguan.auth.models import DataScope, Role, User
from jianguan.auth.scope import visible
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.officers import service
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, flash, locale_of, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/officers", response_class=HTMLResponse)
def officers_home(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    agencies = service.list_agencies(db, actor=user)
    counts: dict[int | None, int] = {
        agency_id: n
        for agency_id, n in db.execute(
            select(User.agency_id, func.count()).where(visible(User, user)).group_by(User.agency_id)
        )
    }
    depth_of = {a.id: a.path.count("/") - 2 for a in agencies}
    base = min(depth_of.values(), default=0)
    rows = [{"agency": a, "depth": depth_of[a.id] - base, "users": counts.get(a.id, 0)} for a in agencies]
    return render(request, "officers/index.html", {"rows": rows, "domain_labels": service.DOMAIN_LABELS})


@router.get("/users", response_class=HTMLResponse)
def users_list(
    request: Request, db: SessionDep, user: PageUser,
    q: Annotated[str | None, Query()] = None, page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    rows, total = accounts.list_users(db, actor=user, q=q, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    can_export = user.has_role(Role.agency_admin, Role.leader)
    return render(request, "officers/users.html", {"rows": rows, "total": total, "q": q or "", "page": page,
                                                   "pages": pages, "can_export": can_export})


def _can_edit(actor: User, target: User) -> bool:
    return actor.is_system_admin or (actor.has_role(Role.agency_admin) and actor.agency_id == target.agency_id)


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_detail(request: Request, user_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    target = accounts.get_user(db, user_id=user_id, actor=user)
    return _detail(request, target, user)


def _detail(request: Request, target: User, actor: User, *, errors: dict[str, str] | None = None,
            status_code: int = 200) -> HTMLResponse:
    from jianguan.core.masking import mask_id_number, mask_phone

    own = target.id == actor.id
    context = {
        "target": target,
        "id_number": target.id_number if own else mask_id_number(target.id_number),
        "phone": target.phone if own else mask_phone(target.phone),
        "can_edit": _can_edit(actor, target),
        "all_roles": [r.value for r in Role if actor.is_system_admin or r != Role.system_admin],
        "scopes": [s.value for s in DataScope if actor.is_system_admin or s != DataScope.all],
        "errors": errors or {},
    }
    return render(request, "officers/user.html", context, status_code=status_code)


@router.post("/users/{user_id}", dependencies=[CsrfProtected])
def user_update(
    request: Request, user_id: int, db: SessionDep, user: PageUser,
    version: Annotated[int, Form()],
    display_name: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    data_scope: Annotated[str, Form()] = "",
    is_active: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        accounts.update_user(db, user_id=user_id, version=version, actor=user, display_name=display_name,
                             roles=roles or [], data_scope=data_scope or None, is_active=is_active == "on")
    except Invalid as error:
        db.rollback()
        target = accounts.get_user(db, user_id=user_id, actor=user)
        return _detail(request, target, user, errors=field_errors(error, locale_of(request)), status_code=422)
    flash(request, N_("Saved."))
    return RedirectResponse(f"/users/{user_id}", status_code=303)
