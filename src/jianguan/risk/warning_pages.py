"""The warning centre (list, map by county, false-alarm rate per rule), a warning's page with its next
step, and the rule pages (versions, editor, back-test). Thin: the services decide."""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from jianguan.core import workflow
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.deps import SessionDep
from jianguan.entities.models import Entity
from jianguan.officers.models import Agency
from jianguan.reference import laws
from jianguan.risk import rules, warning_rules, warnings
from jianguan.risk.models import WarningRule
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, flash, locale_of, page_step, render

router = APIRouter(include_in_schema=False)
STATES = {"assigned": N_("Assigned"), "verifying": N_("Verifying"), "disposed": N_("Disposed"),
          "feedback": N_("Feedback given"), "closed": N_("Loop closed")}
ACTIONS = {"start": N_("Raised by the rule"), "take": N_("Take it up and verify"),
           "transfer": N_("Transfer to another agency"),
           "dispose": N_("Record the disposal"), "false_alarm": N_("Close as a false alarm"),
           "feedback": N_("Give feedback"), "close": N_("Close the loop")}
DISPOSITIONS = {"inspection": N_("An inspection (a draft plan naming the entity)"),
                "case": N_("A penalty case lead"), "other": N_("Another measure (say which)"),
                "false_alarm": N_("False alarm")}
KINDS = {"threshold": N_("Threshold"), "window": N_("Window aggregate"), "consecutive": N_("Consecutive events"),
         "expiry": N_("Expiry"), "mismatch": N_("Cross-source mismatch"), "level_change": N_("Risk level change")}
PAGE = 50


def _law_titles() -> dict[str, str]:
    """slug → the law's title, so a rule's basis reads 《中华人民共和国食品安全法》第…条."""
    return {slug: law.title for slug, law in laws.laws().items()}


@router.get("/risk/warnings", response_class=HTMLResponse)
def centre(request: Request, db: SessionDep, user: PageUser, state: str = "", level: str = "", rule: str = "",
           page: int = 1) -> HTMLResponse:
    page = max(1, page)
    rows, total = warnings.listing(db, actor=user, state=state if state in STATES else "",
                                   level=level if level in ("red", "yellow", "blue") else "", rule_code=rule,
                                   open_only=not state, limit=PAGE, offset=(page - 1) * PAGE)
    names = {i: n for i, n in db.execute(select(Entity.id, Entity.name).where(
        Entity.id.in_({w.entity_id for w in rows} or {-1})))}
    regions = warnings.by_region(db, actor=user)
    return render(request, "risk/warnings.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE)), "names": names,
        "states": STATES, "state": state, "level": level, "rule": rule, "regions": regions,
        "map": json.dumps([r for r in regions if r["lat"] is not None], ensure_ascii=False),
        "figures": warnings.rule_figures(db, actor=user).to_dicts(), "today": today_shanghai()})


@router.get("/risk/warnings/{warning_id:int}", response_class=HTMLResponse)
def warning_page(request: Request, warning_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    record = warnings.get(db, warning_id=warning_id, actor=user)
    others = [a for a in db.scalars(select(Agency).order_by(Agency.code))
              if record.domain in (a.domains or []) and a.id != record.agency_id]
    return render(request, "risk/warning.html", {
        "w": record, "entity": db.get(Entity, record.entity_id),
        "agency": db.get(Agency, record.agency_id) if record.agency_id else None,
        "actions": workflow.allowed_actions(record, user), "action_labels": ACTIONS, "states": STATES,
        "dispositions": DISPOSITIONS, "transfer_to": others[:200], "history": workflow.history(db, record),
        "rule_row": db.get(WarningRule, record.rule_id) if record.rule_id else None, "law_titles": _law_titles()})


@router.post("/risk/warnings/{warning_id:int}/act", dependencies=[CsrfProtected])
async def act(request: Request, warning_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    action = str(form.get("action") or "")
    payload = {k: str(form.get(k) or "") for k in ("disposition", "agency_id") if form.get(k)}
    version = str(form.get("version") or "")
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        warnings.act(db, warning_id=warning_id, action=action, actor=user, comment=str(form.get("comment") or ""),
                     payload=payload, expected_version=int(version) if version.isdigit() else None)
    return RedirectResponse(f"/risk/warnings/{warning_id}", status_code=303)


# --------------------------------------------------------------------------- rules


@router.get("/risk/rules", response_class=HTMLResponse)
def rule_list(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    today = today_shanghai()
    figures = {f["rule_code"]: f for f in warnings.rule_figures(db, actor=user).to_dicts()}
    rows = db.scalars(select(WarningRule).order_by(WarningRule.code,
                                                                 WarningRule.version_number.desc()))
    latest: dict[str, Any] = {}
    for row in rows:
        latest.setdefault(row.code, row)
    return render(request, "risk/rules.html", {
        "rows": list(latest.values()), "figures": figures, "kinds": KINDS, "today": today,
        "in_force": {r.code: r.version for r in warning_rules.in_force(db, on=today)}})


def _rule_context(db: SessionDep, code: str, user: Any) -> dict[str, Any]:
    versions = warning_rules.versions(db, code=code)
    return {"code": code, "versions": versions, "latest": versions[0], "kinds": KINDS, "law_titles": _law_titles(),
            "may_edit": warning_rules.may_edit(user), "indicators": rules.INDICATORS,
            "text": yaml.safe_dump({k: v for k, v in versions[0].spec.items() if k != "version"}, allow_unicode=True,
                                   sort_keys=False, default_flow_style=False)}


@router.get("/risk/rules/{code}", response_class=HTMLResponse)
def rule_page(request: Request, code: str, db: SessionDep, user: PageUser, days: int = 90) -> HTMLResponse:
    context = _rule_context(db, code, user)
    days = max(1, min(days, 366))
    spec = rules.validate(context["latest"].spec)
    result = warning_rules.backtest(db, rule=spec, end=today_shanghai(), days=days)
    names = {i: n for i, n in db.execute(select(Entity.id, Entity.name).where(
        Entity.id.in_(result.warnings["entity_id"].head(50).to_list() or [-1])))}
    test = {"summary": result.summary, "rows": result.warnings.head(50).to_dicts(), "names": names, "days": days}
    return render(request, "risk/rule.html", {**context, "test": test, "errors": {}})


@router.post("/risk/rules/{code}", dependencies=[CsrfProtected])
async def save_rule(request: Request, code: str, db: SessionDep, user: PageUser) -> Response:
    """Save the edited text as the next version; refused with the field named, nothing saved."""
    form = await request.form()
    text = str(form.get("spec") or "")
    try:
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise Invalid("spec", N_("Write the rule as YAML fields (name: …, params: …)."))
        row = warning_rules.save(db, data={**data, "code": code}, actor=user)
    except yaml.YAMLError as problem:
        error = Invalid("spec", N_("Not valid YAML: {problem}"), problem=str(problem).splitlines()[0])
    except Invalid as refused:
        db.rollback()
        error = refused
    else:
        flash(request, N_("Version {version} of {code} saved; it applies from its effective date."), code=code,
              version=row.version_number)
        return RedirectResponse(f"/risk/rules/{code}", status_code=303)
    context = _rule_context(db, code, user)
    context["text"] = text
    return render(request, "risk/rule.html", {**context, "test": None, "errors": field_errors(
        error, locale_of(request))}, status_code=422)

