"""Joint tasks (联合检查), cross-region assistance requests (跨区域协查) and recognised results (结果互认)
over HTTP, under /api/v1/collab. Thin: the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.collab import assist, joint, recognition
from jianguan.collab.models import AssistRequest, JointTask
from jianguan.collab.schemas import AssistIn, JointTaskIn, StepIn
from jianguan.core import workflow
from jianguan.core.errors import NotFound
from jianguan.core.workdays import today_shanghai
from jianguan.deps import CurrentUser, SessionDep
from jianguan.entities.models import Entity
from jianguan.inspections import burden
from jianguan.inspections.models import Inspection

router = APIRouter(prefix="/collab", tags=["collaboration"])


def task_dict(db: Session, task: JointTask, user: Any) -> dict[str, Any]:
    return {"id": task.id, "code": task.code, "entity_id": task.entity_id, "region_code": task.region_code,
            "lead_agency_id": task.agency_id, "agency_ids": task.agency_ids,
            "agreed_agency_ids": task.agreed_agency_ids,
            "item_codes": task.item_codes, "scheduled_on": task.scheduled_on, "state": task.state,
            "due_date": task.due_date, "note": task.note, "version": task.version,
            "inspections": [{"code": m.code, "agency_id": m.agency_id, "state": m.state, "items": m.item_codes}
                            for m in joint.members(db, task)],
            "actions": workflow.allowed_actions(task, user)}


def request_dict(record: AssistRequest, user: Any) -> dict[str, Any]:
    return {"id": record.id, "code": record.code, "kind": record.kind, "agency_id": record.agency_id,
            "requested_by_agency_id": record.requested_by_agency_id, "entity_id": record.entity_id,
            "party_name": record.party_name, "subject": record.subject, "reason": record.reason,
            "wanted_by": record.wanted_by, "state": record.state, "due_date": record.due_date,
            "decline_reason": record.decline_reason, "result": record.result, "result_ref": record.result_ref,
            "version": record.version, "actions": workflow.allowed_actions(record, user)}


@router.get("/joint-tasks")
def joint_tasks(db: SessionDep, user: CurrentUser, state: str = "") -> list[dict[str, Any]]:
    return [task_dict(db, t, user) for t in joint.board(db, actor=user, state=state)]


@router.get("/joint-tasks/proposals")
def proposals(db: SessionDep, user: CurrentUser, on: dt.date | None = None, region: str = "") -> list[dict[str, Any]]:
    """Visits to merge: two or more departments at one entity within a month for overlapping items."""
    return [{"entity_id": o.entity_id, "entity_name": o.entity_name, "agencies": o.agencies,
             "overlapping_items": o.overlapping_items, "inspections": o.inspections, "proposal": o.proposal}
            for o in burden.overlaps(db, actor=user, on=on or today_shanghai(), region=region)]


@router.post("/joint-tasks", status_code=201)
def propose(body: JointTaskIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    ids = list(db.scalars(select(Inspection.id).where(Inspection.code.in_(body.inspection_codes))))
    task = joint.propose(db, inspection_ids=ids if len(ids) == len(set(body.inspection_codes)) else [],
                         scheduled_on=body.scheduled_on, note=body.note, actor=user)
    return task_dict(db, task, user)


@router.get("/joint-tasks/{task_id}")
def joint_task(task_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return task_dict(db, joint.get(db, task_id=task_id, actor=user), user)


@router.post("/joint-tasks/{task_id}/actions/{action}")
def joint_step(task_id: int, action: str, body: StepIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    task = joint.act(db, task_id=task_id, action=action, comment=body.comment, payload=dict(body.payload),
                     expected_version=body.expected_version, actor=user)
    return task_dict(db, task, user)


@router.get("/assist-requests")
def assist_requests(db: SessionDep, user: CurrentUser, direction: str = "", state: str = "") -> list[dict[str, Any]]:
    """``direction``: incoming (asked of the user's agency), outgoing (asked by it), or both."""
    return [request_dict(r, user) for r in assist.listing(db, actor=user, direction=direction, state=state)]


@router.post("/assist-requests", status_code=201)
def ask(body: AssistIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    record = assist.request(db, agency_id=body.agency_id, kind=body.kind, subject=body.subject, reason=body.reason,
                            uscc=body.uscc, party_name=body.party_name, item_codes=body.item_codes,
                            wanted_by=body.wanted_by, actor=user)
    return request_dict(record, user)


@router.get("/assist-requests/{request_id}")
def assist_request(request_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return request_dict(assist.get(db, request_id=request_id, actor=user), user)


@router.post("/assist-requests/{request_id}/actions/{action}")
def assist_step(request_id: int, action: str, body: StepIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    record = assist.act(db, request_id=request_id, action=action, comment=body.comment, payload=dict(body.payload),
                        expected_version=body.expected_version, actor=user)
    return request_dict(record, user)


@router.get("/recognitions/{uscc}")
def recognitions(uscc: str, db: SessionDep, user: CurrentUser, on: dt.date | None = None) -> list[dict[str, Any]]:
    """The items another department's inspection of this entity still covers (结果互认), with until when."""
    entity = db.scalar(select(Entity).where(Entity.uscc == uscc.strip().upper()))
    if entity is None:
        raise NotFound()
    return recognition.of_entity(db, entity_id=entity.id, on=on or today_shanghai())
