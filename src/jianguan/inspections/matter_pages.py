"""督查 pages: the list of matters as a decision tree with the two rates, one matter with its three
linked lists, accountability and visits, and the burden index. Thin: the service decides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from jianguan.core import workflow
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.entities import codes
from jianguan.entities.models import Entity
from jianguan.inspections import burden, matters, visits
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import MatterVisit, SupervisionMatter
from jianguan.inspections.schemas import (
    AccountabilityIn,
    HandDownIn,
    MatterChanges,
    MatterIn,
    ProblemIn,
    ResponsibilityIn,
    TaskIn,
    VisitIn,
)
from jianguan.officers.models import Agency
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import form_date, page_step, render

router = APIRouter(include_in_schema=False)
STATES = {wf.MATTER_DRAFT: N_("Put forward"), wf.ADMITTED: N_("On the list"), wf.SUPERVISING: N_("Being supervised"),
          wf.COMPLETED: N_("Implemented"), wf.FOLLOWED_UP: N_("Passed to a second 督查"), wf.EXITED: N_("Off the list")}
ACTIONS = {"start": N_("Created"), "begin": N_("Start the 督查"), "admit": N_("Admit to the list"),
           "adjust": N_("Adjust"), "complete": N_("Implemented: close (销号)"),
           "follow_up": N_("Second 督查 for what is not done"), "exit": N_("Take off the list")}
TASK_STATES = {wf.TASK_OPEN: N_("To rectify"), wf.TASK_SUBMITTED: N_("Evidence submitted"),
               wf.TASK_ACCEPTED: N_("Accepted (销号)")}
TASK_ACTIONS = {"submit": N_("Submit for acceptance"), "accept": N_("Accept (销号)"), "reject": N_("Reject")}
ROLES = {"lead": N_("Lead (牵头)"), "support": N_("Support (配合)")}


def _pydantic(error: ValidationError) -> Invalid:
    return Invalid.from_validation(error.errors())


def _back(matter_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/inspections/matters/{matter_id}{anchor}", status_code=303)


@router.get("/inspections/matters", response_class=HTMLResponse)
def matter_list(request: Request, db: SessionDep, user: PageUser, year: Annotated[int | None, Query()] = None,
                state: Annotated[str, Query()] = "", q: Annotated[str, Query()] = "") -> HTMLResponse:
    rows, total = matters.list_matters(db, actor=user, state=state, year=year, q=q, limit=500)
    figures_year = year or visits.today().year
    return render(request, "inspections/matters.html", {
        "tree": matters.tree(rows), "total": total, "year": year, "state": state, "q": q, "states": STATES,
        "figures": matters.figures(db, actor=user, year=figures_year), "figures_year": figures_year,
        "titles": {m.id: matters.title_of(m) for m in rows},
        "levels": codes.labels(db, "matter_level"), "may_create": user.agency_id is not None and user.has_role(
            *wf.MATTER_OFFICE)})


@router.post("/inspections/matters", dependencies=[CsrfProtected])
def create(request: Request, db: SessionDep, user: PageUser, title: Annotated[str, Form()] = "",
           level: Annotated[str, Form()] = "county", source_ref: Annotated[str, Form()] = "",
           due_on: Annotated[str, Form()] = "", units: Annotated[str, Form()] = "",
           description: Annotated[str, Form()] = "") -> Response:
    target = "/inspections/matters"
    with page_step(request, db, N_("Matter {code} put forward; a leader admits it to the list."), code="") as step:
        try:
            data = MatterIn(title=title, level=level, source_ref=source_ref, description=description,
                            due_on=form_date("due_on", due_on) or dt.date.min, unit_usccs=units.split())
        except ValidationError as error:
            raise _pydantic(error) from None
        if data.due_on == dt.date.min:
            raise Invalid("due_on", N_("Required: {name}."), name="due_on")
        matter = matters.create_matter(db, data=data, actor=user)
        step.done(N_("Matter {code} put forward; a leader admits it to the list."), code=matter.code)
        target = f"/inspections/matters/{matter.id}"
    return RedirectResponse(target, status_code=303)


def _matter_context(db: Any, matter: Any, user: Any) -> dict[str, Any]:
    unit_ids = {p.unit_id for p in matter.problems} | set(matter.unit_ids)
    unit_ids |= {r.unit_id for p in matter.problems for r in p.responsibilities}
    unit_ids |= {t.unit_id for p in matter.problems for t in p.tasks}
    accountable = matters.accountabilities(db, matter_id=matter.id)
    unit_ids |= {a.unit_id for a in accountable}
    visits_ = list(db.scalars(select(MatterVisit).where(MatterVisit.matter_id == matter.id)
                              .order_by(MatterVisit.visited_on)))
    unit_ids |= {v.unit_id for v in visits_}
    units = {e.id: e for e in db.scalars(select(Entity).where(Entity.id.in_(unit_ids)))} if unit_ids else {}
    tasks = [t for p in matter.problems for t in p.tasks]
    children = list(db.scalars(select(SupervisionMatter).where(
        (SupervisionMatter.parent_id == matter.id) | (SupervisionMatter.previous_id == matter.id))))
    below = list(db.scalars(select(Agency).where(Agency.parent_id == matter.agency_id).order_by(Agency.code)))
    return {"matter": matter, "title": matters.title_of(matter), "units": units, "states": STATES,
            "actions": workflow.allowed_actions(matter, user), "action_labels": ACTIONS, "task_states": TASK_STATES,
            "task_actions": {t.id: workflow.allowed_actions(t, user) for t in tasks},
            "task_action_labels": TASK_ACTIONS,
            "evidence": matters.evidence_of(db, [t.id for t in tasks]), "roles": ROLES,
            "accountabilities": accountable, "measures": codes.labels(db, "accountability_measure"),
            "levels": codes.labels(db, "matter_level"), "children": children, "visits": visits_, "below": below,
            "events": workflow.history(db, matter), "parent": matter.parent,
            "office": user.is_system_admin or user.agency_id == matter.agency_id}


@router.get("/inspections/matters/{matter_id:int}", response_class=HTMLResponse)
def matter_page(request: Request, matter_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    matter = matters.get_matter(db, matter_id=matter_id, actor=user)
    return render(request, "inspections/matter.html", _matter_context(db, matter, user))


@router.post("/inspections/matters/{matter_id:int}/decide", dependencies=[CsrfProtected])
def decide(request: Request, matter_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
           version: Annotated[int, Form()], comment: Annotated[str, Form()] = "",
           due_on: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        matters.decide(db, matter_id=matter_id, action=action, comment=comment, expected_version=version,
                       due_on=form_date("due_on", due_on) if action == "follow_up" else None, actor=user)
    return _back(matter_id)


@router.post("/inspections/matters/{matter_id:int}/adjust", dependencies=[CsrfProtected])
def adjust(request: Request, matter_id: int, db: SessionDep, user: PageUser, version: Annotated[int, Form()],
           comment: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
           due_on: Annotated[str, Form()] = "", units: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Adjusted; the change and its reason are recorded.")):
        changes = MatterChanges(title=title or None, due_on=form_date("due_on", due_on),
                                unit_usccs=units.split() if units.strip() else None, comment=comment)
        matters.decide(db, matter_id=matter_id, action="adjust", comment=comment, changes=changes,
                       expected_version=version, actor=user)
    return _back(matter_id)


@router.post("/inspections/matters/{matter_id:int}/hand-down", dependencies=[CsrfProtected])
def hand_down(request: Request, matter_id: int, db: SessionDep, user: PageUser, agency_id: Annotated[int, Form()],
              due_on: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
              units: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Handed down; the office below admits it to its list.")):
        matters.hand_down(db, matter_id=matter_id, data=HandDownIn(
            agency_id=agency_id, due_on=form_date("due_on", due_on), title=title, unit_usccs=units.split()),
            actor=user)
    return _back(matter_id, "#children")


def _form(model: Any, **values: Any) -> Any:
    try:
        return model(**values)
    except ValidationError as error:
        raise _pydantic(error) from None


@router.post("/inspections/matters/{matter_id:int}/problems", dependencies=[CsrfProtected])
def add_problem(request: Request, matter_id: int, db: SessionDep, user: PageUser, unit: Annotated[str, Form()] = "",
                text: Annotated[str, Form()] = "", found_on: Annotated[str, Form()] = "",
                source: Annotated[str, Form()] = "实地督查") -> Response:
    with page_step(request, db, N_("Problem recorded: name who answers for it and the rectification task.")):
        matters.add_problem(db, matter_id=matter_id, data=_form(
            ProblemIn, unit_uscc=unit, text=text, found_on=form_date("found_on", found_on) or visits.today(),
            source=source), actor=user)
    return _back(matter_id, "#problems")


@router.post("/inspections/matters/problems/{problem_id:int}/responsibilities", dependencies=[CsrfProtected])
def add_responsibility(request: Request, problem_id: int, db: SessionDep, user: PageUser,
                       matter_id: Annotated[int, Form()], unit: Annotated[str, Form()] = "",
                       role: Annotated[str, Form()] = "lead", person: Annotated[str, Form()] = "",
                       position: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Responsibility recorded.")):
        matters.add_responsibility(db, problem_id=problem_id, data=_form(
            ResponsibilityIn, unit_uscc=unit, role=role, person=person, position=position), actor=user)
    return _back(matter_id, f"#problem-{problem_id}")


@router.post("/inspections/matters/problems/{problem_id:int}/tasks", dependencies=[CsrfProtected])
def add_task(request: Request, problem_id: int, db: SessionDep, user: PageUser, matter_id: Annotated[int, Form()],
             unit: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = "",
             measures: Annotated[str, Form()] = "", due_on: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Rectification task recorded.")):
        due = form_date("due_on", due_on)
        if due is None:
            raise Invalid("due_on", N_("Required: {name}."), name="due_on")
        matters.add_task(db, problem_id=problem_id, data=_form(
            TaskIn, unit_uscc=unit, owner=owner, measures=measures, due_on=due), actor=user)
    return _back(matter_id, f"#problem-{problem_id}")


def _task_back(user: Any, task: Any) -> RedirectResponse:
    if matters._speaks_for(user, task.unit_id):
        return RedirectResponse(f"/inspections/rectification#task-{task.id}", status_code=303)
    return _back(task.matter_id, f"#task-{task.id}")


@router.post("/inspections/matters/tasks/{task_id:int}/evidence", dependencies=[CsrfProtected])
def task_evidence(request: Request, task_id: int, db: SessionDep, user: PageUser, file: UploadFile,
                  note: Annotated[str, Form()] = "") -> Response:
    task = matters.get_task(db, task_id=task_id, actor=user)
    with page_step(request, db, N_("Evidence kept; submit it when everything is attached.")):
        matters.attach(db, task_id=task_id, stream=file.file, filename=file.filename or "",
                       content_type=file.content_type, note=note, actor=user)
    return _task_back(user, task)


@router.post("/inspections/matters/tasks/{task_id:int}/decide", dependencies=[CsrfProtected])
def decide_task(request: Request, task_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
                version: Annotated[int, Form()], comment: Annotated[str, Form()] = "") -> Response:
    task = matters.get_task(db, task_id=task_id, actor=user)
    with page_step(request, db, N_("Done: {action}."), action=TASK_ACTIONS.get(action, action)):
        matters.decide_task(db, task_id=task_id, action=action, comment=comment, expected_version=version, actor=user)
    return _task_back(user, task)


@router.post("/inspections/matters/{matter_id:int}/accountabilities", dependencies=[CsrfProtected])
def add_accountability(request: Request, matter_id: int, db: SessionDep, user: PageUser,
                       unit: Annotated[str, Form()] = "", measure: Annotated[str, Form()] = "",
                       reason: Annotated[str, Form()] = "", person: Annotated[str, Form()] = "",
                       position: Annotated[str, Form()] = "", decided_on: Annotated[str, Form()] = "",
                       decided_by: Annotated[str, Form()] = "", problem_id: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Accountability recorded.")):
        matters.add_accountability(db, matter_id=matter_id, data=_form(
            AccountabilityIn, unit_uscc=unit, measure=measure, reason=reason, person=person, position=position,
            decided_on=form_date("decided_on", decided_on) or visits.today(), decided_by=decided_by,
            problem_id=int(problem_id) if problem_id.isdigit() else None), actor=user)
    return _back(matter_id, "#accountability")


@router.post("/inspections/matters/{matter_id:int}/visits", dependencies=[CsrfProtected])
def add_visit(request: Request, matter_id: int, db: SessionDep, user: PageUser, unit: Annotated[str, Form()] = "",
              visited_on: Annotated[str, Form()] = "", on_site: Annotated[str, Form()] = "",
              hours: Annotated[str, Form()] = "0", documents_demanded: Annotated[str, Form()] = "0",
              note: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Visit recorded; it counts in the unit's burden index.")):
        try:
            spent = Decimal(hours or "0")
        except InvalidOperation:
            raise Invalid("hours", N_("Enter a number.")) from None
        matters.record_visit(db, matter_id=matter_id, data=_form(
            VisitIn, unit_uscc=unit, visited_on=form_date("visited_on", visited_on) or visits.today(),
            on_site=bool(on_site), hours=spent, documents_demanded=documents_demanded or 0, note=note), actor=user)
    return _back(matter_id, "#visits")


@router.get("/inspections/burden", response_class=HTMLResponse)
def burden_page(request: Request, db: SessionDep, user: PageUser, year: Annotated[int | None, Query()] = None,
                region: Annotated[str, Query()] = "") -> HTMLResponse:
    year = year or visits.today().year
    found = burden.burden(db, actor=user, year=year, region=region)
    rows = found.per_object.head(100).to_dicts()
    return render(request, "inspections/burden.html", {
        "year": year, "region": region, "f": found.figures, "rows": rows, "working_hours": found.working_hours,
        "overlaps": burden.overlaps(db, actor=user, on=visits.today(), region=region),
        "kinds": codes.labels(db, "entity_kind")})
