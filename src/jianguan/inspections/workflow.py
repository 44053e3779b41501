"""检查计划审批 — an inspection plan's loop, declared for the shared engine.

draft ─submit→ awaiting_approval ─approve→ approved ─begin→ in_progress ─close→ closed
awaiting_approval ─return→ draft  ─reject→ rejected;  draft / approved ─cancel→ cancelled

Submitting checks the plan is complete and no item is on the negative list. A leader other than the
author approves within 5 working days; approval files the plan (备案) with the agency above, whose
admins and leaders are told. A double-random plan may begin only after a valid draw; an unannounced
plan's draw stays sealed until it begins.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.core.workflow import Context, Deadline, Escalation, T, Workflow, register
from jianguan.inspections.models import InspectionPlan

DRAFT, AWAITING_APPROVAL, APPROVED, IN_PROGRESS = "draft", "awaiting_approval", "approved", "in_progress"
CLOSED, REJECTED, CANCELLED = "closed", "rejected", "cancelled"
EDITABLE = frozenset({DRAFT})
DRAWABLE = frozenset({APPROVED})
AUTHORS = {Role.officer.value, Role.agency_admin.value, Role.system_admin.value}
APPROVERS = {Role.leader.value, Role.system_admin.value}
RUNNERS = {Role.officer.value, Role.agency_admin.value, Role.leader.value, Role.system_admin.value}


def _same_agency(record: Any, actor: User | None) -> bool:
    return actor is None or actor.is_system_admin or actor.agency_id == record.agency_id


def _comment_required(ctx: Context) -> None:
    if not ctx.comment:
        raise Invalid("comment", N_("Give the reason for this decision in the comment."))


def _not_own(ctx: Context) -> None:
    if ctx.actor is not None and ctx.record.created_by == ctx.actor.id:
        raise Forbidden(N_("You drew up this plan; another person must approve it."))


def _decision(ctx: Context) -> None:
    _not_own(ctx)
    _comment_required(ctx)


def _ready(ctx: Context) -> None:
    from jianguan.inspections import service

    service.ensure_complete(ctx.db, ctx.record)


def _file(ctx: Context) -> None:
    from jianguan.inspections import service

    service.file_plan(ctx.db, ctx.record, actor=ctx.actor)


def _drawn(ctx: Context) -> None:
    from jianguan.inspections import draws

    draws.ensure_drawn(ctx.db, ctx.record)


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
            T("submit", DRAFT, AWAITING_APPROVAL, roles=AUTHORS, permit=_same_agency, guard=_ready),
            T("approve", AWAITING_APPROVAL, APPROVED, roles=APPROVERS, permit=_same_agency, guard=_not_own,
              effect=_file),
            T("return", AWAITING_APPROVAL, DRAFT, roles=APPROVERS, permit=_same_agency, guard=_decision),
            T("reject", AWAITING_APPROVAL, REJECTED, roles=APPROVERS, permit=_same_agency, guard=_decision),
            T("begin", APPROVED, IN_PROGRESS, roles=RUNNERS, permit=_same_agency, guard=_drawn),
            T("close", IN_PROGRESS, CLOSED, roles=APPROVERS | {Role.agency_admin.value}, permit=_same_agency),
            T("cancel", (DRAFT, APPROVED), CANCELLED, roles=AUTHORS | APPROVERS, permit=_same_agency,
              guard=_comment_required),
        ],
        deadlines=[Deadline(AWAITING_APPROVAL, working_days=5)],
        recipients=recipients,
        subject=lambda r: f"{r.code} {r.title}",
        link=lambda r: f"/inspections/plans/{r.id}",
    )
)
