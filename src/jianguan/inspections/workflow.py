"""The inspection loops declared for the shared engine: the plan (检查计划审批), the inspection itself (the
six steps) and its findings (整改).

Plan:

draft ─submit→ awaiting_approval ─approve→ approved ─begin→ in_progress ─close→ closed
awaiting_approval ─return→ draft  ─reject→ rejected;  draft / approved ─cancel→ cancelled

Submitting checks the plan is complete and no item is on the negative list. A leader other than the
author approves within 5 working days; approval files the plan (备案) with the agency above, whose
admins and leaders are told. A double-random plan may begin only after a valid draw; an unannounced
plan's draw stays sealed until it begins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.core.errors import Forbidden
from jianguan.core.i18n import N_
from jianguan.core.workflow import (
    SYSTEM,
    Context,
    Deadline,
    Effect,
    Escalation,
    Guard,
    T,
    Workflow,
    reason_required,
    register,
    same_agency,
)
from jianguan.inspections.models import Finding, Inspection, InspectionPlan, MatterTask, SupervisionMatter

if TYPE_CHECKING:
    from jianguan.core.workdays import DueDate, WorkCalendar

DRAFT, AWAITING_APPROVAL, APPROVED, IN_PROGRESS = "draft", "awaiting_approval", "approved", "in_progress"
CLOSED, REJECTED, CANCELLED = "closed", "rejected", "cancelled"
EDITABLE = frozenset({DRAFT})
DRAWABLE = frozenset({APPROVED})
AUTHORS = {Role.officer.value, Role.agency_admin.value, Role.system_admin.value}
APPROVERS = {Role.leader.value, Role.system_admin.value}
RUNNERS = {Role.officer.value, Role.agency_admin.value, Role.leader.value, Role.system_admin.value}


def _not_own(ctx: Context) -> None:
    if ctx.actor is not None and ctx.record.created_by == ctx.actor.id:
        raise Forbidden(N_("You drew up this plan; another person must approve it."))


def _decision(ctx: Context) -> None:
    _not_own(ctx)
    reason_required(ctx)


def _ready(ctx: Context) -> None:
    from jianguan.inspections import service

    service.ensure_complete(ctx.db, ctx.record)


def _file(ctx: Context) -> None:
    from jianguan.inspections import service

    service.file_plan(ctx.db, ctx.record, actor=ctx.actor)


def _drawn(ctx: Context) -> None:
    from jianguan.inspections import draws

    draws.ensure_drawn(ctx.db, ctx.record)


def _all_done(ctx: Context) -> None:
    from jianguan.inspections import visits

    visits.ensure_plan_done(ctx.db, ctx.record)


def _create_inspections(ctx: Context) -> None:
    from jianguan.inspections import draws, visits

    draw = draws.current_draw(ctx.db, ctx.record)
    assert draw is not None  # the guard saw to it
    visits.create_from_draw(ctx.db, ctx.record, draw, actor=ctx.actor)


def recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    """The plan's agency leaders decide; from 督办 on, its admins are told too."""
    users = db.scalars(select(User).where(User.is_active, User.agency_id == record.agency_id)).all()
    out = {u.id for u in users if u.has_role(Role.leader)}
    if escalation.level >= 2 or not out:
        out |= {u.id for u in users if u.has_role(Role.agency_admin)}
    out.discard(record.created_by or -1)
    return out


PLAN = register(
    Workflow(
        "inspection_plan",
        model=InspectionPlan,
        label=N_("Inspection plan"),
        states=(DRAFT, AWAITING_APPROVAL, APPROVED, IN_PROGRESS, CLOSED, REJECTED, CANCELLED),
        initial=DRAFT,
        transitions=[
            T("submit", DRAFT, AWAITING_APPROVAL, roles=AUTHORS, permit=same_agency, guard=_ready),
            T("approve", AWAITING_APPROVAL, APPROVED, roles=APPROVERS, permit=same_agency, guard=_not_own,
              effect=_file),
            T("return", AWAITING_APPROVAL, DRAFT, roles=APPROVERS, permit=same_agency, guard=_decision),
            T("reject", AWAITING_APPROVAL, REJECTED, roles=APPROVERS, permit=same_agency, guard=_decision),
            T("begin", APPROVED, IN_PROGRESS, roles=RUNNERS, permit=same_agency, guard=_drawn,
              effect=_create_inspections),
            T("close", IN_PROGRESS, CLOSED, roles=APPROVERS | {Role.agency_admin.value}, permit=same_agency,
              guard=_all_done),
            T("cancel", (DRAFT, APPROVED), CANCELLED, roles=AUTHORS | APPROVERS, permit=same_agency,
              guard=reason_required),
        ],
        deadlines=[Deadline(AWAITING_APPROVAL, working_days=5)],
        recipients=recipients,
        subject=lambda r: f"{r.code} {r.title}",
        link=lambda r: f"/inspections/plans/{r.id}",
    )
)


