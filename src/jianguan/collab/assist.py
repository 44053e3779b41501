"""跨区域协查 / 协助: an agency asks another agency — usually of another region, whose entities it may
not inspect itself — to inspect an entity there or to assist, with a deadline; the agency asked
accepts or declines with a reason, then answers with its result (and the inspection that gave it).

requested ─accept→ accepted ─answer→ answered ─close (the asker)→ closed
    │              └─────────── send_back (the asker, with a reason) ←┘
    ├decline (with the reason)→ declined
    └withdraw (the asker)→ withdrawn        Deadlines are data: collab/data/assist.yaml.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, visible
from jianguan.collab.models import AssistRequest
from jianguan.core import workflow
from jianguan.core.errors import Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import DueDate, WorkCalendar, local_date, today_shanghai
from jianguan.core.workflow import Context
from jianguan.db import utcnow
from jianguan.entities.models import Entity
from jianguan.inspections.models import Inspection
from jianguan.officers.models import Agency

REQUESTED, ACCEPTED, ANSWERED, CLOSED, DECLINED, WITHDRAWN = (
    "requested", "accepted", "answered", "closed", "declined", "withdrawn")
KINDS = {"inspect": N_("Inspect on our behalf (协查)"), "assist": N_("Assist (协助)")}


@cache
def rules() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "data" / "assist.yaml").read_text("utf-8"))
    return data


def accept_due(record: AssistRequest, calendar: WorkCalendar) -> DueDate:
    start = local_date(record.created_at) if record.created_at is not None else today_shanghai()
    return calendar.add_working_days(start, int(rules()["accept_working_days"]))


def answer_due(record: AssistRequest, calendar: WorkCalendar) -> DueDate:
    due = calendar.add_working_days(record.accepted_on or today_shanghai(), int(rules()["answer_working_days"]))
    if record.wanted_by is not None and record.wanted_by > due.date:
        return DueDate(record.wanted_by)
    return due


def _next_code(db: Session, year: int) -> str:
    prefix = f"XC{year}"
    last = db.scalar(select(func.max(AssistRequest.code)).where(AssistRequest.code.like(f"{prefix}%")))
    return f"{prefix}{int(last[len(prefix):]) + 1 if last else 1:06d}"


def request(db: Session, *, agency_id: int, kind: str, subject: str, reason: str, uscc: str = "",
            party_name: str = "", item_codes: list[str] | None = None, wanted_by: dt.date | None = None,
            actor: User) -> AssistRequest:
    """Ask another agency; every problem is reported at once, by field."""
    problems: list[Invalid] = []
    target = db.get(Agency, agency_id)
    if actor.agency_id is None:
        raise Forbidden(N_("Only an agency's staff may ask another agency."))
    if target is None:
        problems.append(Invalid("agency_id", N_("Choose the agency to ask.")))
    elif target.id == actor.agency_id:
        problems.append(Invalid("agency_id", N_("Ask another agency, not your own.")))
    if kind not in KINDS:
        problems.append(Invalid("kind", N_("Say whether they should inspect or assist.")))
    if len(subject.strip()) < 4:
        problems.append(Invalid("subject", N_("Give the request a subject (at least 4 characters).")))
    if len(reason.strip()) < 10:
        problems.append(Invalid("reason", N_("Say what is asked and why (at least 10 characters).")))
    entity = db.scalar(select(Entity).where(Entity.uscc == uscc.strip().upper())) if uscc.strip() else None
    if uscc.strip() and entity is None:
        problems.append(Invalid("uscc", N_("No entity in the registry has this code.")))
    if entity is None and not party_name.strip() and kind == "inspect":
        problems.append(Invalid("uscc", N_("Name the entity to inspect: its USCC, or its name.")))
    if wanted_by is not None and wanted_by < today_shanghai():
        problems.append(Invalid("wanted_by", N_("The date wanted cannot be in the past.")))
    if problems:
        raise Invalid.all(problems)
    assert target is not None
    record = AssistRequest(code=_next_code(db, today_shanghai().year), kind=kind, agency_id=target.id,
                           requested_by_agency_id=actor.agency_id, region_code=target.region_code,
                           entity_id=entity.id if entity else None,
                           party_name=entity.name if entity else party_name.strip(),
                           item_codes=sorted(set(item_codes or [])), subject=subject.strip(), reason=reason.strip(),
                           wanted_by=wanted_by, created_by=actor.id)
    workflow.start(db, record, workflow="assist_request", actor=actor, comment=reason.strip())
    audit.record(db, actor=actor, action="assist.request", object_type="assist_request", object_id=record.id,
                 detail={"code": record.code, "to": target.id, "kind": kind})
    _tell(db, record, record.agency_id, kind="assist.requested", title=N_("Assistance asked of you: {code}"),
          actor=actor)
    return record


def _tell(db: Session, record: AssistRequest, agency_id: int, *, kind: str, title: str, actor: User | None) -> None:
    from jianguan.notify import service as notify
    from jianguan.officers.service import staff_of

    users = [u.id for u in staff_of(db, agency_ids=[agency_id], roles=[Role.leader, Role.officer, Role.agency_admin])]
    if users:
        notify.send(db, user_ids=users, kind=kind, title=title, params={"code": record.code},
                    link=f"/collab/assist/{record.id}", actor=actor)


def may_see(record: AssistRequest, actor: User) -> bool:
    return actor.is_system_admin or actor.agency_id in (record.agency_id, record.requested_by_agency_id) \
        or can_see(record, actor)


def get(db: Session, *, request_id: int, actor: User) -> AssistRequest:
    record = db.get(AssistRequest, request_id)
    if record is None or not may_see(record, actor):
        raise NotFound()
    return record


def listing(db: Session, *, actor: User, direction: str = "", state: str = "", limit: int = 300) -> list[AssistRequest]:
    """Requests to the actor's agency (``incoming``), from it (``outgoing``), or both and what its scope covers."""
    mine = actor.agency_id if actor.agency_id is not None else -1
    if direction == "incoming":
        where: Any = AssistRequest.agency_id == mine
    elif direction == "outgoing":
        where = AssistRequest.requested_by_agency_id == mine
    else:
        where = or_(AssistRequest.agency_id == mine, AssistRequest.requested_by_agency_id == mine,
                    visible(AssistRequest, actor))
    stmt = select(AssistRequest).where(where).order_by(AssistRequest.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(AssistRequest.state == state)
    return list(db.scalars(stmt))


def act(db: Session, *, request_id: int, action: str, comment: str = "", payload: dict[str, Any] | None = None,
        expected_version: int | None = None, actor: User) -> AssistRequest:
    record = get(db, request_id=request_id, actor=actor)
    workflow.act(db, record, action=action, actor=actor, comment=comment, payload=payload or {},
                 expected_version=expected_version)
    return record


# --------------------------------------------------------------------------- the loop's guards


def asker(record: Any, actor: User | None) -> bool:
    """A ``permit``: the agency that asked."""
    return actor is None or actor.is_system_admin or actor.agency_id == record.requested_by_agency_id


def accepting(ctx: Context) -> None:
    ctx.record.accepted_on = today_shanghai()


def sending_back(ctx: Context) -> None:
    """The answer does not settle it: with the reason, and a new period to answer."""
    workflow.reason_required(ctx)
    ctx.record.accepted_on = today_shanghai()


def declining(ctx: Context) -> None:
    workflow.reason_required(ctx)
    ctx.record.decline_reason = ctx.comment
    _tell(ctx.db, ctx.record, ctx.record.requested_by_agency_id, kind="assist.declined",
          title=N_("Assistance declined: {code}"), actor=ctx.actor)


def answering(ctx: Context) -> None:
    """The result in words, and the inspection that gave it when there was one (of this agency)."""
    record: AssistRequest = ctx.record
    if len(ctx.comment) < 10:
        raise Invalid("comment", N_("Write the result (at least 10 characters)."))
    code = str(ctx.payload.get("inspection_code") or "").strip()
    if code:
        found = ctx.db.scalar(select(Inspection).where(Inspection.code == code))
        if found is None or found.agency_id != record.agency_id:
            raise Invalid("inspection_code", N_("No inspection of your agency has this code."))
        if record.entity_id is not None and found.entity_id != record.entity_id:
            raise Invalid("inspection_code", N_("That inspection is of another entity."))
    elif record.kind == "inspect":
        raise Invalid("inspection_code", N_("Name the inspection that answers this request."))
    record.result, record.result_ref, record.answered_at = ctx.comment, code, utcnow()
    _tell(ctx.db, record, record.requested_by_agency_id, kind="assist.answered",
          title=N_("Assistance answered: {code}"), actor=ctx.actor)


def figures(db: Session, *, actor: User) -> dict[str, Any]:
    """Requests by state and how many were answered late, for the agency's board."""
    rows = listing(db, actor=actor, limit=10_000)
    today = today_shanghai()
    return {"incoming": sum(r.agency_id == actor.agency_id for r in rows),
            "outgoing": sum(r.requested_by_agency_id == actor.agency_id for r in rows),
            "open": sum(r.state in (REQUESTED, ACCEPTED) for r in rows),
            "overdue": sum(r.state in (REQUESTED, ACCEPTED) and r.due_date is not None and r.due_date < today
                           for r in rows)}
