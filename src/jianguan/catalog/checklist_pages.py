"""Checklist pages: the officer's phone form for an entity (扫码调取清单: the entity's QR code opens
it), adding and dropping points, the template list and the checklist designer with a phone-width
preview of exactly what the officer will see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from jianguan.catalog import checklists, rules
from jianguan.config import get_settings
from jianguan.core.errors import DomainError, Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.entities import codes
from jianguan.entities import service as entities
from jianguan.officers.credential_pages import qr_svg
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import flash, render

router = APIRouter(include_in_schema=False)
DESIGN_LABELS = {"add": N_("Add"), "remove": N_("Remove"), "up": N_("Move up"), "down": N_("Move down"),
                 "mandatory": N_("Make mandatory"), "optional": N_("Make optional")}


def grouped(rows: list[tuple[Any, ...]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Rows (section first) in runs of one section, in their order (Jinja's groupby would sort them)."""
    out: list[tuple[str, list[tuple[Any, ...]]]] = []
    for row in rows:
        if not out or out[-1][0] != row[0]:
            out.append((row[0], []))
        out[-1][1].append(row)
    return out


def describer(db: Session) -> Callable[[dict[str, list[str]]], list[str]]:
    label = checklists.labeller(db)
    return lambda rule: rules.describe(rule, label)


def checklist_url(uscc: str) -> str:
    """What an entity's QR code holds: its checklist page (the officer signs in on the phone)."""
    return f"{get_settings().base_url.rstrip('/')}/catalog/checklist?uscc={uscc}"


@router.get("/catalog/checklist", response_class=HTMLResponse)
def checklist_for(request: Request, db: SessionDep, user: PageUser, uscc: Annotated[str, Query()] = "",
                  item: Annotated[str, Query()] = "") -> HTMLResponse:
    entity = entities.find(db, uscc_code=uscc) if uscc.strip() else None
    plan, error = None, None
    if uscc.strip() and entity is None:
        error = Invalid("uscc", N_("No entity with USCC {uscc}."), uscc=uscc)
    elif entity is not None:
        entities.get_entity(db, entity_id=entity.id, actor=user)  # the officer's data scope
        try:
            plan = checklists.plan(db, entity=entity, item_codes=[item] if item else [])
        except Invalid as exc:
            error = exc
    return render(request, "catalog/checklist.html", {
        "entity": entity, "plan": plan, "error": error, "uscc": uscc, "item": item,
        "rows": grouped([(p.section, p.point, p.mandatory, p.reason) for p in plan.points] if plan else []),
        "qr": qr_svg(checklist_url(entity.uscc)) if entity is not None and entity.uscc else None,
        "labels": {d: codes.labels(db, d) for d in ("answer_type", "check_severity", "enterprise_scale")}})


@router.post("/catalog/checklist", dependencies=[CsrfProtected])
def start_checklist(request: Request, db: SessionDep, user: PageUser, uscc: Annotated[str, Form()],
                    item: Annotated[str, Form()] = "") -> Response:
    entity = entities.find(db, uscc_code=uscc)
    if entity is None:
        flash(request, N_("No entity with USCC {uscc}."), "error", uscc=uscc)
        return RedirectResponse("/catalog/checklist", status_code=303)
    entities.get_entity(db, entity_id=entity.id, actor=user)
    made = checklists.create(db, entity=entity, item_codes=[item] if item else [], actor=user)
    return RedirectResponse(f"/catalog/checklists/{made.id}", status_code=303)


@router.get("/catalog/checklists/{checklist_id:int}", response_class=HTMLResponse)
def checklist_page(request: Request, checklist_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    found = checklists.get_checklist(db, checklist_id=checklist_id)
    entity = entities.get_entity(db, entity_id=found.entity_id, actor=user)
    return render(request, "catalog/checklist_saved.html", {
        "checklist": found, "entity": entity,
        "rows": grouped([(p.section, p.check_point, p.mandatory, p.reason) for p in found.points]),
        "labels": {d: codes.labels(db, d) for d in ("answer_type", "check_severity")}})


@router.post("/catalog/checklists/{checklist_id:int}/points", dependencies=[CsrfProtected])
def checklist_points(request: Request, checklist_id: int, db: SessionDep, user: PageUser,
                     op: Annotated[str, Form()], code: Annotated[str, Form()], reason: Annotated[str, Form()] = "",
                     version: Annotated[int | None, Form()] = None) -> Response:
    found = checklists.get_checklist(db, checklist_id=checklist_id)
    entities.get_entity(db, entity_id=found.entity_id, actor=user)
    try:
        if op == "add":
            checklists.add_point(db, checklist_id=checklist_id, code=code, expected_version=version, actor=user)
            flash(request, N_("Check point {code} added."), code=code.strip())
        else:
            checklists.remove_point(db, checklist_id=checklist_id, code=code, reason=reason, actor=user)
            flash(request, N_("Check point {code} dropped."), code=code.strip())
    except DomainError as error:
        db.rollback()
        flash(request, error.message, "error", **error.params)
    return RedirectResponse(f"/catalog/checklists/{checklist_id}", status_code=303)


@router.get("/catalog/templates", response_class=HTMLResponse)
def templates(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "catalog/templates.html", {"rows": checklists.list_templates(db),
                                                      "describe": describer(db)})


@router.get("/catalog/templates/{template_id:int}/design", response_class=HTMLResponse)
def design(request: Request, template_id: int, db: SessionDep, user: PageUser,
           q: Annotated[str, Query()] = "") -> HTMLResponse:
    template = checklists.get_template(db, template_id=template_id)
    draft = checklists.draft_of(db, template)
    shown = draft or checklists.current_template_version(db, template)
    in_force = checklists.points_in_force(db)
    rows = [(p, in_force.get(p.point_code)) for p in shown.points] if shown else []
    preview = grouped([(p.section, point, p.mandatory, "") for p, point in rows if point is not None])
    sectioned = grouped([(p.section, p, point) for p, point in rows])
    found = []
    if q.strip():
        text = q.strip()
        taken = {p.point_code for p in shown.points} if shown else set()
        found = [p for c, p in sorted(in_force.items()) if c not in taken and (text in p.text or c.startswith(text))][
            :20]
    sections = list(dict.fromkeys(p.section for p in shown.points)) if shown else []
    return render(request, "catalog/designer.html", {
        "template": template, "shown": shown, "draft": draft, "rows": rows, "found": found, "q": q,
        "preview": preview, "sectioned": sectioned, "describe": describer(db),
        "sections": sections, "ops": DESIGN_LABELS,
        "labels": {d: codes.labels(db, d) for d in ("answer_type", "check_severity")}})


@router.post("/catalog/templates/{template_id:int}/design", dependencies=[CsrfProtected])
def design_step(request: Request, template_id: int, db: SessionDep, user: PageUser, op: Annotated[str, Form()],
                code: Annotated[str, Form()] = "", section: Annotated[str, Form()] = "",
                version: Annotated[int | None, Form()] = None, q: Annotated[str, Form()] = "") -> Response:
    try:
        if op == "publish":
            checklists.publish_template(db, template_id=template_id, actor=user)
            flash(request, N_("The template is published; new checklists use it from now on."))
        else:
            checklists.change_draft(db, template_id=template_id, op=op, code=code, section=section,
                                    expected_version=version, actor=user)
    except DomainError as error:
        db.rollback()
        flash(request, error.message, "error", **error.params)
    back = f"/catalog/templates/{template_id}/design" + (f"?q={q}" if q else "")
    return RedirectResponse(back + f"#p-{code}" if code and op != "publish" else back, status_code=303)
