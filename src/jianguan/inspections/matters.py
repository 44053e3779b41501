"""督查: supervision of policy implementation, on the same workflow engine with government units as
the objects. A matter is put on the supervising office's list (纳入), adjusted (调整) or taken off it
(退出) with a reason; a matter from the level above is handed down as a linked child, never retyped.
Problems found at government units are tied to responsibilities and rectification tasks (三单联动);
tasks are accepted one by one (销号); what is not done by the deadline goes to a second 督查; measures
taken against units and people (问责) are recorded against the matter and the unit.

The figures: the implementation rate of decisions (matters of round one done by their deadline over
matters due; target ≥ 95 %) and the acceptance rate of rectification (tasks accepted by their deadline
over tasks due; target ≥ 95 %).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.audit.evidence import Readable, store_evidence
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, visible
from jianguan.core import workflow
from jianguan.core.errors import Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.entities.models import Entity
from jianguan.inspections import visits
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import (
    Accountability,
    MatterEvidence,
    MatterProblem,
    MatterResponsibility,
    MatterTask,
    MatterVisit,
    SupervisionMatter,
)
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
from jianguan.reference import service as ref

LEVELS = ("central", "provincial", "city", "county")
TARGET_RATE = 95  # percent, both rates (the programme's targets)
ROLES = ("lead", "support")


# --------------------------------------------------------------------------- helpers


def level_of(agency: Agency) -> str:
    """An agency's level from its region code: 330000 provincial, 330100 city, 330106 county."""
    code = agency.region_code
    return "provincial" if code.endswith("0000") else "city" if code.endswith("00") else "county"


def _unit(db: Session, uscc: str, field: str = "unit_uscc") -> Entity:
    """A government unit (督查对象) by its USCC; anything else is named as the problem."""
    found = db.scalar(select(Entity).where(Entity.uscc == uscc.strip().upper()))
    if found is None:
        raise Invalid(field, N_("No government unit with USCC {uscc} in the registry."), uscc=uscc)
    if found.kind != "government_unit":
        raise Invalid(field, N_("{name} is not a government unit; 督查 supervises government units."),
                      name=found.name)
    return found


def _code(db: Session, domain: str, value: str, field: str) -> str:
    """A value-domain code (or its Chinese name); anything else is named with the field."""
    code = ref.resolve(db, domain, value)
    if code is None:
        raise Invalid(field, N_("Unknown code(s) {codes} for {name}."), codes=value, name=field)
    return code


def _units(db: Session, usccs: Sequence[str]) -> list[int]:
    problems, ids = [], []
    for i, uscc in enumerate(usccs):
        try:
            ids.append(_unit(db, uscc, f"unit_usccs[{i}]").id)
        except Invalid as error:
            problems.append(error)
    if problems:
        raise Invalid.all(problems)
    return list(dict.fromkeys(ids))


def _office(db: Session, actor: User | None, agency_id: int | None = None) -> Agency:
    agency_id = agency_id if agency_id is not None else (actor.agency_id if actor is not None else None)
    agency = db.get(Agency, agency_id) if agency_id is not None else None
    if agency is None:
        raise Invalid("agency_id", N_("A matter belongs to a supervising office; your account has none."))
    if actor is not None and not actor.is_system_admin:
        if actor.agency_id != agency.id:
            raise Forbidden(N_("Only the supervising office itself may do this."))
        if not actor.has_role(*wf.MATTER_OFFICE):
            raise Forbidden(N_("Only the supervising office itself may do this."))
    return agency


def _next_code(db: Session, agency: Agency, year: int) -> str:
    prefix = f"DC-{agency.code}-{year}-"
    n = db.scalar(select(func.count()).select_from(SupervisionMatter)
                  .where(SupervisionMatter.code.like(prefix + "%"))) or 0
    return f"{prefix}{n + 1:04d}"


def title_of(matter: SupervisionMatter) -> str:
    """The wording: a handed-down matter reads as its parent's, plus its own addition."""
    chain: list[str] = []
    node: SupervisionMatter | None = matter
    while node is not None:
        if node.title:
            chain.append(node.title)
        node = node.parent
    return " · ".join(reversed(chain))


def _today() -> dt.date:
    return visits.today()


# --------------------------------------------------------------------------- the list


