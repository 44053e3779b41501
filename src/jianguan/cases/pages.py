"""处罚办案 pages: the case list with deadline colours, the case page (timeline, every deadline, the
investigation, the discretion panel, each step's form, payments, challenges, documents), the legal
review queue, the simple procedure on a phone, and the typical cases. Thin: the services decide."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from jianguan.cases import benchmarks, discretion, execution, procedure, service, steps
from jianguan.cases import workflow as wf
from jianguan.cases.documents import EVIDENCE_CN, SERVICE_METHOD_CN
from jianguan.cases.schemas import LeadIn, ProposalIn, SimpleIn
from jianguan.core import workflow
from jianguan.core.errors import DomainError, Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.documents import service as documents
from jianguan.entities import codes
from jianguan.officers.models import Officer
from jianguan.web.deps import CsrfProtected, OptionalPageUser, PageUser
from jianguan.web.render import field_errors, flash, form_date, locale_of, page_step, render

router = APIRouter(include_in_schema=False)
STATES = {wf.LEAD: N_("Lead: to decide on filing"), wf.FILED: N_("Filed: investigating"), wf.NOT_FILED: N_("Not filed"),
          wf.REVIEWING: N_("In review (审核)"), wf.REVIEWED: N_("Reviewed"), wf.NOTIFIED: N_("Party noticed (告知)"),
          wf.HEARING: N_("Hearing"), wf.DECIDED: N_("Decided: to serve"), wf.SERVED: N_("Served: executing"),
          wf.ENFORCING: N_("Court enforcement applied for"), wf.EXECUTED: N_("Executed"), wf.CLOSED: N_("Closed"),
          wf.ARCHIVED: N_("Archived")}
ACTIONS = {"start": N_("Lead registered"), "file": N_("File the case (立案)"), "decline": N_("Do not file"),
           "extend": N_("Extend the filing period"), "report": N_("End the investigation (调查终结)"),
           "send_back": N_("Send back for more investigation"), "approve": N_("Approve in review"),
           "discuss": N_("Record the collective discussion"), "extend_decision": N_("Extend the decision period"),
           "notify": N_("Notice the party (告知)"), "record_statement": N_("Record the party's statement"),
           "waive": N_("The party waived in writing"), "request_hearing": N_("Hearing requested"),
           "hold_hearing": N_("Hearing held"), "decide": N_("Decide"), "decide_on_spot": N_("Decided on the spot"),
           "serve": N_("Served (送达)"), "defer": N_("Defer or split the payment"),
           "apply_enforcement": N_("Apply to the court for enforcement"), "execute": N_("Executed"),
           "close": N_("Close the case (结案)"), "archive": N_("Archive")}
# The fields each step's form asks for (the comment is always offered); see cases/steps.py for the rules.
STEP_FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "report": [("comment", "textarea", N_("Facts found")), ("grounds", "grounds", N_("Major-case grounds"))],
    "approve": [("comment", "textarea", N_("Review opinion (required to clear a deviation)"))],
    "send_back": [("comment", "textarea", N_("What is missing"))],
    "discuss": [("comment", "textarea", N_("Conclusion of the discussion")), ("discussed_on", "date", N_("Met on"))],
    "notify": [("served_on", "date", N_("Notice served on"))],
    "record_statement": [("comment", "textarea", N_("The party's statement")), ("stated_on", "date", N_("Stated on"))],
    "waive": [("comment", "text", N_("The party's written waiver"))],
    "request_hearing": [("requested_on", "date", N_("Requested on")), ("hearing_on", "date", N_("Hearing on"))],
    "hold_hearing": [("comment", "textarea", N_("Hearing report")), ("held_on", "date", N_("Held on"))],
    "decide": [("outcome", "outcome", N_("Outcome")), ("kinds", "kinds", N_("Penalty kinds")),
               ("fine", "money", N_("Fine (yuan)")), ("confiscation", "money", N_("Confiscated income (yuan)")),
               ("comment", "text", N_("Comment"))],
    "serve": [("served_on", "date", N_("Date on the service receipt")), ("method", "method", N_("Method"))],
    "defer": [("until", "date", N_("New last day to pay")), ("comment", "text", N_("Approval and reason"))],
}
OUTCOMES = {"penalty": N_("Penalty"), "no_penalty": N_("No penalty"), "transfer": N_("Transfer to the judiciary")}
SUSPENSIONS = {"hearing": N_("Hearing"), "testing": N_("Testing or inspection"), "expert": N_("Expert opinion"),
               "public_notice": N_("Public notice"), "other": N_("Other")}
CHALLENGE_KINDS = {"review": N_("Administrative review"), "lawsuit": N_("Administrative lawsuit")}
CHALLENGE_OUTCOMES = {"upheld": N_("Upheld"), "revoked": N_("Revoked"), "changed": N_("Changed"),
                      "unlawful": N_("Confirmed unlawful"), "dismissed": N_("Claim dismissed"),
                      "withdrawn": N_("Withdrawn")}
CHALLENGE_REASONS = {"evidence": N_("Insufficient evidence"), "procedure": N_("Unlawful procedure"),
                     "law": N_("Wrong application of law"), "discretion": N_("Clearly improper"),
                     "jurisdiction": N_("Beyond authority"), "other": N_("Other")}
DEFAULT_FIELDS = [("comment", "text", N_("Comment (the reason, where one is required)"))]
RULE_STATUSES = {"shipped": N_("Shipped"), "approved": N_("Approved"), "draft": N_("Draft"),
                 "rejected": N_("Rejected")}
PRIMARY = {"file", "report", "approve", "notify", "decide", "serve", "execute", "close", "archive", "hold_hearing"}


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


def _agency_officers(db: SessionDep, case: Any) -> list[Officer]:
    return list(db.scalars(select(Officer).where(Officer.agency_id == case.agency_id, Officer.is_active)
                           .order_by(Officer.name).limit(200)))


@router.get("/cases/{case_id:int}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, db: SessionDep, user: PageUser,
              rule_code: Annotated[str, Query(alias="rule")] = "") -> HTMLResponse:
    case = service.get_case(db, case_id=case_id, actor=user)
    benchmarks.sync(db)
    raw = {k: v for k, v in request.query_params.items() if k in discretion.facts()}
    if not raw and case.case_facts:
        raw = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in case.case_facts.items()}
    code = rule_code or case.violation_code
    suggestion, problem = _suggestion(case, raw) if raw else (None, "")
    rule = discretion.rules().get(code, [None])[0] if code else None
    officers = {o.id: o for o in _agency_officers(db, case)}
    return render(request, "cases/case.html", {
        "case": case, "states": STATES, "actions": workflow.allowed_actions(case, user), "action_labels": ACTIONS,
        "step_fields": STEP_FIELDS, "default_fields": DEFAULT_FIELDS, "primary": PRIMARY,
        "events": workflow.history(db, case),
        "sources": codes.labels(db, "case_source"), "rule": rule, "rules": discretion.rules(),
        "facts": {k: discretion.facts()[k] for k in discretion.facts_of(rule)} if rule else {}, "entered": raw,
        "suggestion": suggestion, "problem": problem, "deadlines": service.deadlines_of(db, case),
        "officers": officers, "kinds": codes.labels(db, "penalty_kind"), "grounds": procedure.ground_labels(),
        "methods": SERVICE_METHOD_CN, "evidence_kinds": EVIDENCE_CN,
        "outcomes": OUTCOMES, "suspension_reasons": SUSPENSIONS, "challenge_kinds": CHALLENGE_KINDS,
        "challenge_outcomes": CHALLENGE_OUTCOMES, "challenge_reasons": CHALLENGE_REASONS,
        "owed": steps.outstanding(case, service.today()),
        "surcharge": steps.surcharge_on(case, service.today()), "statement_end": steps.statement_period_end(db, case),
        "documents": documents.for_subject(db, subject_type="case", subject_id=case.id, actor=user),
        "handling": case.state in (wf.FILED,), "may_typical": case.decided_on is not None and not case.typical,
    })


def _payload(form: Any) -> dict[str, Any]:
    meta = {"csrf_token", "version", "action", "comment"}
    payload: dict[str, Any] = {k: str(v).strip() for k, v in form.items() if k not in meta and k not in ("kinds",
                                                                                                       "grounds")}
    payload["kinds"] = [str(v) for v in form.getlist("kinds")]
    payload["grounds"] = [str(v) for v in form.getlist("grounds")]
    return {k: v for k, v in payload.items() if v not in ("", [])}


@router.post("/cases/{case_id:int}/decide", dependencies=[CsrfProtected])
async def decide(request: Request, case_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    action = str(form.get("action", ""))
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        try:
            version = int(str(form.get("version", "")))
        except ValueError:
            raise Invalid("version", N_("The form is incomplete; reload the page.")) from None
        service.decide(db, case_id=case_id, action=action, comment=str(form.get("comment", "")),
                       payload=_payload(form), expected_version=version, actor=user)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id:int}/officers", dependencies=[CsrfProtected])
async def assign(request: Request, case_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    with page_step(request, db, N_("Officers assigned.")):
        ids = [int(str(v)) for v in form.getlist("officer_ids") if str(v).isdigit()]
        lead = str(form.get("lead_id", ""))
        service.assign_officers(db, case_id=case_id, officer_ids=ids, lead_id=int(lead) if lead.isdigit() else None,
                                expected_version=int(str(form.get("version", "0")) or 0) or None, actor=user)
    return RedirectResponse(f"/cases/{case_id}#investigation", status_code=303)


@router.post("/cases/{case_id:int}/evidence", dependencies=[CsrfProtected])
def evidence(request: Request, case_id: int, db: SessionDep, user: PageUser, kind: Annotated[str, Form()] = "",
             title: Annotated[str, Form()] = "", file: UploadFile | None = None) -> Response:
    with page_step(request, db, N_("Evidence added.")):
        has_file = file is not None and bool(file.filename)
        service.add_evidence(db, case_id=case_id, kind=kind, title=title,
                             stream=file.file if has_file and file is not None else None,
                             filename=(file.filename or "") if file is not None else "",
                             content_type=file.content_type if file is not None else None, actor=user)
    return RedirectResponse(f"/cases/{case_id}#investigation", status_code=303)


@router.post("/cases/{case_id:int}/records", dependencies=[CsrfProtected])
async def record(request: Request, case_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    kind = str(form.get("kind", ""))
    text = {k: str(v).strip() for k, v in form.items()}
    with page_step(request, db, N_("Record issued.")):
        if kind == "inquiry":
            content: dict[str, Any] = {
                "started_at": text.get("started_at", ""), "ended_at": text.get("ended_at", ""),
                "place": text.get("place", ""), "recorder": user.display_name,
                "respondent": {"name": text.get("respondent", ""), "role": text.get("role", ""),
                               "id_number": "", "phone": ""},
                "qa": [{"q": str(q).strip(), "a": str(a).strip()}
                       for q, a in zip(form.getlist("q"), form.getlist("a"), strict=False)]}
        else:
            content = {"at": text.get("at", ""), "place": text.get("place", ""), "present": text.get("present", ""),
                       "content": text.get("content", ""), "recorder": user.display_name}
        service.add_record(db, case_id=case_id, kind=kind, content=content, actor=user)
    return RedirectResponse(f"/cases/{case_id}#investigation", status_code=303)


@router.post("/cases/{case_id:int}/preservations", dependencies=[CsrfProtected])
def preserve(request: Request, case_id: int, db: SessionDep, user: PageUser,
             items: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Items registered as preserved; decide within 7 working days.")):
        service.preserve(db, case_id=case_id, items=items, actor=user)
    return RedirectResponse(f"/cases/{case_id}#investigation", status_code=303)


@router.post("/cases/{case_id:int}/preservations/{preservation_id:int}", dependencies=[CsrfProtected])
def preservation_decided(request: Request, case_id: int, preservation_id: int, db: SessionDep, user: PageUser,
                         handling: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Saved.")):
        service.decide_preservation(db, preservation_id=preservation_id, handling=handling, actor=user)
    return RedirectResponse(f"/cases/{case_id}#investigation", status_code=303)


@router.post("/cases/{case_id:int}/suspensions", dependencies=[CsrfProtected])
def suspend(request: Request, case_id: int, db: SessionDep, user: PageUser, reason: Annotated[str, Form()] = "",
            started_on: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Saved.")):
        service.suspend(db, case_id=case_id, reason=reason, started_on=form_date("started_on", started_on),
                        note=note, actor=user)
    return RedirectResponse(f"/cases/{case_id}#deadlines", status_code=303)


@router.post("/cases/{case_id:int}/suspensions/{suspension_id:int}", dependencies=[CsrfProtected])
def resume(request: Request, case_id: int, suspension_id: int, db: SessionDep, user: PageUser,
           ended_on: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Saved.")):
        service.resume(db, suspension_id=suspension_id, ended_on=form_date("ended_on", ended_on), actor=user)
    return RedirectResponse(f"/cases/{case_id}#deadlines", status_code=303)


def _money(field: str, text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise Invalid(field, N_("Not an amount of money: {value}."), value=text) from None


@router.post("/cases/{case_id:int}/proposal", dependencies=[CsrfProtected])
async def propose(request: Request, case_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    text = {k: str(v).strip() for k, v in form.items()}
    with page_step(request, db, N_("Proposal saved.")):
        facts = {k: v for k, v in text.items() if k in discretion.facts() and v}
        try:
            data = ProposalIn(violation_code=text.get("rule", ""), facts=facts, outcome=text.get("outcome", "penalty"),
                              kinds=[str(v) for v in form.getlist("kinds")],
                              fine=_money("fine", text.get("fine", "")),
                              confiscation=_money("confiscation", text.get("confiscation", "")),
                              reason=text.get("reason", ""), expected_version=int(text.get("version", "0")) or None)
        except ValidationError as error:
            raise Invalid.from_validation(error.errors()) from None
        service.propose(db, case_id=case_id, data=data, actor=user)
    return RedirectResponse(f"/cases/{case_id}#discretion", status_code=303)


@router.post("/cases/{case_id:int}/payments", dependencies=[CsrfProtected])
def payment(request: Request, case_id: int, db: SessionDep, user: PageUser, amount: Annotated[str, Form()] = "",
            paid_on: Annotated[str, Form()] = "", receipt: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Payment recorded.")):
        value = _money("amount", amount)
        if value is None:
            raise Invalid("amount", N_("Give the amount."))
        execution.record_payment(db, case_id=case_id, amount=value, paid_on=form_date("paid_on", paid_on),
                               receipt=receipt, actor=user)
    return RedirectResponse(f"/cases/{case_id}#execution", status_code=303)


@router.post("/cases/{case_id:int}/challenges", dependencies=[CsrfProtected])
def challenge(request: Request, case_id: int, db: SessionDep, user: PageUser, kind: Annotated[str, Form()] = "",
              filed_on: Annotated[str, Form()] = "", body: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Saved.")):
        day = form_date("filed_on", filed_on)
        if day is None:
            raise Invalid("filed_on", N_("Give the date."))
        execution.add_challenge(db, case_id=case_id, kind=kind, filed_on=day, body=body, actor=user)
    return RedirectResponse(f"/cases/{case_id}#execution", status_code=303)


@router.post("/cases/{case_id:int}/challenges/{challenge_id:int}", dependencies=[CsrfProtected])
def challenge_outcome(request: Request, case_id: int, challenge_id: int, db: SessionDep, user: PageUser,
                      outcome: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                      decided_on: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Saved.")):
        execution.conclude_challenge(db, challenge_id=challenge_id, outcome=outcome, reason=reason,
                                   decided_on=form_date("decided_on", decided_on), actor=user)
    return RedirectResponse(f"/cases/{case_id}#execution", status_code=303)


@router.post("/cases/{case_id:int}/typical", dependencies=[CsrfProtected])
def typical(request: Request, case_id: int, db: SessionDep, user: PageUser,
            summary: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Added to the typical cases.")):
        execution.mark_typical(db, case_id=case_id, summary=summary, actor=user)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/cases/review", response_class=HTMLResponse)
def review(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "cases/review.html", {"rows": service.review_queue(db, actor=user),
                                                 "figures": execution.challenge_figures(db, actor=user)})


@router.get("/cases/consistency", response_class=HTMLResponse)
def consistency(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    from jianguan.cases import analytics

    figures = analytics.consistency(db, actor=user)
    titles = {code: versions[0].title for code, versions in discretion.rules().items()}
    return render(request, "cases/consistency.html", {"f": figures, "titles": titles, "tiers": discretion.TIER_NAMES,
                                                      "spread": int(analytics.SPREAD * 100)})


@router.get("/cases/typical", response_class=HTMLResponse)
def typical_cases(request: Request, db: SessionDep, user: PageUser, q: Annotated[str, Query()] = "") -> HTMLResponse:
    return render(request, "cases/typical.html", {"rows": execution.typical_cases(db, q=q), "q": q, "public": False})


@router.get("/typical-cases", response_class=HTMLResponse)
def public_typical_cases(request: Request, db: SessionDep, user: OptionalPageUser,
                         q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    """Published for anyone: the anonymised summaries only (the party's name never appears in them)."""
    return render(request, "cases/typical.html", {"rows": execution.typical_cases(db, q=q), "q": q, "public": True})


def _simple_page(request: Request, db: SessionDep, user: Any, entered: dict[str, Any] | None = None,
                 errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    officers = list(db.scalars(select(Officer).where(Officer.agency_id == user.agency_id, Officer.is_active)
                               .order_by(Officer.name).limit(200))) if user.agency_id else []
    mine = steps.officer_id_of(db, user)
    entered = entered or {"officer_ids": [str(mine)] if mine else [], "kinds": []}
    return render(request, "cases/simple.html", {"officers": officers, "f": entered, "errors": errors or {}},
                  status_code=status_code)


@router.get("/cases/simple", response_class=HTMLResponse)
def simple_form(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return _simple_page(request, db, user)


@router.post("/cases/simple", dependencies=[CsrfProtected])
async def simple(request: Request, db: SessionDep, user: PageUser) -> Response:
    """A refusal shows the form again with what was typed and each problem at its field (a phone on site
    should not retype anything)."""
    form = await request.form()
    text = {k: str(v).strip() for k, v in form.items()}
    entered: dict[str, Any] = {**text, "kinds": [str(v) for v in form.getlist("kinds")],
                               "officer_ids": [str(v) for v in form.getlist("officer_ids")]}
    try:
        with db.begin_nested():
            try:
                data = SimpleIn(title=text.get("title", ""), party_uscc=text.get("party_uscc", ""),
                                party_name=text.get("party_name", ""),
                                party_kind=text.get("party_kind", "organisation"), facts=text.get("facts", ""),
                                kinds=entered["kinds"], fine=_money("fine", text.get("fine", "")),
                                collect_on_spot=bool(text.get("collect")), place=text.get("place", ""),
                                statement=text.get("statement", ""),
                                officer_ids=[int(v) for v in entered["officer_ids"] if v.isdigit()],
                                receipt=text.get("receipt", ""))
            except ValidationError as error:
                raise Invalid.from_validation(error.errors()) from None
            case = service.simple_penalty(db, data=data, actor=user)
    except DomainError as error:
        return _simple_page(request, db, user, entered, field_errors(error, locale_of(request)), status_code=422)
    flash(request, N_("Decided on the spot: {number}."), number=case.decision_number)
    return RedirectResponse(f"/cases/{case.id}#documents", status_code=303)


# --------------------------------------------------------------------------- the rule register and editor


@router.get("/cases/discretion", response_class=HTMLResponse)
def rule_register(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "cases/rules.html", {"rows": benchmarks.register(db),
                                                "may_import": user.has_role(*benchmarks.APPROVERS)})


@router.get("/cases/discretion/export.xlsx")
def rule_export(db: SessionDep, user: PageUser) -> Response:
    """Every rule as one row, Chinese headers: edit in Excel and import it back (/imports)."""
    import io

    from jianguan.cases import importing

    out = io.BytesIO()
    labels = {f.key: f.label for f in importing.FIELDS}
    importing.export(db).rename(labels).write_excel(out, worksheet="裁量基准", autofit=True)
    return Response(out.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="discretion-rules.xlsx"'})


@router.get("/cases/discretion/{code}", response_class=HTMLResponse)
def rule_versions(request: Request, code: str, db: SessionDep, user: PageUser) -> HTMLResponse:
    versions = benchmarks.versions_of(db, code)
    current = next((v for v in versions if v["status"] in ("shipped", "approved")), None)
    template = dict(current["spec"]) if current else {"code": code, "title": "", "effective_from": service.today()}
    template.pop("version", None)
    import yaml

    return render(request, "cases/rule.html", {
        "code": code, "versions": versions, "draft_yaml": yaml.safe_dump(template, allow_unicode=True, sort_keys=False),
        "may_edit": user.has_role(*benchmarks.EDITORS), "may_approve": user.has_role(*benchmarks.APPROVERS),
        "user_id": user.id, "statuses": RULE_STATUSES})


@router.post("/cases/discretion", dependencies=[CsrfProtected])
def rule_propose(request: Request, db: SessionDep, user: PageUser, spec: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "") -> Response:
    target = "/cases/discretion"
    with page_step(request, db, N_("Version {version} of {code} saved as a draft; another person approves it."),
                   version="", code="") as step:
        row = benchmarks.propose(db, spec=benchmarks.parse_yaml(spec), note=note, actor=user)
        step.done(N_("Version {version} of {code} saved as a draft; another person approves it."),
                  version=row.number, code=row.code)
        target = f"/cases/discretion/{row.code}"
    return RedirectResponse(target, status_code=303)


@router.post("/cases/discretion/versions/{rule_id:int}", dependencies=[CsrfProtected])
def rule_decide(request: Request, rule_id: int, db: SessionDep, user: PageUser, code: Annotated[str, Form()] = "",
                decision: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Saved.")):
        benchmarks.decide(db, rule_id=rule_id, approve=decision == "approve", note=note, actor=user)
    return RedirectResponse(f"/cases/discretion/{code}", status_code=303)
