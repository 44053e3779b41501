"""联合检查 (进一次门、查多项事): several departments due at the same entity for overlapping items go
in one visit. Proposed from the overlaps the burden index finds (inspections of two or more
departments within a month for the same item, or items the catalog finds overlapping), or by hand;
the other departments agree; the lead schedules one date for every member inspection; each
department then records its own checklist in that visit; the burden index counts it once.

proposed ─agree (each other department)→ proposed ─schedule→ scheduled ─close→ closed;  ─cancel→ cancelled
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see
from jianguan.collab.models import JointTask
from jianguan.core import workflow
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.core.workflow import Context
from jianguan.db import utcnow
from jianguan.inspections import workflow as inspection_wf
from jianguan.inspections.models import Inspection
from jianguan.officers.models import Agency

PROPOSED, SCHEDULED, CLOSED, CANCELLED = "proposed", "scheduled", "closed", "cancelled"
NOT_VISITED = (inspection_wf.NOTICE, inspection_wf.PREPARING, inspection_wf.READY)
AGREE_WORKING_DAYS = 3  # the other departments answer a proposal within this many working days


def today() -> dt.date:
    return today_shanghai()


def _next_code(db: Session, year: int) -> str:
    prefix = f"LH{year}"
    last = db.scalar(select(func.max(JointTask.code)).where(JointTask.code.like(f"{prefix}%")))
    return f"{prefix}{int(last[len(prefix):]) + 1 if last else 1:06d}"


def members(db: Session, task: JointTask) -> list[Inspection]:
    return list(db.scalars(select(Inspection).where(Inspection.joint_task_id == task.id).order_by(Inspection.id)))


def propose(db: Session, *, inspection_ids: Sequence[int], scheduled_on: dt.date, note: str = "",
            source: str = "manual", actor: User) -> JointTask:
    """Group inspections of one entity by two or more departments into one visit, led by the actor's
    agency (which must have one of them). Each must still be before its visit and in no other task."""
    ids = sorted(set(inspection_ids))
    records = list(db.scalars(select(Inspection).where(Inspection.id.in_(ids or [-1])).order_by(Inspection.id)))
    if len(records) != len(ids) or len(ids) < 2:
        raise Invalid("inspection_ids", N_("Choose at least two inspections of different departments."))
    if len({r.entity_id for r in records}) != 1:
        raise Invalid("inspection_ids", N_("A joint task visits one entity: these inspections are of several."))
    agencies = sorted({r.agency_id for r in records})
    if len(agencies) < 2:
        raise Invalid("inspection_ids", N_("A joint task brings together two or more departments."))
    for record in records:
        if record.state not in NOT_VISITED:
            raise Conflict(N_("Inspection {code} has already been visited; it cannot join a joint visit."),
                           code=record.code)
        if record.joint_task_id is not None:
            raise Conflict(N_("Inspection {code} is already part of a joint task."), code=record.code)
    lead = actor.agency_id if actor.agency_id in agencies else None
    if lead is None and not actor.is_system_admin:
        raise Forbidden(N_("Only a department taking part may propose the joint task."))
    if scheduled_on < today():
        raise Invalid("scheduled_on", N_("The joint visit cannot be in the past."))
    lead_id = lead if lead is not None else max(agencies, key=lambda a: sum(r.agency_id == a for r in records))
    items = sorted({code for r in records for code in r.item_codes})
    task = JointTask(code=_next_code(db, scheduled_on.year), entity_id=records[0].entity_id,
                     region_code=records[0].region_code, agency_id=lead_id, agency_ids=agencies,
                     agreed_agency_ids=[lead_id], item_codes=items, scheduled_on=scheduled_on, source=source,
                     note=note.strip(), created_by=actor.id)
    workflow.start(db, task, workflow="joint_task", actor=actor, comment=note.strip())
    for record in records:
        record.joint_task_id = task.id
    audit.record(db, actor=actor, action="joint_task.propose", object_type="joint_task", object_id=task.id,
                 payload={"inspections": [r.code for r in records], "scheduled_on": scheduled_on.isoformat()},
                 detail={"code": task.code, "agencies": agencies})
    _tell(db, task, [a for a in agencies if a != lead_id], kind="joint_task.proposed",
          title=N_("Joint visit proposed: {code}"), actor=actor)
    return task


def _tell(db: Session, task: JointTask, agency_ids: Sequence[int], *, kind: str, title: str,
          actor: User | None) -> None:
    from jianguan.notify import service as notify
    from jianguan.officers.service import staff_of

    wanted = [u.id for u in staff_of(db, agency_ids=agency_ids, roles=[Role.leader, Role.officer])]
    if wanted:
        notify.send(db, user_ids=wanted, kind=kind, title=title, params={"code": task.code},
                    link=f"/collab/joint/{task.id}", actor=actor)


def may_see(task: JointTask, actor: User) -> bool:
    return actor.is_system_admin or actor.agency_id in (task.agency_ids or []) or can_see(task, actor)


def get(db: Session, *, task_id: int, actor: User) -> JointTask:
    task = db.get(JointTask, task_id)
    if task is None or not may_see(task, actor):
        raise NotFound()
    return task


def board(db: Session, *, actor: User, state: str = "", limit: int = 300) -> list[JointTask]:
    """The joint tasks the actor's department takes part in (or its scope covers), soonest first."""
    stmt = select(JointTask).order_by(JointTask.scheduled_on.desc(), JointTask.id.desc()).limit(limit * 4)
    if state:
        stmt = stmt.where(JointTask.state == state)
    return [t for t in db.scalars(stmt) if may_see(t, actor)][:limit]


