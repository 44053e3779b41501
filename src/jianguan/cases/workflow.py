"""The penalty case on the shared engine — its first steps so far:

lead ─file→ filed          (负责人决定立案; refused when the limitation period has run, with why)
lead ─decline→ not_filed   (不予立案, with the reason)
lead ─extend→ lead         (once, with approval: 15 more working days to decide)

The lead must be decided within 15 working days (SAMR 程序规定第十八条); a filed case within 90 days
(第六十四条; suspensions and the 30-day extension come with the investigation steps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.cases.models import Case
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workflow import Context, Deadline, Escalation, T, Workflow, reason_required, register, same_agency

if TYPE_CHECKING:
    from jianguan.core.workdays import DueDate, WorkCalendar

LEAD, FILED, NOT_FILED = "lead", "filed", "not_filed"
DECIDERS = {Role.leader.value, Role.system_admin.value}


# Guards that pass also set what the new state's deadline is computed from (it is set on entering).


def _extendable(ctx: Context) -> None:
    reason_required(ctx)
    if ctx.record.filing_extended:
        raise Invalid("filing_extended", N_("The period to decide on filing can be extended only once."))
    ctx.record.filing_extended = True


def _in_time(ctx: Context) -> None:
    from jianguan.cases import deadlines, service

    record: Case = ctx.record
    deadlines.check_limitation(act_ended_on=record.act_ended_on or record.discovered_on,
                               discovered_on=record.discovered_on, severe=record.severe)
    record.filed_on = service.today()


def _declined(ctx: Context) -> None:
    ctx.record.not_filed_reason = ctx.comment


def _filing_due(record: Any, calendar: WorkCalendar) -> DueDate:
    from jianguan.cases import deadlines

    return deadlines.filing_due(calendar, record.lead_on, extended=record.filing_extended)


def _decision_due(record: Any, calendar: WorkCalendar) -> DueDate | None:
    from jianguan.cases import deadlines

    return deadlines.decision_due(calendar, record.filed_on) if record.filed_on else None


def _recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    users = db.scalars(select(User).where(User.is_active, User.agency_id == record.agency_id)).all()
    wanted = (Role.leader,) if escalation.level >= 2 else (Role.leader, Role.officer)
    return {u.id for u in users if u.has_role(*wanted)}


CASE = register(
    Workflow(
        "case",
        model=Case,
        label=N_("Penalty case"),
        states=(LEAD, FILED, NOT_FILED),
        initial=LEAD,
        transitions=[
            T("extend", LEAD, LEAD, roles=DECIDERS, permit=same_agency, guard=_extendable),
            T("file", LEAD, FILED, roles=DECIDERS, permit=same_agency, guard=_in_time),
            T("decline", LEAD, NOT_FILED, roles=DECIDERS, permit=same_agency, guard=reason_required, effect=_declined),
        ],
        deadlines=[Deadline(LEAD, on=_filing_due), Deadline(FILED, on=_decision_due)],
        recipients=_recipients,
        subject=lambda r: f"{r.code} {r.title[:30]}",
        link=lambda r: f"/cases/{r.id}",
    )
)
