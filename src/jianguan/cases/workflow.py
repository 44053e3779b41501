"""The penalty case on the shared engine, from the lead to the archive (domain-rules §4):

lead ─file→ filed ─report→ reviewing ─approve→ reviewed ─notify→ notified ─decide→ decided ─serve→ served
  │            ↑  send_back ─┘     ↑                  │      request_hearing ↓           │ │   ─execute→ executed
  └decline→ not_filed               └── hold_hearing ─ hearing ←───────────┘            │ └apply_enforcement→ enforcing
                                                                                         └close (transfer only)
executed ─close→ closed ─archive→ archived

reviewed ─decide→ decided as well: no penalty or transfer to the judiciary (no notice needed), and the decision
after a hearing (which goes back through 法制审核). Self-steps: extend (filing, once), extend_decision (30 days,
once), discuss (集体讨论), record_statement, waive, defer (暂缓/分期). The rules of each step are in
cases/steps.py; each state's deadline is in the table ``deadlines`` below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.cases import steps
from jianguan.cases.models import Case
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workflow import Context, Deadline, Escalation, T, Workflow, reason_required, register, same_agency

if TYPE_CHECKING:
    from jianguan.core.workdays import DueDate, WorkCalendar

LEAD, FILED, NOT_FILED = "lead", "filed", "not_filed"
REVIEWING, REVIEWED, NOTIFIED, HEARING = "reviewing", "reviewed", "notified", "hearing"
DECIDED, SERVED, ENFORCING, EXECUTED, CLOSED, ARCHIVED = "decided", "served", "enforcing", "executed", "closed", \
    "archived"
STATES = (LEAD, FILED, NOT_FILED, REVIEWING, REVIEWED, NOTIFIED, HEARING, DECIDED, SERVED, ENFORCING, EXECUTED,
          CLOSED, ARCHIVED)
OPEN_BEFORE_DECISION = (FILED, REVIEWING, REVIEWED, NOTIFIED, HEARING)

DECIDERS = {Role.leader.value, Role.system_admin.value}
HANDLERS = {Role.officer.value, Role.leader.value, Role.system_admin.value}
REVIEWERS = {Role.legal_reviewer.value, Role.system_admin.value}


# Guards that pass also set what the new state's deadline is computed from (it is set on entering).


def _extendable(ctx: Context) -> None:
    reason_required(ctx)
    if ctx.record.filing_extended:
        raise Invalid("filing_extended", N_("The period to decide on filing can be extended only once."))
    ctx.record.filing_extended = True


def _in_time(ctx: Context) -> None:
    from jianguan.cases import deadlines

    record: Case = ctx.record
    deadlines.check_limitation(act_ended_on=record.act_ended_on or record.discovered_on,
                               discovered_on=record.discovered_on, severe=record.severe)
    record.filed_on = steps.today()


def _declining(ctx: Context) -> None:
    reason_required(ctx)
    ctx.record.not_filed_reason = ctx.comment


def _filed(ctx: Context) -> None:
    from jianguan.cases import documents

    documents.filing_form(ctx.db, ctx.record, actor=ctx.actor, filed=ctx.to_state == FILED)


def _reported(ctx: Context) -> None:
    from jianguan.cases import documents

    documents.investigation_report(ctx.db, ctx.record, actor=ctx.actor)


def _approved(ctx: Context) -> None:
    from jianguan.cases import documents

    documents.review_form(ctx.db, ctx.record, actor=ctx.actor)


def _noticed(ctx: Context) -> None:
    from jianguan.cases import documents

    documents.prior_notice(ctx.db, ctx.record, actor=ctx.actor)


def _hearing_noticed(ctx: Context) -> None:
    from jianguan.cases import documents

    documents.hearing_notice(ctx.db, ctx.record, actor=ctx.actor)


def _filing_due(record: Any, calendar: WorkCalendar) -> DueDate:
    from jianguan.cases import deadlines

    return deadlines.filing_due(calendar, record.lead_on, extended=record.filing_extended)


def _recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    users = db.scalars(select(User).where(User.is_active, User.agency_id == record.agency_id)).all()
    wanted = (Role.leader,) if escalation.level >= 2 else (Role.leader, Role.officer)
    return {u.id for u in users if u.has_role(*wanted)}


_mine = same_agency
CASE = register(
    Workflow(
        "case",
        model=Case,
        label=N_("Penalty case"),
        states=STATES,
        initial=LEAD,
        transitions=[
            T("extend", LEAD, LEAD, roles=DECIDERS, permit=_mine, guard=_extendable),
            T("file", LEAD, FILED, roles=DECIDERS, permit=_mine, guard=_in_time, effect=_filed),
            T("decline", LEAD, NOT_FILED, roles=DECIDERS, permit=_mine, guard=_declining, effect=_filed),
            T("decide_on_spot", LEAD, SERVED, roles=HANDLERS, permit=_mine, guard=steps.on_the_spot,
              effect=steps.decided_on_the_spot),
            T("report", FILED, REVIEWING, roles=HANDLERS, permit=_mine, guard=steps.report, effect=_reported),
            T("send_back", REVIEWING, FILED, roles=REVIEWERS, permit=_mine, guard=steps.send_back),
            T("approve", REVIEWING, REVIEWED, roles=REVIEWERS, permit=_mine, guard=steps.approve, effect=_approved),
            *[T("discuss", s, s, roles=DECIDERS, permit=_mine, guard=steps.discuss) for s in (REVIEWED, NOTIFIED)],
            *[T("extend_decision", s, s, roles=DECIDERS, permit=_mine, guard=steps.extend_decision)
              for s in OPEN_BEFORE_DECISION],
            T("notify", REVIEWED, NOTIFIED, roles=HANDLERS, permit=_mine, guard=steps.notify, effect=_noticed),
            T("record_statement", NOTIFIED, NOTIFIED, roles=HANDLERS, permit=_mine, guard=steps.record_statement),
            T("waive", NOTIFIED, NOTIFIED, roles=HANDLERS, permit=_mine, guard=steps.waive),
            T("request_hearing", NOTIFIED, HEARING, roles=HANDLERS, permit=_mine, guard=steps.request_hearing,
              effect=_hearing_noticed),
            T("hold_hearing", HEARING, REVIEWING, roles=HANDLERS, permit=_mine, guard=steps.hold_hearing),
            T("decide", (NOTIFIED, REVIEWED), DECIDED, roles=DECIDERS, permit=_mine, guard=steps.decide,
              effect=steps.decided),
            T("serve", DECIDED, SERVED, roles=HANDLERS, permit=_mine, guard=steps.serve, effect=steps.served),
            T("defer", SERVED, SERVED, roles=DECIDERS, permit=_mine, guard=steps.defer),
            T("apply_enforcement", SERVED, ENFORCING, roles=HANDLERS, permit=_mine, guard=steps.apply_enforcement),
            T("execute", (SERVED, ENFORCING), EXECUTED, roles=HANDLERS, permit=_mine, guard=steps.execute),
            T("close", (EXECUTED, DECIDED), CLOSED, roles=DECIDERS, permit=_mine, guard=steps.close,
              effect=steps.closed),
            T("archive", CLOSED, ARCHIVED, roles=HANDLERS, permit=_mine, guard=steps.archive),
        ],
        deadlines=[
            Deadline(LEAD, on=_filing_due),
            *[Deadline(s, on=steps.decision_due) for s in (FILED, REVIEWED, NOTIFIED)],
            Deadline(REVIEWING, on=steps.review_due),
            Deadline(HEARING, on=steps.hearing_due),
            Deadline(DECIDED, on=steps.service_due),
            Deadline(SERVED, on=steps.payment_due),
            Deadline(EXECUTED, on=steps.closing_due),
        ],
        recipients=_recipients,
        subject=lambda r: f"{r.code} {r.title[:30]}",
        link=lambda r: f"/cases/{r.id}",
    )
)