def act(db: Session, *, task_id: int, action: str, comment: str = "", payload: dict[str, Any] | None = None,
        expected_version: int | None = None, actor: User) -> JointTask:
    task = get(db, task_id=task_id, actor=actor)
    workflow.act(db, task, action=action, actor=actor, comment=comment, payload=payload or {},
                 expected_version=expected_version)
    return task


# --------------------------------------------------------------------------- the loop's guards


def participant(record: Any, actor: User | None) -> bool:
    """A ``permit``: a department taking part (other than the lead, which agreed by proposing)."""
    return actor is None or actor.is_system_admin or (
        actor.agency_id in (record.agency_ids or []) and actor.agency_id not in (record.agreed_agency_ids or []))


def agreeing(ctx: Context) -> None:
    task: JointTask = ctx.record
    agency = ctx.actor.agency_id if ctx.actor is not None else None
    if agency is None or agency not in task.agency_ids:
        raise Forbidden(N_("Only a department taking part may agree."))
    if agency in task.agreed_agency_ids:
        raise Conflict(N_("Your department has already agreed."))
    task.agreed_agency_ids = sorted({*task.agreed_agency_ids, agency})


def scheduling(ctx: Context) -> None:
    """Every department has agreed; one date for every member inspection (a new one may be given)."""
    task: JointTask = ctx.record
    waiting = sorted(set(task.agency_ids) - set(task.agreed_agency_ids))
    if waiting:
        names = [a.name for a in ctx.db.scalars(select(Agency).where(Agency.id.in_(waiting)))]
        raise Conflict(N_("Waiting for {agencies} to agree."), agencies="、".join(names))
    raw = str(ctx.payload.get("scheduled_on") or "")
    if raw:
        try:
            task.scheduled_on = dt.date.fromisoformat(raw)
        except ValueError:
            raise Invalid("scheduled_on", N_("Give the date as YYYY-MM-DD.")) from None
    if task.scheduled_on < today():
        raise Invalid("scheduled_on", N_("The joint visit cannot be in the past."))
    for record in members(ctx.db, task):
        if record.state in NOT_VISITED:
            record.scheduled_on = task.scheduled_on
            workflow.refresh_due(ctx.db, record)


def closing(ctx: Context) -> None:
    task: JointTask = ctx.record
    pending = [r.code for r in members(ctx.db, task) if r.state in NOT_VISITED]
    if pending:
        raise Conflict(N_("Not every department has recorded its visit yet: {codes}."), codes=", ".join(pending))
    task.closed_at = utcnow()


def cancelling(ctx: Context) -> None:
    """With the reason; the member inspections go back to being visited on their own."""
    workflow.reason_required(ctx)
    for record in members(ctx.db, ctx.record):
        record.joint_task_id = None


def scheduled_due(record: Any, calendar: Any) -> Any:
    from jianguan.core.workdays import DueDate

    return DueDate(record.scheduled_on)
