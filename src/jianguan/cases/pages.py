"""处罚办案 pages (first steps): the case list with deadlines, a lead registered, the filing decision,
and the discretion panel (facts → suggestion). Thin: the services decide."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from jianguan.cases import discretion, service
from jianguan.cases import workflow as wf
from jianguan.cases.schemas import LeadIn
from jianguan.core import workflow
from jianguan.core.errors import DomainError, Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.entities import codes
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import form_date, page_step, render

router = APIRouter(include_in_schema=False)
STATES = {wf.LEAD: N_("Lead: to decide on filing"), wf.FILED: N_("Filed"), wf.NOT_FILED: N_("Not filed")}
ACTIONS = {"start": N_("Lead registered"), "file": N_("File the case (立案)"), "decline": N_("Do not file"),
           "extend": N_("Extend the filing period")}


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, db: SessionDep, user: PageUser, state: Annotated[str, Query()] = "",
          q: Annotated[str, Query()] = "") -> HTMLResponse:
    rows, total = service.list_cases(db, actor=user, state=state, q=q, limit=200)
    return render(request, "cases/index.html", {
        "rows": rows, "total": total, "state": state, "q": q, "states": STATES,
        "sources": codes.labels(db, "case_source"), "rules": discretion.rules(),
        "may_register": user.agency_id is not None and user.has_role(*service.REGISTRARS)})


@router.post("/cases", dependencies=[CsrfProtected])
def register(request: Request, db: SessionDep, user: PageUser, title: Annotated[str, Form()] = "",
             source_type: Annotated[str, Form()] = "", party_uscc: Annotated[str, Form()] = "",
             party_name: Annotated[str, Form()] = "", party_kind: Annotated[str, Form()] = "organisation",
             violation_code: Annotated[str, Form()] = "", facts: Annotated[str, Form()] = "",
             act_ended_on: Annotated[str, Form()] = "", discovered_on: Annotated[str, Form()] = "",
             severe: Annotated[str, Form()] = "") -> Response:
    target = "/cases"
    with page_step(request, db, N_("Lead {code} registered."), code="") as step:
        try:
            data = LeadIn(title=title, source_type=source_type, party_uscc=party_uscc, party_name=party_name,
                          party_kind=party_kind, violation_code=violation_code, facts=facts,
                          act_ended_on=form_date("act_ended_on", act_ended_on),
                          discovered_on=form_date("discovered_on", discovered_on) or service.today(),
                          severe=bool(severe))
        except ValidationError as error:
            raise Invalid.from_validation(error.errors()) from None
        case = service.register_lead(db, data=data, actor=user)
        step.done(N_("Lead {code} registered."), code=case.code)
        target = f"/cases/{case.id}"
    return RedirectResponse(target, status_code=303)


def _suggestion(case: Any, raw: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    if not case.violation_code:
        return None, ""
    facts = {k: v for k, v in raw.items() if v not in ("", None)}
    try:
        on = case.act_ended_on or case.discovered_on
        return discretion.suggest(case.violation_code, facts, on=on).as_dict(), ""
    except DomainError as error:
        return None, error.localized("zh_CN")


@router.get("/cases/{case_id:int}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    case = service.get_case(db, case_id=case_id, actor=user)
    raw = {k: v for k, v in request.query_params.items() if k in discretion.facts()}
    suggestion, problem = _suggestion(case, raw) if raw else (None, "")
    rule = discretion.rules().get(case.violation_code, [None])[0] if case.violation_code else None
    return render(request, "cases/case.html", {
        "case": case, "states": STATES, "actions": workflow.allowed_actions(case, user), "action_labels": ACTIONS,
        "events": workflow.history(db, case), "sources": codes.labels(db, "case_source"), "rule": rule,
        "facts": {k: discretion.facts()[k] for k in discretion.facts_of(rule)} if rule else {}, "entered": raw,
        "suggestion": suggestion, "problem": problem,
    })


@router.post("/cases/{case_id:int}/decide", dependencies=[CsrfProtected])
def decide(request: Request, case_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
           version: Annotated[int, Form()], comment: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        service.decide(db, case_id=case_id, action=action, comment=comment, expected_version=version, actor=user)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