# --------------------------------------------------------------------------- the six-step loop

NOTICE, PREPARING, READY, ON_SITE = "notice", "preparing", "ready", "on_site"
FEEDBACK, RECTIFYING, REVIEWING, DONE = "feedback", "rectifying", "reviewing", "closed"
VISIT_STATES = (NOTICE, PREPARING, READY, ON_SITE, FEEDBACK, RECTIFYING, REVIEWING, DONE, CANCELLED)
FIELD = {Role.officer.value, Role.leader.value, Role.agency_admin.value, Role.system_admin.value}
NOTICE_WORKING_DAYS = 5  # 检查通知 at least 5 working days before the visit (domain-rules §3.2)
FEEDBACK_WORKING_DAYS = 5  # 反馈意见书 within 5 working days of the visit


def _visit_guard(name: str) -> Guard:
    def guard(ctx: Context) -> None:
        from jianguan.inspections import visit_guards

        getattr(visit_guards, name)(ctx)

    return guard


def _visit_effect(name: str) -> Effect:
    return _visit_guard(name)


def on_team(record: Any, actor: User | None) -> bool:
    """The inspection's own officers act on it; its agency's leaders and admins too."""
    from jianguan.inspections import visits

    return visits.on_team(record, actor)




def _notice_due(record: Any, calendar: WorkCalendar) -> DueDate | None:
    if record.scheduled_on is None:
        return None
    return calendar.working_days_before(record.scheduled_on, NOTICE_WORKING_DAYS)


INSPECTION = register(
    Workflow(
        "inspection",
        model=Inspection,
        label=N_("Inspection"),
        states=VISIT_STATES,
        initial=NOTICE,
        transitions=[
            T("send_notice", NOTICE, PREPARING, roles=FIELD, permit=on_team, guard=_visit_guard("notice_in_time"),
              effect=_visit_effect("notice_sent")),
            T("skip_notice", NOTICE, PREPARING, roles=FIELD, permit=on_team, guard=_visit_guard("notice_skippable")),
            T("approve_preparation", PREPARING, READY, roles=APPROVERS, permit=same_agency,
              guard=_visit_guard("prepared"), effect=_visit_effect("copy_departments")),
            T("start_visit", READY, ON_SITE, roles=FIELD, permit=on_team, guard=_visit_guard("credentials_shown"),
              effect=_visit_effect("visit_started")),
            T("finish_visit", ON_SITE, FEEDBACK, roles=FIELD, permit=on_team, guard=_visit_guard("visit_complete"),
              effect=_visit_effect("visit_finished")),
            T("send_feedback", FEEDBACK, RECTIFYING, roles=FIELD, permit=on_team, guard=_visit_guard("has_findings"),
              effect=_visit_effect("feedback_sent")),
            T("conclude", FEEDBACK, DONE, roles=FIELD, permit=on_team, guard=_visit_guard("no_findings"),
              effect=_visit_effect("concluded")),
            T("review", RECTIFYING, REVIEWING, roles=FIELD, permit=on_team, guard=_visit_guard("ready_for_review")),
            T("reopen", REVIEWING, RECTIFYING, roles=FIELD, permit=on_team, guard=reason_required),
            T("close", REVIEWING, DONE, roles=FIELD, permit=on_team, guard=_visit_guard("all_accepted"),
              effect=_visit_effect("concluded")),
            T("cancel", (NOTICE, PREPARING, READY), CANCELLED, roles=APPROVERS, permit=same_agency,
              guard=reason_required),
        ],
        deadlines=[Deadline(NOTICE, on=_notice_due), Deadline(FEEDBACK, working_days=FEEDBACK_WORKING_DAYS)],
        recipients=lambda db, record, escalation: _visit_recipients(db, record, escalation),
        recipients_many=lambda db, ids, escalation: _visit_recipients_many(db, ids, escalation),
        subject=lambda r: f"{r.code}",
        link=lambda r: f"/inspections/visits/{r.id}",
    )
)


