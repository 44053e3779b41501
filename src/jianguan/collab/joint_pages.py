"""The joint task board (联合检查 and 跨区域协查): overlapping visits to merge, the joint tasks, the
assistance requests to and from the agency; a page for each task and request. Thin: the services decide."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from jianguan.collab import assist, joint
from jianguan.core import workflow
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.deps import SessionDep
from jianguan.entities.models import Entity
from jianguan.inspections import burden
from jianguan.inspections.models import Inspection
from jianguan.inspections.visit_pages import STATES as INSPECTION_STATES  # the labels, shared
from jianguan.officers.models import Agency
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, form_date, locale_of, page_step, render

router = APIRouter(include_in_schema=False)
JOINT_STATES = {"proposed": N_("Proposed"), "scheduled": N_("Scheduled"), "closed": N_("Closed"),
                "cancelled": N_("Cancelled")}
ASSIST_STATES = {"requested": N_("Requested"), "accepted": N_("Accepted for handling"), "answered": N_("Answered"),
                 "closed": N_("Closed"), "declined": N_("Declined"), "withdrawn": N_("Withdrawn")}
ACTIONS = {"start": N_("Proposed"), "agree": N_("Agree to join"), "schedule": N_("Fix the date"),
           "close": N_("Close"), "cancel": N_("Cancel the joint task"), "accept": N_("Accept for handling"),
           "decline": N_("Decline"), "answer": N_("Send the result"), "send_back": N_("Send back"),
           "withdraw": N_("Withdraw the request")}
SECONDARY = {"cancel", "decline", "send_back", "withdraw"}


def _agencies(db: SessionDep) -> dict[int, str]:
    return {a.id: a.name for a in db.scalars(select(Agency))}


def _names(db: SessionDep, ids: set[int]) -> dict[int, str]:
    return {i: name for i, name in db.execute(select(Entity.id, Entity.name).where(Entity.id.in_(ids or {-1})))}


@router.get("/collab/joint", response_class=HTMLResponse)
def board(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    tasks = joint.board(db, actor=user)
    requests = assist.listing(db, actor=user)
    overlaps = [o for o in burden.overlaps(db, actor=user, on=today_shanghai()) if o.proposal["possible"]]
    return render(request, "collab/joint_board.html", {
        "tasks": tasks, "requests": requests, "overlaps": overlaps, "agencies": _agencies(db),
        "names": _names(db, {t.entity_id for t in tasks} | {r.entity_id for r in requests if r.entity_id}),
        "joint_states": JOINT_STATES, "assist_states": ASSIST_STATES, "kinds": assist.KINDS,
        "figures": assist.figures(db, actor=user), "today": today_shanghai()})


@router.post("/collab/joint", dependencies=[CsrfProtected])
async def propose(request: Request, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    codes = [str(c) for c in form.getlist("inspection_codes") if str(c).strip()]
    with page_step(request, db, N_("Joint task proposed; the other departments are asked to agree.")) as step:
        on = form_date("scheduled_on", str(form.get("scheduled_on") or ""))
        if on is None:
            raise Invalid("scheduled_on", N_("Give the date of the joint visit."))
        ids = list(db.scalars(select(Inspection.id).where(Inspection.code.in_(codes or ["-"]))))
        task = joint.propose(db, inspection_ids=ids, scheduled_on=on, note=str(form.get("note") or ""),
                             source="overlap", actor=user)
        step.done(N_("Joint task {code} proposed; the other departments are asked to agree."), code=task.code)
        return RedirectResponse(f"/collab/joint/{task.id}", status_code=303)
    return RedirectResponse("/collab/joint", status_code=303)


@router.get("/collab/joint/{task_id:int}", response_class=HTMLResponse)
def task_page(request: Request, task_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    task = joint.get(db, task_id=task_id, actor=user)
    return render(request, "collab/joint_task.html", {
        "t": task, "members": joint.members(db, task), "agencies": _agencies(db),
        "entity": db.get(Entity, task.entity_id), "states": JOINT_STATES, "action_labels": ACTIONS,
        "inspection_states": INSPECTION_STATES,
        "secondary": SECONDARY, "actions": workflow.allowed_actions(task, user), "events": workflow.history(db, task)})


@router.post("/collab/joint/{task_id:int}/decide", dependencies=[CsrfProtected])
def task_step(request: Request, task_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
              version: Annotated[int, Form()], comment: Annotated[str, Form()] = "",
              scheduled_on: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        joint.act(db, task_id=task_id, action=action, comment=comment, expected_version=version,
                  payload={"scheduled_on": scheduled_on.strip()}, actor=user)
    return RedirectResponse(f"/collab/joint/{task_id}", status_code=303)


# --------------------------------------------------------------------------- assistance requests


def _request_form(request: Request, db: SessionDep, entered: dict[str, Any], errors: dict[str, str],
                  status_code: int = 200) -> HTMLResponse:
    user = request.state.user
    agencies = [a for a in db.scalars(select(Agency).order_by(Agency.region_code, Agency.code))
                if a.id != user.agency_id]
    return render(request, "collab/assist_new.html", {"f": entered, "errors": errors, "agencies": agencies,
                                                      "kinds": assist.KINDS, "rules": assist.rules()},
                  status_code=status_code)


@router.get("/collab/assist/new", response_class=HTMLResponse)
def new_request(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return _request_form(request, db, {"kind": "inspect"}, {})


@router.post("/collab/assist/new", dependencies=[CsrfProtected], response_class=HTMLResponse)
def create_request(request: Request, db: SessionDep, user: PageUser, agency_id: Annotated[str, Form()] = "",
                   kind: Annotated[str, Form()] = "", subject: Annotated[str, Form()] = "",
                   reason: Annotated[str, Form()] = "", uscc: Annotated[str, Form()] = "",
                   party_name: Annotated[str, Form()] = "", wanted_by: Annotated[str, Form()] = "") -> Response:
    """A refusal shows the form again with everything typed and each problem at its field."""
    entered = {"agency_id": agency_id, "kind": kind, "subject": subject, "reason": reason, "uscc": uscc,
               "party_name": party_name, "wanted_by": wanted_by}
    try:
        record = assist.request(db, agency_id=int(agency_id) if agency_id.isdigit() else 0, kind=kind,
                                subject=subject, reason=reason, uscc=uscc, party_name=party_name,
                                wanted_by=form_date("wanted_by", wanted_by), actor=user)
    except Invalid as error:
        db.rollback()
        return _request_form(request, db, entered, field_errors(error, locale_of(request)), status_code=422)
    return RedirectResponse(f"/collab/assist/{record.id}", status_code=303)


@router.get("/collab/assist/{request_id:int}", response_class=HTMLResponse)
def request_page(request: Request, request_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    record = assist.get(db, request_id=request_id, actor=user)
    return render(request, "collab/assist_request.html", {
        "r": record, "agencies": _agencies(db), "states": ASSIST_STATES, "kinds": assist.KINDS,
        "entity": db.get(Entity, record.entity_id) if record.entity_id else None, "action_labels": ACTIONS,
        "secondary": SECONDARY, "actions": workflow.allowed_actions(record, user),
        "events": workflow.history(db, record)})


@router.post("/collab/assist/{request_id:int}/decide", dependencies=[CsrfProtected])
def request_step(request: Request, request_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
                 version: Annotated[int, Form()], comment: Annotated[str, Form()] = "",
                 inspection_code: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        assist.act(db, request_id=request_id, action=action, comment=comment, expected_version=version,
                   payload={"inspection_code": inspection_code}, actor=user)
    return RedirectResponse(f"/collab/assist/{request_id}", status_code=303)