def create_matter(db: Session, *, data: MatterIn, actor: User | None, agency_id: int | None = None,
                  parent: SupervisionMatter | None = None) -> SupervisionMatter:
    # A matter handed down is created at the office below by the office above (checked by hand_down).
    agency = _office(db, actor if parent is None else None, agency_id)
    level = _code(db, "matter_level", data.level, "level")
    matter = SupervisionMatter(code=_next_code(db, agency, data.due_on.year), agency_id=agency.id,
                               region_code=agency.region_code, level=level, title=data.title.strip(),
                               description=data.description, source_ref=data.source_ref, category=data.category,
                               unit_ids=_units(db, data.unit_usccs), due_on=data.due_on,
                               parent_id=parent.id if parent else None, created_by=actor.id if actor else None)
    workflow.start(db, matter, workflow=wf.MATTER, actor=actor, payload={"code": matter.code})
    audit.record(db, actor=actor, action="matter.create", object_type="matter", object_id=matter.id,
                 payload=data.model_dump(mode="json"), detail={"code": matter.code, "parent": matter.parent_id})
    return matter


def hand_down(db: Session, *, matter_id: int, data: HandDownIn, actor: User) -> SupervisionMatter:
    """下达: the matter goes to an office of the level below as a linked child, admitted there by its leader."""
    upper = get_matter(db, matter_id=matter_id, actor=actor)
    _office(db, actor, upper.agency_id)
    if upper.state not in (wf.ADMITTED, wf.SUPERVISING):
        raise Invalid("state", N_("Only a matter on the list can be handed down."))
    below = db.get(Agency, data.agency_id)
    if below is None or below.parent_id != upper.agency_id:
        raise Invalid("agency_id", N_("Hand a matter down only to an office directly below yours."))
    due = data.due_on or upper.due_on
    if due > upper.due_on:
        raise Invalid("due_on", N_("The level below cannot have longer than {date}."), date=upper.due_on.isoformat())
    # Validated above; an empty title reads as the parent's wording.
    child_in = MatterIn.model_construct(title=data.title.strip(), level=level_of(below), due_on=due,
                                        source_ref=upper.code, category=upper.category, description="",
                                        unit_usccs=data.unit_usccs)
    child = create_matter(db, data=child_in, actor=actor, agency_id=below.id, parent=upper)
    audit.record(db, actor=actor, action="matter.hand_down", object_type="matter", object_id=upper.id,
                 payload={"child": child.id, "agency": below.id}, detail={"child": child.code, "to": below.name})
    return child


def get_matter(db: Session, *, matter_id: int, actor: User | None) -> SupervisionMatter:
    matter = db.get(SupervisionMatter, matter_id)
    if matter is None or (actor is not None and not can_see(matter, actor)):
        raise NotFound(N_("No such supervision matter."))
    return matter


def list_matters(db: Session, *, actor: User, state: str = "", year: int | None = None, q: str = "",
                 offset: int = 0, limit: int = 100) -> tuple[list[SupervisionMatter], int]:
    stmt = select(SupervisionMatter).where(visible(SupervisionMatter, actor))
    if state:
        stmt = stmt.where(SupervisionMatter.state == state)
    if year is not None:
        stmt = stmt.where(SupervisionMatter.due_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    if q.strip():
        stmt = stmt.where(or_(SupervisionMatter.title.contains(q.strip()), SupervisionMatter.code.contains(q.strip())))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(SupervisionMatter.due_on, SupervisionMatter.id).offset(offset).limit(limit))
    return list(rows), int(total)


