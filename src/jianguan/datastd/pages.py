"""统一数据标准 pages: the landing page and the 字典 (value domains, regions, industries).

Everyone signed in may read; a system admin adds, renames, reorders and retires value-domain items
here (plain forms; a stale form is refused with 409 like every other edit).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.deps import SessionDep
from jianguan.reference import service
from jianguan.reference.models import ValueDomainItem
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, flash, locale_of, render

router = APIRouter(include_in_schema=False)

REGION_LEVELS = {"province": N_("Province"), "city": N_("City"), "county": N_("County")}
INDUSTRY_LEVELS = {"section": N_("Section"), "division": N_("Division"), "group": N_("Group"),
                   "class": N_("Class")}


@router.get("/datastd", response_class=HTMLResponse)
def landing(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    items = db.scalar(select(func.count()).select_from(ValueDomainItem)) or 0
    regions = service.region_counts(db)
    industries = service.industry_counts(db)
    cards = [
        {"key": "value-domains", "label": N_("Value domains"), "value": len(service.list_domains(db)),
         "hint": N_("{n} codes in all"), "params": {"n": items}, "href": "/datastd/value-domains"},
        {"key": "regions", "label": N_("Administrative divisions"), "value": sum(regions.values()),
         "hint": N_("GB/T 2260 province, city and county"), "params": {}, "href": "/datastd/regions"},
        {"key": "industries", "label": N_("Industry classification"), "value": sum(industries.values()),
         "hint": N_("GB/T 4754-2017 sections to classes"), "params": {}, "href": "/datastd/industries"},
    ]
    return render(request, "datastd/index.html", {"cards": cards, "regions": regions, "industries": industries,
                                                  "region_levels": REGION_LEVELS,
                                                  "industry_levels": INDUSTRY_LEVELS})


@router.get("/datastd/value-domains", response_class=HTMLResponse)
def domains(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    today = today_shanghai()
    rows = []
    for domain in service.list_domains(db):
        items = service.domain_items(db, domain.code, include_retired=True)
        rows.append({"domain": domain, "current": sum(1 for i in items if i.valid_on(today)),
                     "retired": sum(1 for i in items if not i.valid_on(today))})
    return render(request, "datastd/domains.html", {"rows": rows})


def _domain_page(request: Request, db: Session, user: User, domain: str, *, errors: dict[str, str] | None = None,
                 form: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    found = service.get_domain(db, domain)
    items = service.domain_items(db, domain, include_retired=True)
    return render(request, "datastd/domain.html", {
        "domain": found, "items": items, "today_date": today_shanghai(), "can_edit": user.is_system_admin,
        "errors": errors or {}, "form": form or {},
    }, status_code=status_code)


@router.get("/datastd/value-domains/{domain}", response_class=HTMLResponse)
def domain_page(request: Request, domain: str, db: SessionDep, user: PageUser) -> HTMLResponse:
    return _domain_page(request, db, user, domain)


def _int(field: str, value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise Invalid(field, N_("Enter a whole number.")) from None


def _date(field: str, value: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(field, N_("Enter a date as YYYY-MM-DD.")) from None


@router.post("/datastd/value-domains/{domain}/items", dependencies=[CsrfProtected])
def add_item(
    request: Request, domain: str, db: SessionDep, user: PageUser,
    code: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
    sort_order: Annotated[str, Form()] = "", valid_from: Annotated[str, Form()] = "",
    non_standard: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        item = service.add_item(db, domain=domain, code=code, name=name, sort_order=_int("sort_order", sort_order),
                                valid_from=_date("valid_from", valid_from), is_standard=non_standard != "on",
                                actor=user)
    except Invalid as error:
        db.rollback()
        form = {"code": code, "name": name, "sort_order": sort_order, "valid_from": valid_from}
        return _domain_page(request, db, user, domain, errors=field_errors(error, locale_of(request)), form=form,
                            status_code=422)
    flash(request, N_("Added {code}."), code=item.code)
    return RedirectResponse(f"/datastd/value-domains/{domain}#item-{item.id}", status_code=303)


@router.post("/datastd/value-domains/{domain}/items/{item_id}", dependencies=[CsrfProtected])
def update_item(
    request: Request, domain: str, item_id: int, db: SessionDep, user: PageUser,
    version: Annotated[int, Form()],
    action: Annotated[str, Form()] = "save",
    name: Annotated[str, Form()] = "", sort_order: Annotated[str, Form()] = "",
    valid_to: Annotated[str, Form()] = "",
) -> Response:
    try:
        if action == "retire":
            service.retire_item(db, item_id=item_id, version=version, actor=user,
                                valid_to=_date("valid_to", valid_to))
            message = N_("Retired.")
        elif action == "restore":
            service.update_item(db, item_id=item_id, version=version, actor=user, valid_to=None)
            message = N_("Restored.")
        else:
            service.update_item(db, item_id=item_id, version=version, actor=user, name=name,
                                sort_order=_int("sort_order", sort_order))
            message = N_("Saved.")
    except Invalid as error:
        db.rollback()
        errors = {f"{item_id}.{k}": v for k, v in field_errors(error, locale_of(request)).items()}
        return _domain_page(request, db, user, domain, errors=errors, status_code=422)
    flash(request, message)
    return RedirectResponse(f"/datastd/value-domains/{domain}#item-{item_id}", status_code=303)


@router.get("/datastd/regions", response_class=HTMLResponse)
def regions(
    request: Request, db: SessionDep, user: PageUser,
    parent: Annotated[str | None, Query(max_length=6)] = None, q: Annotated[str | None, Query(max_length=50)] = None,
) -> HTMLResponse:
    parent = parent or None
    path = service.region_path(db, parent) if parent else []
    rows = service.list_regions(db, parent=path[-1].code if path else None, q=q)
    children = service.child_counts(db, [r.code for r in rows])
    names = {r.code: r.name for r in rows}
    return render(request, "datastd/regions.html", {
        "rows": rows, "path": path, "q": q or "", "children": children, "levels": REGION_LEVELS,
        "counts": service.region_counts(db), "names": names,
        "paths": {r.code: service.region_path(db, r.code) for r in rows} if q else {},
    })


@router.get("/datastd/industries", response_class=HTMLResponse)
def industries(
    request: Request, db: SessionDep, user: PageUser,
    parent: Annotated[str | None, Query(max_length=4)] = None, q: Annotated[str | None, Query(max_length=50)] = None,
) -> HTMLResponse:
    parent = parent or None
    path = service.industry_path(db, parent) if parent else []
    rows = service.list_industries(db, q=q, parent=path[-1].code if path else None)
    leaf = {r.code for r in rows if r.level == "class"}
    return render(request, "datastd/industries.html", {
        "rows": rows, "path": path, "q": q or "", "levels": INDUSTRY_LEVELS, "leaf": leaf,
        "counts": service.industry_counts(db),
        "paths": {r.code: service.industry_path(db, r.code)[:-1] for r in rows} if q else {},
    })