def _visit_recipients_many(db: Session, ids: Any, escalation: Escalation) -> dict[int, set[int]]:
    from jianguan.inspections import visits

    return visits.recipients_many(db, ids, escalation)


def _visit_recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    from jianguan.inspections import visits

    return visits.recipients(db, record, escalation)


# Findings (问题) → rectification (整改): the entity (or the officer for it, on paper) submits a plan, then
# evidence; the officer accepts or rejects with a reason. Overdue or rejected twice: 督办, then 挂牌督办.
OPEN, PLAN_SUBMITTED, EVIDENCE_SUBMITTED, ACCEPTED, TRANSFERRED = (
    "open", "plan_submitted", "evidence_submitted", "accepted", "transferred")
RECTIFIERS = FIELD | {Role.entity_user.value}


def _rectify_by(record: Any, calendar: WorkCalendar) -> DueDate | None:
    from jianguan.core.workdays import DueDate

    return DueDate(record.rectify_by, not calendar.is_confirmed(record.rectify_by))


def _finding_on_team(record: Any, actor: User | None) -> bool:
    return on_team(record.inspection, actor)


def _finding_party(record: Any, actor: User | None) -> bool:
    from jianguan.inspections import visits

    return visits.may_rectify(record, actor)


FINDING = register(
    Workflow(
        "finding",
        model=Finding,
        label=N_("Finding"),
        states=(OPEN, PLAN_SUBMITTED, RECTIFYING, EVIDENCE_SUBMITTED, ACCEPTED, TRANSFERRED),
        initial=OPEN,
        transitions=[
            T("submit_plan", OPEN, PLAN_SUBMITTED, roles=RECTIFIERS, permit=_finding_party,
              guard=_visit_guard("plan_given")),
            T("approve_plan", PLAN_SUBMITTED, RECTIFYING, roles=FIELD, permit=_finding_on_team),
            T("reject_plan", PLAN_SUBMITTED, OPEN, roles=FIELD, permit=_finding_on_team, guard=reason_required),
            T("submit_evidence", (OPEN, RECTIFYING), EVIDENCE_SUBMITTED, roles=RECTIFIERS, permit=_finding_party,
              guard=_visit_guard("evidence_given")),
            T("accept", EVIDENCE_SUBMITTED, ACCEPTED, roles=FIELD, permit=_finding_on_team),
            T("reject", EVIDENCE_SUBMITTED, RECTIFYING, roles=FIELD, permit=_finding_on_team,
              guard=reason_required, effect=_visit_effect("rejected")),
            T("transfer_to_case", (OPEN, PLAN_SUBMITTED, RECTIFYING, EVIDENCE_SUBMITTED), TRANSFERRED, roles=FIELD,
              permit=_finding_on_team, guard=reason_required, effect=_visit_effect("transferred")),
        ],
        deadlines=[Deadline(OPEN, on=_rectify_by), Deadline(PLAN_SUBMITTED, on=_rectify_by),
                   Deadline(RECTIFYING, on=_rectify_by)],
        recipients=lambda db, record, escalation: _visit_recipients(db, record.inspection, escalation),
        subject=lambda r: f"{r.inspection.code} · {r.text[:30]}",
        link=lambda r: f"/inspections/visits/{r.inspection_id}#finding-{r.id}",
    )
)


# 督查: supervision of policy implementation. The list (纳入 / 调整 / 退出) and the round:
#
# draft ─admit→ admitted ─begin→ supervising ─complete→ completed
#                  └─────────── exit (with the reason) ───────────→ exited
# supervising ─follow_up→ followed_up  (a second 督查 takes over what is not done)
# admitted / supervising ─adjust→ the same state (the change and its reason recorded)
#
# Completing needs the three linked lists whole (三单联动): every problem has a responsible unit and
# person and at least one task, and every task is accepted (销号).
MATTER_DRAFT, ADMITTED, SUPERVISING, COMPLETED, FOLLOWED_UP, EXITED = (
    "draft", "admitted", "supervising", "completed", "followed_up", "exited")