def tree(matters: Sequence[SupervisionMatter]) -> list[tuple[SupervisionMatter, int]]:
    """The matters in decision-tree order (central → provincial → city → county), with their depth;
    a matter whose parent is not in view starts a tree of its own."""
    ids = {m.id for m in matters}
    children: dict[int | None, list[SupervisionMatter]] = {}
    for m in matters:
        children.setdefault(m.parent_id if m.parent_id in ids else None, []).append(m)
    out: list[tuple[SupervisionMatter, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for m in children.get(parent, []):
            out.append((m, depth))
            walk(m.id, depth + 1)

    walk(None, 0)
    return out


def decide(db: Session, *, matter_id: int, action: str, comment: str = "", expected_version: int | None = None,
           changes: MatterChanges | None = None, due_on: dt.date | None = None,
           actor: User | None) -> SupervisionMatter:
    """A step on the list; ``adjust`` applies ``changes`` (调整) with the reason in the comment;
    ``follow_up`` takes the second round's deadline ``due_on``."""
    matter = get_matter(db, matter_id=matter_id, actor=actor)
    payload: dict[str, Any] = {"due_on": due_on} if action == "follow_up" else {}
    if action == "adjust" and changes is not None:
        check_version(matter, expected_version)
        before = {"title": matter.title, "due_on": matter.due_on.isoformat(), "unit_ids": list(matter.unit_ids)}
        if changes.title is not None:
            matter.title = changes.title.strip()
        if changes.description is not None:
            matter.description = changes.description
        if changes.unit_usccs is not None:
            matter.unit_ids = _units(db, changes.unit_usccs)
        if changes.due_on is not None:
            matter.due_on = changes.due_on
        payload = {"before": before, "after": {"title": matter.title, "due_on": matter.due_on.isoformat(),
                                               "unit_ids": list(matter.unit_ids)}}
    workflow.act(db, matter, action=action, actor=actor, comment=comment, payload=payload,
                 expected_version=expected_version if action != "adjust" else None)
    return matter


# Guards and effects the workflow names ----------------------------------------------------------


def not_own(ctx: workflow.Context) -> None:
    if ctx.actor is not None and ctx.record.created_by == ctx.actor.id:
        raise Forbidden(N_("You put this matter forward; another leader must admit it to the list."))


def lists_whole(ctx: workflow.Context) -> None:
    """三单联动: no problem without a responsibility and a task, and every task 销号."""
    matter: SupervisionMatter = ctx.record
    problems = []
    for p in matter.problems:
        if not p.responsibilities:
            problems.append(Invalid("responsibilities", N_("Problem “{text}” has no responsible unit and person."),
                                    text=p.text[:30]))
        if not p.tasks:
            problems.append(Invalid("tasks", N_("Problem “{text}” has no rectification task."), text=p.text[:30]))
        open_tasks = [t for t in p.tasks if t.state != wf.TASK_ACCEPTED]
        if open_tasks:
            problems.append(Invalid("tasks", N_("{n} tasks of problem “{text}” are not accepted yet."),
                                    n=len(open_tasks), text=p.text[:30]))
    if problems:
        raise Invalid.all(problems)


def completed(ctx: workflow.Context) -> None:
    ctx.record.completed_on = _today()


def exited(ctx: workflow.Context) -> None:
    ctx.record.exit_reason = ctx.comment


def something_left(ctx: workflow.Context) -> None:
    if not any(t.state != wf.TASK_ACCEPTED for p in ctx.record.problems for t in p.tasks) and all(
            p.tasks for p in ctx.record.problems):
        raise Invalid("tasks", N_("Everything is done: complete the matter instead of a second 督查."))
    _comment_given(ctx)
    due = ctx.payload.get("due_on")
    if not isinstance(due, dt.date) or due <= _today():
        raise Invalid("due_on", N_("Give the new deadline of the second 督查 (a date after today)."))


def _comment_given(ctx: workflow.Context) -> None:
    if not ctx.comment:
        raise Invalid("comment", N_("Give the reason for this decision in the comment."))


def second_round(ctx: workflow.Context) -> None:
    """二次督查: a new round takes the problems not done — linked to the originals, with their
    responsibilities and the unfinished tasks, due by the date given (``payload['due_on']``)."""
    db, old = ctx.db, ctx.record
    due: dt.date = ctx.payload["due_on"]  # checked by the guard
    ctx.payload["due_on"] = due.isoformat()
    new = SupervisionMatter(code=f"{old.code}-R{old.round + 1}", parent_id=old.parent_id, previous_id=old.id,
                            round=old.round + 1, level=old.level, agency_id=old.agency_id,
                            region_code=old.region_code, title=old.title, description=old.description,
                            source_ref=old.source_ref, category=old.category, unit_ids=list(old.unit_ids),
                            due_on=due, created_by=ctx.actor.id if ctx.actor else None)
    workflow.start(db, new, workflow=wf.MATTER, actor=ctx.actor, payload={"previous": old.code})
    workflow.act(db, new, action="admit", actor=None, system=True, comment=f"二次督查，承接 {old.code}")
    workflow.act(db, new, action="begin", actor=None, system=True)
    for p in old.problems:
        left = [t for t in p.tasks if t.state != wf.TASK_ACCEPTED]
        if p.tasks and not left:
            continue
        carried = MatterProblem(unit_id=p.unit_id, text=p.text, found_on=p.found_on, source=p.source,
                                origin_problem_id=p.id, created_by=p.created_by)
        new.problems.append(carried)
        db.flush()
        for r in p.responsibilities:
            carried.responsibilities.append(MatterResponsibility(unit_id=r.unit_id, role=r.role, person=r.person,
                                                                 position=r.position))
        for t in left:
            task = MatterTask(problem_id=carried.id, matter_id=new.id, agency_id=new.agency_id,
                              region_code=new.region_code, unit_id=t.unit_id, owner=t.owner, measures=t.measures,
                              due_on=due)
            with db.no_autoflush:
                carried.tasks.append(task)
                workflow.start(db, task, workflow=wf.MATTER_TASK, actor=ctx.actor, payload={"carried_from": t.id})
    db.flush()
    ctx.payload["second_round"] = new.code


# --------------------------------------------------------------------------- the three lists


def _working(db: Session, matter_id: int, actor: User | None) -> SupervisionMatter:
    matter = get_matter(db, matter_id=matter_id, actor=actor)
    _office(db, actor, matter.agency_id)
    if matter.state != wf.SUPERVISING:
        raise Invalid("state", N_("Problems and tasks are recorded while the matter is being supervised."))
    return matter


def _problem(db: Session, problem_id: int, actor: User | None) -> MatterProblem:
    problem = db.get(MatterProblem, problem_id)
    if problem is None:
        raise NotFound(N_("No such problem."))
    _working(db, problem.matter_id, actor)
    return problem


def add_problem(db: Session, *, matter_id: int, data: ProblemIn, actor: User | None) -> MatterProblem:
    matter = _working(db, matter_id, actor)
    unit = _unit(db, data.unit_uscc)
    if data.found_on > _today():
        raise Invalid("found_on", N_("The date found cannot be in the future."))
    problem = MatterProblem(matter_id=matter.id, unit_id=unit.id, text=data.text.strip(), found_on=data.found_on,
                            source=data.source, created_by=actor.id if actor else None)
    matter.problems.append(problem)
    db.flush()
    audit.record(db, actor=actor, action="matter.problem", object_type="matter", object_id=matter.id,
                 payload=data.model_dump(mode="json"), detail={"problem": problem.id, "unit": unit.name})
    return problem


def add_responsibility(db: Session, *, problem_id: int, data: ResponsibilityIn,
                       actor: User | None) -> MatterResponsibility:
    problem = _problem(db, problem_id, actor)
    if data.role not in ROLES:
        raise Invalid("role", N_("Role must be one of {allowed}."), allowed=", ".join(ROLES))
    row = MatterResponsibility(problem_id=problem.id, unit_id=_unit(db, data.unit_uscc).id, role=data.role,
                               person=data.person.strip(), position=data.position.strip())
    problem.responsibilities.append(row)
    db.flush()
    audit.record(db, actor=actor, action="matter.responsibility", object_type="matter", object_id=problem.matter_id,
                 payload=data.model_dump(mode="json"), detail={"problem": problem.id})
    return row


def add_task(db: Session, *, problem_id: int, data: TaskIn, actor: User | None) -> MatterTask:
    problem = _problem(db, problem_id, actor)
    if data.due_on <= _today():
        raise Invalid("due_on", N_("The deadline must be after today."))
    matter = problem.matter
    if data.due_on > matter.due_on:
        raise Invalid("due_on", N_("A task cannot be due after its matter ({date})."), date=matter.due_on.isoformat())
    task = MatterTask(problem_id=problem.id, matter_id=matter.id, agency_id=matter.agency_id,
                      region_code=matter.region_code, unit_id=_unit(db, data.unit_uscc).id, owner=data.owner.strip(),
                      measures=data.measures.strip(), due_on=data.due_on)
    with db.no_autoflush:  # in the problem's list, flushed once it has its state
        problem.tasks.append(task)
        workflow.start(db, task, workflow=wf.MATTER_TASK, actor=actor, payload={"problem": problem.id})
    audit.record(db, actor=actor, action="matter.task", object_type="matter", object_id=matter.id,
                 payload=data.model_dump(mode="json"), detail={"task": task.id})
    return task


def _speaks_for(actor: User | None, unit_id: int) -> bool:
    return actor is not None and actor.entity_id == unit_id and actor.has_role(Role.entity_user)


def get_task(db: Session, *, task_id: int, actor: User | None) -> MatterTask:
    task = db.get(MatterTask, task_id)
    if task is None or (actor is not None and not (can_see(task, actor) or _speaks_for(actor, task.unit_id))):
        raise NotFound(N_("No such rectification task."))
    return task


def attach(db: Session, *, task_id: int, stream: Readable, filename: str, content_type: str | None, note: str = "",
           actor: User) -> MatterEvidence:
    task = get_task(db, task_id=task_id, actor=actor)
    if not wf._task_owner(task, actor):
        raise Forbidden(N_("Only the responsible unit or the supervising office attaches evidence."))
    if task.state != wf.TASK_OPEN:
        raise Invalid("state", N_("Evidence is attached while the task is open."))
    stored = store_evidence(db, stream=stream, filename=filename, content_type=content_type, actor=actor, note=note)
    row = MatterEvidence(task_id=task.id, sha256=stored.sha256, filename=stored.filename,
                         content_type=stored.content_type, note=note, uploaded_by=actor.id)
    db.add(row)
    db.flush()
    return row


def evidence_of(db: Session, task_ids: Sequence[int]) -> dict[int, list[MatterEvidence]]:
    out: dict[int, list[MatterEvidence]] = {}
    for row in db.scalars(select(MatterEvidence).where(MatterEvidence.task_id.in_(list(task_ids)))
                          .order_by(MatterEvidence.id)):
        out.setdefault(row.task_id, []).append(row)
    return out


def decide_task(db: Session, *, task_id: int, action: str, comment: str = "", expected_version: int | None = None,
                actor: User | None) -> MatterTask:
    task = get_task(db, task_id=task_id, actor=actor)
    workflow.act(db, task, action=action, actor=actor, comment=comment, expected_version=expected_version)
    return task


def task_evidence_given(ctx: workflow.Context) -> None:
    found = ctx.db.scalar(select(MatterEvidence.id).where(MatterEvidence.task_id == ctx.record.id).limit(1))
    if found is None:
        raise Invalid("evidence", N_("Attach the rectification evidence first."))


def task_accepted(ctx: workflow.Context) -> None:
    ctx.record.accepted_on = _today()


def task_rejected(ctx: workflow.Context) -> None:
    """Rejected twice: 督办 at once, told to the office's leaders."""
    task: MatterTask = ctx.record
    task.rejections += 1
    if task.rejections >= 2 and task.escalation_level < 2:
        task.escalation_level = 2
        from jianguan.notify import service as notify

        users = recipients(ctx.db, task, workflow.Escalation(2, "督办", 3))
        if users:
            notify.send(ctx.db, user_ids=users, kind="matter.escalated", title=N_("Supervised (督办): {code}"),
                        body=N_("Rectification rejected twice: {text}"),
                        params={"code": ctx.db.get(SupervisionMatter, task.matter_id).code,  # type: ignore[union-attr]
                                "text": task.measures[:60]},
                        link=f"/inspections/matters/{task.matter_id}#task-{task.id}", actor=ctx.actor)


def recipients(db: Session, record: Any, escalation: workflow.Escalation) -> set[int]:
    """The office's people (and, from 督办 on, only its leaders); for a task also the unit's own accounts."""
    users = db.scalars(select(User).where(User.is_active, User.agency_id == record.agency_id)).all()
    wanted = (Role.leader,) if escalation.level >= 2 else (Role.leader, Role.officer)
    out = {u.id for u in users if u.has_role(*wanted)}
    unit_id = getattr(record, "unit_id", None)
    if unit_id is not None:
        out |= set(db.scalars(select(User.id).where(User.is_active, User.entity_id == unit_id)))
    return out


def unit_tasks(db: Session, *, actor: User) -> list[MatterTask]:
    """The tasks of the government unit the account speaks for, open ones first."""
    if actor.entity_id is None or not actor.has_role(Role.entity_user):
        return []
    return list(db.scalars(select(MatterTask).where(MatterTask.unit_id == actor.entity_id)
                           .order_by(MatterTask.state == wf.TASK_ACCEPTED, MatterTask.due_on, MatterTask.id)))


def add_accountability(db: Session, *, matter_id: int, data: AccountabilityIn, actor: User) -> Accountability:
    matter = get_matter(db, matter_id=matter_id, actor=actor)
    _office(db, actor, matter.agency_id)
    measure = _code(db, "accountability_measure", data.measure, "measure")
    if data.decided_on > _today():
        raise Invalid("decided_on", N_("The date decided cannot be in the future."))
    if data.problem_id is not None and db.scalar(select(MatterProblem.id).where(
            MatterProblem.id == data.problem_id, MatterProblem.matter_id == matter.id)) is None:
        raise Invalid("problem_id", N_("That problem is not one of this matter's."))
    row = Accountability(matter_id=matter.id, problem_id=data.problem_id, unit_id=_unit(db, data.unit_uscc).id,
                         person=data.person.strip(), position=data.position.strip(), measure=measure,
                         reason=data.reason.strip(), decided_on=data.decided_on, decided_by=data.decided_by.strip(),
                         recorded_by=actor.id)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="matter.accountability", object_type="matter", object_id=matter.id,
                 payload=data.model_dump(mode="json"), detail={"measure": data.measure, "unit": row.unit_id})
    return row


def accountabilities(db: Session, *, matter_id: int) -> list[Accountability]:
    return list(db.scalars(select(Accountability).where(Accountability.matter_id == matter_id)
                           .order_by(Accountability.decided_on, Accountability.id)))


def record_visit(db: Session, *, matter_id: int, data: VisitIn, actor: User) -> MatterVisit:
    """A 督查 visit or request to a base-level unit, for its burden index."""
    matter = get_matter(db, matter_id=matter_id, actor=actor)
    agency = _office(db, actor, matter.agency_id)
    if data.visited_on > _today():
        raise Invalid("visited_on", N_("The date of the visit cannot be in the future."))
    row = MatterVisit(matter_id=matter.id, unit_id=_unit(db, data.unit_uscc).id, agency_id=agency.id,
                      visited_on=data.visited_on, on_site=data.on_site, hours=data.hours,
                      documents_demanded=data.documents_demanded, note=data.note, recorded_by=actor.id)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="matter.visit", object_type="matter", object_id=matter.id,
                 payload=data.model_dump(mode="json"), detail={"unit": row.unit_id, "on": str(row.visited_on)})
    return row


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Rate:
    done: int
    due: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.done / self.due, 1) if self.due else None

    @property
    def meets_target(self) -> bool | None:
        return None if not self.due else 100 * self.done >= TARGET_RATE * self.due

    def as_dict(self) -> dict[str, Any]:
        return {"done": self.done, "due": self.due, "percent": self.percent, "target": TARGET_RATE,
                "meets_target": self.meets_target}


