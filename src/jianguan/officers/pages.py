"""统一执法主体库 pages: agencies in my scope, their accounts and officers; admins edit accounts,
officers, credentials, leave and conflicts here. 亮证/查证 are in credential_pages.py."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.auth import service as accounts
from jianguan.auth.models import DataScope, Role, User
from jianguan.auth.scope import visible
from jianguan.core.errors import Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.deps import SessionDep
from jianguan.officers import credential_pages, credentials, roster, service
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, flash, locale_of, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/officers", response_class=HTMLResponse)
def officers_home(
    request: Request, db: SessionDep, user: PageUser,
    q: Annotated[str | None, Query()] = None, page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
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
    officer_rows, total = _officer_rows(db, user, q, page)
    can_add = any(roster.can_manage(user, a.id) for a in agencies) if user.has_role(
        Role.agency_admin, Role.system_admin) else False
    return render(request, "officers/index.html", {
        "rows": rows, "domain_labels": service.DOMAIN_LABELS, "officers": officer_rows, "total": total,
        "q": q or "", "page": page, "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE), "can_add": can_add,
        "reasons": credentials.REASONS, "can_import": user.has_role(Role.agency_admin, Role.system_admin),
    })


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
    email: Annotated[str, Form()] = "",
) -> Response:
    try:
        accounts.update_user(db, user_id=user_id, version=version, actor=user, display_name=display_name,
                             roles=roles or [], data_scope=data_scope or None, is_active=is_active == "on",
                             email=email)
    except Invalid as error:
        db.rollback()
        target = accounts.get_user(db, user_id=user_id, actor=user)
        return _detail(request, target, user, errors=field_errors(error, locale_of(request)), status_code=422)
    flash(request, N_("Saved."))
    return RedirectResponse(f"/users/{user_id}", status_code=303)


# --------------------------------------------------------------------------- officers (执法人员)


def _date(field: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(field, N_("Enter a date as YYYY-MM-DD.")) from None


def _officer_rows(db: Session, user: User, q: str | None, page: int) -> tuple[list[dict[str, Any]], int]:
    officers, total = roster.list_officers(db, actor=user, q=q, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    on = today_shanghai()
    rows = []
    for officer in officers:
        cards = [(c, *credentials.credential_validity(c, on)) for c in officer.credentials]
        rows.append({"officer": officer, "credentials": cards})
    return rows, total


def _detail_context(db: Session, officer_id: int, user: User) -> dict[str, Any]:
    officer = roster.get_officer(db, officer_id=officer_id, actor=user)
    on = today_shanghai()
    cards = [{"credential": c, "valid": v, "reason": r, "events": credentials.events_of(db, c.id)}
             for c in officer.credentials for v, r in [credentials.credential_validity(c, on)]]
    return {
        "officer": officer, "view": roster.officer_view(officer, user), "cards": cards,
        "leaves": roster.leaves_of(db, officer.id), "conflicts": roster.conflicts_of(db, officer.id),
        "on_leave": roster.on_leave(db, officer_id=officer.id, on=on),
        "workload": roster.workload(db, officer_id=officer.id),
        "can_manage": roster.can_manage(user, officer.agency_id), "errors": {},
        "all_domains": roster.domain_choices(db),
        "relations": roster.CONFLICT_RELATIONS, "today_date": on, "domain_labels": service.DOMAIN_LABELS,
        "reasons": credentials.REASONS, "event_labels": credentials.EVENT_LABELS,
    }


def _officer_page(request: Request, db: Session, officer_id: int, user: User, *,
                  errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    context = _detail_context(db, officer_id, user)
    context["errors"] = errors or {}
    return render(request, "officers/officer.html", context, status_code=status_code)


def _failed(request: Request, db: Session, officer_id: int, user: User, error: Invalid) -> HTMLResponse:
    db.rollback()
    return _officer_page(request, db, officer_id, user, errors=field_errors(error, locale_of(request)),
                         status_code=422)


@router.get("/officers/new", response_class=HTMLResponse)
def officer_new(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    agencies = [a for a in service.list_agencies(db, actor=user) if roster.can_manage(user, a.id)]
    if not agencies:
        raise Forbidden(N_("Only an admin of the officer's agency can change officers and credentials."))
    return render(request, "officers/officer_new.html", {"agencies": agencies, "errors": {}, "form": {},
                                                         "all_domains": roster.domain_choices(db),
                       "domain_labels": service.DOMAIN_LABELS})


@router.post("/officers/new", dependencies=[CsrfProtected])
def officer_create(
    request: Request, db: SessionDep, user: PageUser,
    agency_id: Annotated[int, Form()], name: Annotated[str, Form()] = "",
    id_number: Annotated[str, Form()] = "", phone: Annotated[str, Form()] = "",
    gender: Annotated[str, Form()] = "", domains: Annotated[list[str] | None, Form()] = None,
    qualifications: Annotated[str, Form()] = "",
) -> Response:
    try:
        officer = roster.create_officer(db, agency_id=agency_id, name=name, id_number=id_number or None,
                                        phone=phone or None, gender=gender or None, domains=domains or [],
                                        qualifications=qualifications.replace("；", ";").split(";"), actor=user)
    except Invalid as error:
        db.rollback()
        agencies = [a for a in service.list_agencies(db, actor=user) if roster.can_manage(user, a.id)]
        form = {"agency_id": agency_id, "name": name, "phone": phone, "gender": gender, "domains": domains or [],
                "qualifications": qualifications}
        return render(request, "officers/officer_new.html",
                      {"agencies": agencies, "errors": field_errors(error, locale_of(request)), "form": form,
                       "all_domains": roster.domain_choices(db),
                       "domain_labels": service.DOMAIN_LABELS}, status_code=422)
    flash(request, N_("Saved."))
    return RedirectResponse(f"/officers/{officer.id}", status_code=303)


@router.get("/officers/{officer_id:int}", response_class=HTMLResponse)
def officer_detail(request: Request, officer_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    return _officer_page(request, db, officer_id, user)


@router.post("/officers/{officer_id:int}/edit", dependencies=[CsrfProtected])
def officer_edit(
    request: Request, officer_id: int, db: SessionDep, user: PageUser, version: Annotated[int, Form()],
    name: Annotated[str, Form()] = "", phone: Annotated[str, Form()] = "",
    domains: Annotated[list[str] | None, Form()] = None, qualifications: Annotated[str, Form()] = "",
    is_active: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        officer = roster.update_officer(
            db, officer_id=officer_id, version=version, actor=user, name=name, domains=domains or [],
            qualifications=qualifications.replace("；", ";").split(";"), is_active=is_active == "on")
        if phone.strip():  # left empty: keep the number (the form never shows it in clear)
            roster.update_officer(db, officer_id=officer_id, version=officer.version, actor=user, phone=phone)
    except Invalid as error:
        return _failed(request, db, officer_id, user, error)
    flash(request, N_("Saved."))
    return RedirectResponse(f"/officers/{officer_id}", status_code=303)


@router.post("/officers/{officer_id:int}/credentials", dependencies=[CsrfProtected])
def credential_issue(
    request: Request, officer_id: int, db: SessionDep, user: PageUser,
    number: Annotated[str, Form()] = "", domains: Annotated[list[str] | None, Form()] = None,
    issued_on: Annotated[str, Form()] = "", expires_on: Annotated[str, Form()] = "",
    issuer: Annotated[str, Form()] = "",
) -> Response:
    try:
        credentials.issue_credential(db, officer_id=officer_id, number=number, domains=domains or [],
                                     issued_on=_date("issued_on", issued_on),
                                     expires_on=_date("expires_on", expires_on), issuer=issuer, actor=user)
    except Invalid as error:
        return _failed(request, db, officer_id, user, error)
    flash(request, N_("Credential issued."))
    return RedirectResponse(f"/officers/{officer_id}", status_code=303)


@router.post("/officers/credentials/{credential_id:int}/{action}", dependencies=[CsrfProtected])
def credential_change(
    request: Request, credential_id: int, action: str, db: SessionDep, user: PageUser,
    version: Annotated[int, Form()], reason: Annotated[str, Form()] = "",
    expires_on: Annotated[str, Form()] = "",
) -> Response:
    credential = credentials.get_credential(db, credential_id=credential_id, actor=user)
    officer_id = credential.officer_id
    try:
        if action == "renew":
            credentials.renew_credential(db, credential_id=credential_id, version=version, reason=reason,
                                         expires_on=_date("expires_on", expires_on), actor=user)
        elif action in ("suspend", "reinstate", "revoke"):
            change = {"suspend": credentials.suspend_credential, "reinstate": credentials.reinstate_credential,
                      "revoke": credentials.revoke_credential}[action]
            change(db, credential_id=credential_id, version=version, reason=reason, actor=user)
        else:
            raise NotFound()
    except Invalid as error:
        return _failed(request, db, officer_id, user, error)
    flash(request, N_("Saved."))
    return RedirectResponse(f"/officers/{officer_id}", status_code=303)


@router.post("/officers/{officer_id:int}/leave", dependencies=[CsrfProtected])
def leave_add(
    request: Request, officer_id: int, db: SessionDep, user: PageUser,
    starts_on: Annotated[str, Form()] = "", ends_on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        roster.add_leave(db, officer_id=officer_id, starts_on=_date("starts_on", starts_on),
                         ends_on=_date("ends_on", ends_on), reason=reason, actor=user)
    except Invalid as error:
        return _failed(request, db, officer_id, user, error)
    flash(request, N_("Saved."))
    return RedirectResponse(f"/officers/{officer_id}", status_code=303)


@router.post("/officers/{officer_id:int}/leave/{leave_id:int}/delete", dependencies=[CsrfProtected])
def leave_remove(request: Request, officer_id: int, leave_id: int, db: SessionDep, user: PageUser) -> Response:
    roster.remove_leave(db, leave_id=leave_id, actor=user)
    flash(request, N_("Removed."))
    return RedirectResponse(f"/officers/{officer_id}", status_code=303)


@router.post("/officers/{officer_id:int}/conflicts", dependencies=[CsrfProtected])
def conflict_add(
    request: Request, officer_id: int, db: SessionDep, user: PageUser,
    relation: Annotated[str, Form()] = "", entity_uscc: Annotated[str, Form()] = "",
    entity_name: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
) -> Response:
    try:
        roster.add_conflict(db, officer_id=officer_id, relation=relation, entity_uscc=entity_uscc or None,
                            entity_name=entity_name, note=note, actor=user)
    except Invalid as error:
        return _failed(request, db, officer_id, user, error)
    flash(request, N_("Saved."))
    return RedirectResponse(f"/officers/{officer_id}", status_code=303)


@router.post("/officers/{officer_id:int}/conflicts/{conflict_id:int}/delete", dependencies=[CsrfProtected])
def conflict_remove(request: Request, officer_id: int, conflict_id: int, db: SessionDep,
                    user: PageUser) -> Response:
    roster.remove_conflict(db, conflict_id=conflict_id, actor=user)
    flash(request, N_("Removed."))
    return RedirectResponse(f"/officers/{officer_id}", status_code=303)


# 亮证 and 查证 live in their own module; they share this router's mount.
router.include_router(credential_pages.router)
