"""JSON routes of plans, draws and experts under /api/v1/inspections. Thin: parse, call, shape."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, UploadFile
from fastapi.responses import Response

from jianguan.core import workflow
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, SessionDep
from jianguan.inspections import burden, draws, experts, matters, reporting, rules, service, visits
from jianguan.inspections.schemas import (
    AccountabilityIn,
    AnswerIn,
    Decision,
    DrawIn,
    ExpertIn,
    FindingDecision,
    HandDownIn,
    MatterChanges,
    MatterDecision,
    MatterIn,
    PlanChanges,
    PlanIn,
    ProblemIn,
    RefusalIn,
    ResponsibilityIn,
    ScheduleIn,
    TaskIn,
    VisitIn,
    VoidIn,
    draw_dict,
    finding_dict,
    inspection_dict,
    matter_dict,
    plan_dict,
    task_dict,
)

router = APIRouter(prefix="/inspections", tags=["inspections"])


@router.get("/plans", response_model=Page[dict[str, Any]])
def list_plans(db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
               state: str = "", year: int | None = None, kind: str = "", q: str = "") -> Page[Any]:
    rows, total = service.list_plans(db, actor=user, state=state, year=year, kind=kind, q=q, offset=page.offset,
                                     limit=page.limit)
    return Page(items=[plan_dict(p) for p in rows], total=total, offset=page.offset, limit=page.limit)


@router.post("/plans", status_code=201)
def create_plan(body: PlanIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return plan_dict(service.create_plan(db, data=body, actor=user))


@router.get("/plans/{plan_id}")
def get_plan(plan_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    plan = service.get_plan(db, plan_id=plan_id, actor=user)
    return {**plan_dict(plan), "actions": workflow.allowed_actions(plan, user),
            "draws": [draw_dict(d) for d in draws.draws_of(db, plan)],
            "history": [{"action": e.action, "from": e.from_state, "to": e.to_state, "by": e.actor_name, "at": e.at,
                         "comment": e.comment} for e in workflow.history(db, plan)]}


@router.put("/plans/{plan_id}")
def update_plan(plan_id: int, body: PlanChanges, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    data = PlanIn.model_validate(body.model_dump(exclude={"expected_version"}))
    return plan_dict(service.update_plan(db, plan_id=plan_id, data=data, expected_version=body.expected_version,
                                         actor=user))


@router.post("/plans/{plan_id}/actions/{action}")
def act(plan_id: int, action: str, body: Decision, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    plan = service.decide(db, plan_id=plan_id, action=action, comment=body.comment,
                          expected_version=body.expected_version, actor=user)
    return {**plan_dict(plan), "actions": workflow.allowed_actions(plan, user)}


@router.post("/plans/{plan_id}/draws", status_code=201)
def run_draw(plan_id: int, body: DrawIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return draw_dict(draws.run_draw(db, plan_id=plan_id, seed=body.seed, on=body.inspection_date, actor=user))


@router.get("/draws/{draw_id}")
def get_draw(draw_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return draw_dict(draws.get_draw(db, draw_id=draw_id, actor=user))


@router.get("/draws/{draw_id}/entities", response_model=Page[dict[str, Any]])
def drawn_entities(draw_id: int, db: SessionDep, user: CurrentUser,
                   page: Annotated[PageParams, Depends(page_params)], officer_id: int | None = None) -> Page[Any]:
    draw = draws.get_draw(db, draw_id=draw_id, actor=user)
    rows, total = draws.results(db, draw, offset=page.offset, limit=page.limit, officer_id=officer_id)
    items = [{"position": r.position, "entity_id": r.entity_id, "uscc": r.uscc, "name": r.name,
              "region_code": r.region_code, "stratum": r.stratum, "reason": r.reason,
              "officers": [{"id": i, "name": n, "domain": d} for i, n, d in r.officers],
              "experts": [{"id": i, "name": n, "domain": d} for i, n, d in r.experts]} for r in rows]
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)


@router.post("/draws/{draw_id}/verify")
def verify(draw_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return asdict(draws.verify(db, draw_id=draw_id, actor=user))


@router.post("/draws/{draw_id}/void")
def void(draw_id: int, body: VoidIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return draw_dict(draws.void_draw(db, draw_id=draw_id, reason=body.reason, actor=user))


@router.get("/draws/{draw_id}/snapshot")
def snapshot(draw_id: int, db: SessionDep, user: CurrentUser) -> Response:
    """The pool snapshot text whose SHA-256 the draw records — so anyone can check the draw independently."""
    draw = draws.get_draw(db, draw_id=draw_id, actor=user)
    data = draws.snapshot_text(draw).encode()
    return Response(data, media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="draw-{draw.id}-pool.txt"'})


@router.get("/rule-sets")
def rule_sets(db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [{"id": r.id, "code": r.code, "number": r.number, "name": r.name, "basis": r.basis,
             "effective_from": r.effective_from, "effective_to": r.effective_to, "rules": r.rules}
            for r in rules.list_rule_sets(db)]


@router.get("/experts")
def list_experts(db: SessionDep, user: CurrentUser, domain: str = "") -> list[dict[str, Any]]:
    return [experts.expert_dict(e) for e in experts.list_experts(db, domain=domain)]


@router.post("/experts", status_code=201)
def add_expert(body: ExpertIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return experts.expert_dict(experts.add_expert(db, actor=user, **body.model_dump()))


# --------------------------------------------------------------------------- the inspection loop


@router.get("/visits", response_model=Page[dict[str, Any]])
def list_visits(db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
                mine: bool = False, plan_id: int | None = None, state: str = "") -> Page[Any]:
    if mine:
        rows, total = visits.my_inspections(db, actor=user, states=[state] if state else (), offset=page.offset,
                                            limit=page.limit)
    else:
        rows, total = visits.list_inspections(db, actor=user, plan_id=plan_id, state=state, offset=page.offset,
                                              limit=page.limit)
    return Page(items=[inspection_dict(r) for r in rows], total=total, offset=page.offset, limit=page.limit)


@router.get("/visits/{inspection_id}")
def get_visit(inspection_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    record = visits.get_inspection(db, inspection_id=inspection_id, actor=user)
    return {**inspection_dict(record, full=True), "actions": workflow.allowed_actions(record, user),
            "history": [{"action": e.action, "to": e.to_state, "by": e.actor_name, "at": e.at, "comment": e.comment}
                        for e in workflow.history(db, record)]}


@router.post("/visits/{inspection_id}/schedule")
def schedule(inspection_id: int, body: ScheduleIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return inspection_dict(visits.schedule(db, inspection_id=inspection_id, on=body.on, method=body.method,
                                           expected_version=body.expected_version, actor=user))


@router.post("/visits/{inspection_id}/actions/{action}")
def act_on_visit(inspection_id: int, action: str, body: Decision, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    record = visits.decide(db, inspection_id=inspection_id, action=action, comment=body.comment,
                           expected_version=body.expected_version, actor=user)
    return {**inspection_dict(record), "actions": workflow.allowed_actions(record, user)}


@router.post("/visits/{inspection_id}/prepare")
def prepare(inspection_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return inspection_dict(visits.prepare(db, inspection_id=inspection_id, actor=user), full=True)


@router.post("/visits/{inspection_id}/credential")
def show_credential(inspection_id: int, db: SessionDep, user: CurrentUser,
                    officer_id: int | None = None) -> dict[str, Any]:
    shown = visits.show_credential(db, inspection_id=inspection_id, actor=user, officer_id=officer_id)
    return {"officer_id": shown.officer_id, "credential_number": shown.credential_number, "shown_at": shown.shown_at}


@router.put("/visits/{inspection_id}/answers/{point_code}")
def save_answer(inspection_id: int, point_code: str, body: AnswerIn, db: SessionDep,
                user: CurrentUser) -> dict[str, Any]:
    """Idempotent: the phone form sends it again after a lost connection, with the same result."""
    row = visits.save_answer(db, inspection_id=inspection_id, point_code=point_code, answer=body.answer,
                             value=body.value, note=body.note, actor=user)
    return {"point_code": row.point_code, "answer": row.answer, "value": row.value, "note": row.note,
            "answered_at": row.answered_at}


@router.post("/visits/{inspection_id}/evidence", status_code=201)
def add_evidence(inspection_id: int, db: SessionDep, user: CurrentUser, file: UploadFile,
                 kind: Annotated[str, Form()] = "photo", point_code: Annotated[str, Form()] = "",
                 finding_id: Annotated[int | None, Form()] = None,
                 taken_at: Annotated[dt.datetime | None, Form()] = None,
                 latitude: Annotated[str, Form()] = "", longitude: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "") -> dict[str, Any]:
    row = visits.attach(db, inspection_id=inspection_id, stream=file.file, filename=file.filename or "",
                        content_type=file.content_type, kind=kind, point_code=point_code, finding_id=finding_id,
                        taken_at=taken_at, latitude=latitude or None, longitude=longitude or None, note=note,
                        actor=user)
    return {"id": row.id, "sha256": row.sha256, "kind": row.kind, "point_code": row.point_code,
            "taken_at": row.taken_at, "latitude": row.latitude, "longitude": row.longitude}


@router.post("/visits/{inspection_id}/signature")
def sign(inspection_id: int, db: SessionDep, user: CurrentUser, file: UploadFile,
         signer: Annotated[str, Form()] = "") -> dict[str, Any]:
    return inspection_dict(visits.sign(db, inspection_id=inspection_id, signer=signer, stream=file.file, actor=user))


@router.post("/visits/{inspection_id}/refusal")
def refuse(inspection_id: int, body: RefusalIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return inspection_dict(visits.refuse_signature(db, inspection_id=inspection_id, reason=body.reason, actor=user))


@router.get("/records")
def reporting_records(db: SessionDep, user: CurrentUser, since: dt.date, until: dt.date,
                      format: str = "jsonl") -> Response:
    """Inspection records in the national reporting layout (JSON lines or XLSX), scoped and audited."""
    data = reporting.export(db, actor=user, since=since, until=until, fmt=format)
    kind = "application/x-ndjson" if format == "jsonl" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, media_type=kind, headers={
        "Content-Disposition": f'attachment; filename="inspections-{since}-{until}.{format}"'})


@router.post("/findings/{finding_id}/actions/{action}")
def act_on_finding(finding_id: int, action: str, body: FindingDecision, db: SessionDep,
                   user: CurrentUser) -> dict[str, Any]:
    payload = {"responsible": body.responsible, "measures": body.measures, "timetable": body.timetable}
    return finding_dict(visits.decide_finding(db, finding_id=finding_id, action=action, comment=body.comment,
                                              payload=payload, expected_version=body.expected_version, actor=user))


# --------------------------------------------------------------------------- 督查 and the burden index


@router.get("/matters", response_model=Page[dict[str, Any]])
def list_matters(db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
                 state: str = "", year: int | None = None, q: str = "") -> Page[Any]:
    rows, total = matters.list_matters(db, actor=user, state=state, year=year, q=q, offset=page.offset,
                                       limit=page.limit)
    return Page(items=[matter_dict(m) for m in rows], total=total, offset=page.offset, limit=page.limit)


@router.post("/matters", status_code=201)
def create_matter(body: MatterIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return matter_dict(matters.create_matter(db, data=body, actor=user))


@router.get("/matters/figures")
def matter_figures(db: SessionDep, user: CurrentUser, year: int) -> dict[str, Any]:
    return matters.figures(db, actor=user, year=year)


@router.get("/matters/{matter_id}")
def get_matter(matter_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    matter = matters.get_matter(db, matter_id=matter_id, actor=user)
    return {**matter_dict(matter, full=True), "actions": workflow.allowed_actions(matter, user),
            "accountabilities": [{"id": a.id, "unit_id": a.unit_id, "problem_id": a.problem_id, "person": a.person,
                                  "measure": a.measure, "reason": a.reason, "decided_on": a.decided_on}
                                 for a in matters.accountabilities(db, matter_id=matter.id)]}


@router.post("/matters/{matter_id}/actions/{action}")
def act_on_matter(matter_id: int, action: str, body: MatterDecision, db: SessionDep,
                  user: CurrentUser) -> dict[str, Any]:
    matter = matters.decide(db, matter_id=matter_id, action=action, comment=body.comment, due_on=body.due_on,
                            expected_version=body.expected_version, actor=user)
    return matter_dict(matter)


@router.put("/matters/{matter_id}")
def adjust_matter(matter_id: int, body: MatterChanges, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """调整: the changes and the reason (``comment``); 409 on a stale ``expected_version``."""
    return matter_dict(matters.decide(db, matter_id=matter_id, action="adjust", comment=body.comment, changes=body,
                                      expected_version=body.expected_version, actor=user))


@router.post("/matters/{matter_id}/hand-down", status_code=201)
def hand_down(matter_id: int, body: HandDownIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return matter_dict(matters.hand_down(db, matter_id=matter_id, data=body, actor=user))


@router.post("/matters/{matter_id}/problems", status_code=201)
def add_problem(matter_id: int, body: ProblemIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    p = matters.add_problem(db, matter_id=matter_id, data=body, actor=user)
    return {"id": p.id, "matter_id": p.matter_id, "unit_id": p.unit_id, "text": p.text}


@router.post("/matters/problems/{problem_id}/responsibilities", status_code=201)
def add_responsibility(problem_id: int, body: ResponsibilityIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    r = matters.add_responsibility(db, problem_id=problem_id, data=body, actor=user)
    return {"id": r.id, "problem_id": r.problem_id, "unit_id": r.unit_id, "person": r.person, "role": r.role}


@router.post("/matters/problems/{problem_id}/tasks", status_code=201)
def add_task(problem_id: int, body: TaskIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return task_dict(matters.add_task(db, problem_id=problem_id, data=body, actor=user))


@router.post("/matters/tasks/{task_id}/evidence", status_code=201)
def task_evidence(task_id: int, file: UploadFile, db: SessionDep, user: CurrentUser,
                  note: Annotated[str, Form()] = "") -> dict[str, Any]:
    row = matters.attach(db, task_id=task_id, stream=file.file, filename=file.filename or "",
                         content_type=file.content_type, note=note, actor=user)
    return {"id": row.id, "task_id": row.task_id, "sha256": row.sha256, "filename": row.filename}


@router.post("/matters/tasks/{task_id}/actions/{action}")
def act_on_task(task_id: int, action: str, body: Decision, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return task_dict(matters.decide_task(db, task_id=task_id, action=action, comment=body.comment,
                                         expected_version=body.expected_version, actor=user))


@router.post("/matters/{matter_id}/accountabilities", status_code=201)
def add_accountability(matter_id: int, body: AccountabilityIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    a = matters.add_accountability(db, matter_id=matter_id, data=body, actor=user)
    return {"id": a.id, "measure": a.measure, "unit_id": a.unit_id, "decided_on": a.decided_on}


@router.post("/matters/{matter_id}/visits", status_code=201)
def record_visit(matter_id: int, body: VisitIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    v = matters.record_visit(db, matter_id=matter_id, data=body, actor=user)
    return {"id": v.id, "unit_id": v.unit_id, "visited_on": v.visited_on, "hours": str(v.hours)}


@router.get("/burden")
def burden_index(db: SessionDep, user: CurrentUser, year: int, region: str = "",
                 limit: int = 200) -> dict[str, Any]:
    """Per object (most burdened first) and the figures against the targets."""
    found = burden.burden(db, actor=user, year=year, region=region)
    return {"year": year, "working_hours": found.working_hours, "figures": found.figures,
            "objects": found.per_object.head(limit).to_dicts()}


@router.get("/burden/overlaps")
def burden_overlaps(db: SessionDep, user: CurrentUser, on: dt.date | None = None, window_days: int = 30,
                    region: str = "") -> list[dict[str, Any]]:
    return [asdict(o) for o in burden.overlaps(db, actor=user, on=on or visits.today(), window_days=window_days,
                                              region=region)]