def figures(db: Session, *, actor: User, year: int, today: dt.date | None = None) -> dict[str, Any]:
    """Both rates for matters (round one) and tasks falling due in ``year`` up to ``today``, overall and
    per level; exited matters are off the list and not counted."""
    today = today or _today()
    start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), today)
    matters = db.execute(select(SupervisionMatter.level, SupervisionMatter.completed_on, SupervisionMatter.due_on)
                         .where(visible(SupervisionMatter, actor), SupervisionMatter.round == 1,
                                SupervisionMatter.state != wf.EXITED, SupervisionMatter.due_on >= start,
                                SupervisionMatter.due_on <= end)).all()
    by_level: dict[str, list[int]] = {lv: [0, 0] for lv in LEVELS}
    for level, completed_on, due_on in matters:
        by_level.setdefault(level, [0, 0])
        by_level[level][1] += 1
        if completed_on is not None and completed_on <= due_on:
            by_level[level][0] += 1
    tasks = db.execute(select(MatterTask.accepted_on, MatterTask.due_on)
                       .where(visible(MatterTask, actor), MatterTask.due_on >= start, MatterTask.due_on <= end)).all()
    accepted = sum(1 for accepted_on, due_on in tasks if accepted_on is not None and accepted_on <= due_on)
    implemented = Rate(sum(v[0] for v in by_level.values()), sum(v[1] for v in by_level.values()))
    measures = db.scalar(select(func.count()).select_from(Accountability)
                         .join(SupervisionMatter, SupervisionMatter.id == Accountability.matter_id)
                         .where(visible(SupervisionMatter, actor), Accountability.decided_on >= start,
                                Accountability.decided_on <= end)) or 0
    return {"year": year, "as_of": end.isoformat(), "implementation": implemented.as_dict(),
            "acceptance": Rate(accepted, len(tasks)).as_dict(),
            "by_level": {lv: Rate(*v).as_dict() for lv, v in by_level.items()}, "accountabilities": measures}
