"""Inspection pages for the officer on a phone: 我的任务, and one inspection with the step it is at —
schedule and notice, preparation, 亮证, the checklist answered on site (saved as the officer goes, kept
on the phone while offline: static/js/visit.js), photos, the signature pad, findings, feedback and
rectification. Thin: each form calls ``visits`` and comes back here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from jianguan.catalog.models import CheckPoint
from jianguan.core import workflow
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.deps import SessionDep
from jianguan.documents import service as documents
from jianguan.entities import codes
from jianguan.entities.models import Entity
from jianguan.inspections import visits
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import InspectionEvidence
from jianguan.officers.models import Officer
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import form_date, page_step, render

router = APIRouter(include_in_schema=False)
STATES = {wf.NOTICE: N_("Notice to give"), wf.PREPARING: N_("Preparing"), wf.READY: N_("Ready to visit"),
          wf.ON_SITE: N_("On site"), wf.FEEDBACK: N_("Feedback to send"), wf.RECTIFYING: N_("Rectifying"),
          wf.REVIEWING: N_("Under review"), wf.DONE: N_("Closed (销号)"), wf.CANCELLED: N_("Cancelled")}
ACTIONS = {"start": N_("Created"), "send_notice": N_("Notice given"), "skip_notice": N_("No advance notice"),
           "approve_preparation": N_("Approve the preparation"), "start_visit": N_("Start the visit"),
           "finish_visit": N_("Finish the visit"), "send_feedback": N_("Send the feedback letter"),
           "conclude": N_("Conclude: no problems found"), "review": N_("Review the rectification"),
           "reopen": N_("Back to rectification"), "close": N_("Close (销号)"), "cancel": N_("Cancel")}
FINDING_STATES = {wf.OPEN: N_("Plan awaited"), wf.PLAN_SUBMITTED: N_("Plan submitted"),
                  wf.RECTIFYING: N_("Rectifying"), wf.EVIDENCE_SUBMITTED: N_("Evidence submitted"),
                  wf.ACCEPTED: N_("Accepted"), wf.TRANSFERRED: N_("Transferred to a case")}
FINDING_ACTIONS = {"submit_plan": N_("Record the rectification plan"), "approve_plan": N_("Approve the plan"),
                   "reject_plan": N_("Return the plan"), "submit_evidence": N_("Record the evidence"),
                   "accept": N_("Accept"), "reject": N_("Reject"), "transfer_to_case": N_("Transfer to a case")}


@router.get("/inspections/tasks", response_class=HTMLResponse)
def tasks(request: Request, db: SessionDep, user: PageUser, done: Annotated[str, Query()] = "") -> HTMLResponse:
    open_states = [s for s in wf.VISIT_STATES if s not in (wf.DONE, wf.CANCELLED)]
    rows, total = visits.my_inspections(db, actor=user, states=[wf.DONE] if done else open_states, limit=200)
    names = {e.id: e for e in db.query(Entity).filter(Entity.id.in_([r.entity_id for r in rows]))} if rows else {}
    return render(request, "inspections/tasks.html", {"rows": rows, "total": total, "entities": names,
                                                      "states": STATES, "done": done})


def offered(record: Any, actions: list[str]) -> list[str]:
    """Buttons worth showing: after the visit, the letter when there are findings, the conclusion when
    there are none (the guards would refuse the other one anyway)."""
    hidden = {"conclude"} if record.findings else {"send_feedback"}
    return [a for a in actions if a not in hidden]


def _by_point(evidence: list[InspectionEvidence]) -> dict[str, list[InspectionEvidence]]:
    out: dict[str, list[InspectionEvidence]] = {}
    for item in evidence:
        if item.point_code:
            out.setdefault(item.point_code, []).append(item)
    return out


def _plan_methods(db: Any, record: Any) -> list[str]:
    from jianguan.inspections.models import InspectionPlan

    plan = db.get(InspectionPlan, record.plan_id) if record.plan_id else None
    return list(plan.methods) if plan is not None else [record.method]


def _frames(db: Any, shas: list[str]) -> dict[str, list[Any]]:
    """Each video's key frames, for its thumbnail timeline."""
    from jianguan.audit.models import EvidenceFrame

    out: dict[str, list[Any]] = {}
    if shas:
        for frame in db.scalars(select(EvidenceFrame).where(EvidenceFrame.video_sha256.in_(shas))
                                .order_by(EvidenceFrame.position)):
            out.setdefault(frame.video_sha256, []).append(frame)
    return out