MATTER_OFFICE = {Role.officer.value, Role.agency_admin.value, Role.leader.value, Role.system_admin.value}


def _matter_guard(name: str) -> Guard:
    def guard(ctx: Context) -> None:
        from jianguan.inspections import matters

        getattr(matters, name)(ctx)

    return guard


def _matter_due(record: Any, calendar: WorkCalendar) -> DueDate | None:
    from jianguan.core.workdays import DueDate

    return DueDate(record.due_on, not calendar.is_confirmed(record.due_on))


def _office_recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    from jianguan.inspections import matters

    return matters.recipients(db, record, escalation)


MATTER = register(
    Workflow(
        "matter",
        model=SupervisionMatter,
        label=N_("Supervision matter"),
        states=(MATTER_DRAFT, ADMITTED, SUPERVISING, COMPLETED, FOLLOWED_UP, EXITED),
        initial=MATTER_DRAFT,
        transitions=[
            # SYSTEM: a second round is admitted and started by the follow-up that makes it.
            T("admit", MATTER_DRAFT, ADMITTED, roles=APPROVERS | {SYSTEM}, permit=same_agency,
              guard=_matter_guard("not_own")),
            T("adjust", ADMITTED, ADMITTED, roles=MATTER_OFFICE, permit=same_agency, guard=reason_required),
            T("begin", ADMITTED, SUPERVISING, roles=MATTER_OFFICE | {SYSTEM}, permit=same_agency),
            T("adjust", SUPERVISING, SUPERVISING, roles=MATTER_OFFICE, permit=same_agency, guard=reason_required),
            T("complete", SUPERVISING, COMPLETED, roles=MATTER_OFFICE, permit=same_agency,
              guard=_matter_guard("lists_whole"), effect=_matter_guard("completed")),
            T("follow_up", SUPERVISING, FOLLOWED_UP, roles=MATTER_OFFICE, permit=same_agency,
              guard=_matter_guard("something_left"), effect=_matter_guard("second_round")),
            T("exit", (MATTER_DRAFT, ADMITTED, SUPERVISING), EXITED, roles=APPROVERS, permit=same_agency,
              guard=reason_required, effect=_matter_guard("exited")),
        ],
        deadlines=[Deadline(ADMITTED, on=_matter_due), Deadline(SUPERVISING, on=_matter_due)],
        recipients=_office_recipients,
        subject=lambda r: f"{r.code}",
        link=lambda r: f"/inspections/matters/{r.id}",
    )
)

TASK_OPEN, TASK_SUBMITTED, TASK_ACCEPTED = "open", "submitted", "accepted"


def _task_office(record: Any, actor: User | None) -> bool:
    return same_agency(record, actor)


def _task_owner(record: Any, actor: User | None) -> bool:
    """The owner unit's own account (政府部门 as 企业端 user), or the supervising office for it."""
    if actor is not None and actor.entity_id is not None and actor.has_role(Role.entity_user):
        return bool(actor.entity_id == record.unit_id)
    return same_agency(record, actor)


MATTER_TASK = register(
    Workflow(
        "matter_task",
        model=MatterTask,
        label=N_("Rectification task"),
        states=(TASK_OPEN, TASK_SUBMITTED, TASK_ACCEPTED),
        initial=TASK_OPEN,
        transitions=[
            T("submit", TASK_OPEN, TASK_SUBMITTED, roles=MATTER_OFFICE | {Role.entity_user.value},
              permit=_task_owner, guard=_matter_guard("task_evidence_given")),
            T("accept", TASK_SUBMITTED, TASK_ACCEPTED, roles=MATTER_OFFICE, permit=_task_office,
              effect=_matter_guard("task_accepted")),
            T("reject", TASK_SUBMITTED, TASK_OPEN, roles=MATTER_OFFICE, permit=_task_office,
              guard=reason_required, effect=_matter_guard("task_rejected")),
        ],
        deadlines=[Deadline(TASK_OPEN, on=_matter_due)],
        recipients=_office_recipients,
        subject=lambda r: f"{r.measures[:30]}",
        link=lambda r: f"/inspections/matters/{r.matter_id}#task-{r.id}",
    )
)