def _context(db: Any, record: Any, user: Any) -> dict[str, Any]:
    entity = db.get(Entity, record.entity_id)
    officers = {o.id: o for o in db.query(Officer).filter(Officer.id.in_(
        [m.officer_id for m in record.officers if m.officer_id]))}
    mine = visits._officer_id(db, user)
    evidence = db.query(InspectionEvidence).filter(InspectionEvidence.inspection_id == record.id).order_by(
        InspectionEvidence.id).all()
    return {"record": record, "entity": entity, "officers": officers, "my_officer_id": mine,
            "actions": offered(record, workflow.allowed_actions(record, user)), "events": workflow.history(db, record),
            "states": STATES, "action_labels": ACTIONS, "finding_states": FINDING_STATES,
            "finding_actions": {f.id: workflow.allowed_actions(f, user) for f in record.findings},
            "finding_action_labels": FINDING_ACTIONS, "evidence": evidence,
            "photos": _by_point(evidence),
            "region": codes.region_name(db, entity.region_code) if entity else "",
            "on_team": visits.on_team(record, user),
            "documents": documents.for_subject(db, subject_type="inspection", subject_id=record.id, actor=user),
            "videos": [e for e in evidence if e.content_type.startswith("video/")],
            "methods": _plan_methods(db, record), "method_labels": codes.labels(db, "inspection_method"),
            "frames": _frames(db, [e.sha256 for e in evidence if e.content_type.startswith("video/")]),
            "points": {a.point_code: db.get(CheckPoint, a.check_point_id) for a in record.answers if a.check_point_id}}


@router.get("/inspections/visits/{inspection_id:int}", response_class=HTMLResponse)
def visit_page(request: Request, inspection_id: int, db: SessionDep, user: PageUser) -> Response:
    record = visits.get_inspection(db, inspection_id=inspection_id, actor=user)
    if visits.speaks_for(user, record.entity_id):
        return RedirectResponse("/inspections/rectification", status_code=303)
    return render(request, "inspections/visit.html", _context(db, record, user))


@router.get("/inspections/rectification", response_class=HTMLResponse)
def rectification(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    """企业端: the entity's findings, each with its plan and evidence forms."""
    findings = visits.entity_findings(db, actor=user)
    entity = db.get(Entity, user.entity_id) if user.entity_id else None
    evidence = {f.id: db.query(InspectionEvidence).filter(InspectionEvidence.finding_id == f.id).all()
                for f in findings}
    return render(request, "inspections/rectification.html", {
        "entity": entity, "findings": findings, "evidence": evidence, "finding_states": FINDING_STATES,
        "finding_action_labels": FINDING_ACTIONS, "documents": documents.list_documents(db, actor=user)[0],
        **_unit_tasks(db, user),
        "actions": {f.id: workflow.allowed_actions(f, user) for f in findings}})


@router.post("/inspections/rectification/{finding_id:int}/evidence", dependencies=[CsrfProtected])
def rectification_evidence(request: Request, finding_id: int, db: SessionDep, user: PageUser,
                           file: UploadFile, note: Annotated[str, Form()] = "") -> Response:
    finding = visits.get_finding(db, finding_id=finding_id, actor=user)
    kind = "photo" if (file.content_type or "").startswith("image/") else "document"
    with page_step(request, db, N_("Evidence kept; submit it when everything is attached.")):
        visits.attach(db, inspection_id=finding.inspection_id, stream=file.file, filename=file.filename or "",
                      content_type=file.content_type, kind=kind, finding_id=finding.id, note=note, actor=user)
    return _finding_back(user, finding)


def _unit_tasks(db: Any, user: Any) -> dict[str, Any]:
    """A government unit's account also sees its 督查 rectification tasks."""
    from jianguan.inspections import matter_pages, matters

    tasks = matters.unit_tasks(db, actor=user)
    return {"matter_tasks": tasks, "matter_evidence": matters.evidence_of(db, [t.id for t in tasks]),
            "matter_task_actions": {t.id: workflow.allowed_actions(t, user) for t in tasks},
            "matter_task_states": matter_pages.TASK_STATES, "matter_task_labels": matter_pages.TASK_ACTIONS}


def _finding_back(user: Any, finding: Any) -> RedirectResponse:
    if visits.speaks_for(user, finding.entity_id):
        return RedirectResponse(f"/inspections/rectification#finding-{finding.id}", status_code=303)
    return _back(finding.inspection_id, f"#finding-{finding.id}")


def _back(inspection_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/inspections/visits/{inspection_id}{anchor}", status_code=303)


@router.post("/inspections/visits/{inspection_id:int}/decide", dependencies=[CsrfProtected])
def decide(request: Request, inspection_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
           version: Annotated[int, Form()], comment: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        visits.decide(db, inspection_id=inspection_id, action=action, comment=comment, expected_version=version,
                      actor=user)
    return _back(inspection_id)


@router.post("/inspections/visits/{inspection_id:int}/schedule", dependencies=[CsrfProtected])
def schedule(request: Request, inspection_id: int, db: SessionDep, user: PageUser, on: Annotated[str, Form()] = "",
             method: Annotated[str, Form()] = "", version: Annotated[int | None, Form()] = None) -> Response:
    with page_step(request, db, N_("Visit scheduled for {date}."), date=on):
        day = form_date("scheduled_on", on)
        if day is None:
            raise Invalid("scheduled_on", N_("Dates are written YYYY-MM-DD."))
        visits.schedule(db, inspection_id=inspection_id, on=day, method=method, expected_version=version, actor=user)
    return _back(inspection_id)


@router.post("/inspections/visits/{inspection_id:int}/prepare", dependencies=[CsrfProtected])
def prepare(request: Request, inspection_id: int, db: SessionDep, user: PageUser) -> Response:
    with page_step(request, db, N_("Checklist prepared; a leader approves the preparation.")):
        visits.prepare(db, inspection_id=inspection_id, actor=user)
    return _back(inspection_id)


@router.post("/inspections/visits/{inspection_id:int}/credential", dependencies=[CsrfProtected])
def credential(request: Request, inspection_id: int, db: SessionDep, user: PageUser,
               officer_id: Annotated[int | None, Form()] = None) -> Response:
    with page_step(request, db) as step:
        shown = visits.show_credential(db, inspection_id=inspection_id, actor=user, officer_id=officer_id)
        step.done(N_("Credential {number} shown (亮证)."), number=shown.credential_number)
    return _back(inspection_id)


@router.post("/inspections/visits/{inspection_id:int}/refusal", dependencies=[CsrfProtected])
def refusal(request: Request, inspection_id: int, db: SessionDep, user: PageUser,
            reason: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("The refusal to sign is recorded.")):
        visits.refuse_signature(db, inspection_id=inspection_id, reason=reason, actor=user)
    return _back(inspection_id, "#sign")


@router.post("/inspections/findings/{finding_id:int}/deadline", dependencies=[CsrfProtected])
def finding_deadline(request: Request, finding_id: int, db: SessionDep, user: PageUser,
                     on: Annotated[str, Form()] = "") -> Response:
    finding = visits.get_finding(db, finding_id=finding_id, actor=user)
    with page_step(request, db, N_("Rectification deadline set to {date}."), date=on):
        day = form_date("rectify_by", on)
        if day is None:
            raise Invalid("rectify_by", N_("Dates are written YYYY-MM-DD."))
        visits.set_rectify_by(db, finding_id=finding_id, on=day, actor=user)
    return _finding_back(user, finding)


@router.post("/inspections/findings/{finding_id:int}/decide", dependencies=[CsrfProtected])
def decide_finding(request: Request, finding_id: int, db: SessionDep, user: PageUser,
                   action: Annotated[str, Form()], version: Annotated[int, Form()],
                   comment: Annotated[str, Form()] = "", responsible: Annotated[str, Form()] = "",
                   measures: Annotated[str, Form()] = "", timetable: Annotated[str, Form()] = "") -> Response:
    finding = visits.get_finding(db, finding_id=finding_id, actor=user)
    with page_step(request, db, N_("Done: {action}."), action=FINDING_ACTIONS.get(action, action)):
        visits.decide_finding(db, finding_id=finding_id, action=action, comment=comment, expected_version=version,
                              payload={"responsible": responsible, "measures": measures, "timetable": timetable},
                              actor=user)
    return _finding_back(user, finding)


@router.get("/inspections/board", response_class=HTMLResponse)
def board(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    """督办 board: what is escalated, and the rectification queue (plans and evidence to check)."""
    found = visits.board(db, actor=user)
    ids = {f.entity_id for f in (*found["findings"], *found["waiting"])} | {i.entity_id for i in found["inspections"]}
    names = dict(db.execute(select(Entity.id, Entity.name).where(Entity.id.in_(ids))).all()) if ids else {}
    return render(request, "inspections/board.html", {**found, "names": names, "finding_states": FINDING_STATES,
                                                       "states": STATES})


# --------------------------------------------------------------------------- coverage (差异化频次)


@router.get("/inspections/coverage", response_class=HTMLResponse)
def coverage(request: Request, db: SessionDep, user: PageUser, region: Annotated[str, Query()] = "",
             domain: Annotated[str, Query()] = "", mine: Annotated[str, Query()] = "") -> HTMLResponse:
    """``mine``: count the user's own agency's visits and the results it recognises (结果互认)."""
    from jianguan.catalog import service as catalog
    from jianguan.inspections import frequency

    region = frequency.check_region(user, region or frequency.region_of(user))
    domain = domain or (user.agency.domains[0] if user.agency is not None and user.agency.domains else "market")
    agency_id = user.agency_id if mine and user.agency_id is not None else None
    rows = frequency.coverage(db, region_code=region, domain=domain, agency_id=agency_id) if region else []
    frame = frequency.schedule(db, region_code=region, domain=domain, agency_id=agency_id) if region else None
    late = frame.filter(frame["status"].is_in(["overdue", "due"])).head(50).to_dicts() if frame is not None else []
    items = [r for r in catalog.list_items(db, status="in_force", limit=10_000)[0] if r.item.domain == domain]
    recognised = frame.filter(frame["recognised"] != "").height if frame is not None else 0
    return render(request, "inspections/coverage.html", {
        "rows": rows, "late": late, "region": region, "domain": domain, "items": items, "mine": bool(agency_id),
        "recognised": recognised,
        "domains": codes.labels(db, "enforcement_domain"), "risk_labels": codes.labels(db, "risk_level"),
        "names": {r.region_code: codes.region_name(db, r.region_code) for r in rows},
        "totals": {k: sum(getattr(r, k) for r in rows) for k in ("entities", "exempt", "done", "due", "overdue")}})


@router.post("/inspections/coverage/propose", dependencies=[CsrfProtected])
def propose(request: Request, db: SessionDep, user: PageUser, region: Annotated[str, Form()] = "",
            domain: Annotated[str, Form()] = "", item_code: Annotated[str, Form()] = "") -> Response:
    """The overdue entities of the region into a draft targeted plan (定向), to complete and submit."""
    from jianguan.inspections import frequency, service
    from jianguan.inspections.schemas import PlanIn

    frame = frequency.schedule(db, region_code=frequency.check_region(user, region), domain=domain)
    usccs = [u for u in frame.filter(frame["status"] == "overdue")["uscc"].to_list() if u][:500]
    today = today_shanghai()
    with page_step(request, db) as step:
        if not usccs:
            raise Invalid("entities", N_("No entity of this region is overdue."))
        if not item_code:
            raise Invalid("item_code", N_("Choose the catalog item to inspect."))
        plan = service.create_plan(db, actor=user, data=PlanIn.model_validate({
            "title": f"{codes.region_name(db, region)}逾期未检对象定向检查", "kind": "targeted", "methods": ["on_site"],
            "item_codes": [item_code], "target_usccs": usccs, "starts_on": today,
            "ends_on": today + dt.timedelta(days=60), "scope": {"region_code": region}}))
        step.done(N_("Plan {code} drawn up with {n} overdue entities; complete and submit it."), code=plan.code,
                  n=len(usccs))
        return RedirectResponse(f"/inspections/plans/{plan.id}", status_code=303)
    return RedirectResponse(f"/inspections/coverage?region={region}&domain={domain}", status_code=303)
