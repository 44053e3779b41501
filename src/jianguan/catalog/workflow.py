"""事项审批 — admission, adjustment and exit of catalog items, declared for the shared engine.

draft ─submit→ under_review ─pass_review→ awaiting_approval ─approve→ in_force   (admission, adjustment)
                                                             ─approve_exit→ retired (exit)
under_review / awaiting_approval ─return→ draft   ─reject→ rejected
in_force ─supersede→ superseded (system: a newer version of the item came into force)
draft ─load→ in_force (system: the catalog shipped with the package, loaded by ``jianguan catalog load``)

The proposer drafts and submits; a legal reviewer (法制审核) checks the basis within 5 working days;
a leader approves within 5 working days. Nobody reviews or approves their own proposal.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.catalog.models import ItemVersion
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.core.workflow import SYSTEM, Context, Deadline, Escalation, T, Workflow, register

DRAFT, UNDER_REVIEW, AWAITING_APPROVAL = "draft", "under_review", "awaiting_approval"
IN_FORCE, SUPERSEDED, RETIRED, REJECTED = "in_force", "superseded", "retired", "rejected"
EDITABLE = frozenset({DRAFT})
PROPOSERS = {Role.officer.value, Role.agency_admin.value, Role.system_admin.value}
REVIEWERS = {Role.legal_reviewer.value, Role.system_admin.value}
APPROVERS = {Role.leader.value, Role.system_admin.value}


def comment_required(ctx: Context) -> None:
    if not ctx.comment:
        raise Invalid("comment", N_("Give the reason for this decision in the comment."))


def not_own_proposal(ctx: Context) -> None:
    """Four eyes: the proposer neither reviews nor approves the same version."""
    if ctx.actor is not None and ctx.record.proposed_by == ctx.actor.id:
        raise Forbidden(N_("You proposed this change; another person must review and approve it."))


def decision(ctx: Context) -> None:
    not_own_proposal(ctx)
    comment_required(ctx)


def is_exit(record: Any, actor: User | None) -> bool:
    return bool(record.change == "exit")


def not_exit(record: Any, actor: User | None) -> bool:
    return not is_exit(record, actor)


def _ready(ctx: Context) -> None:
    from jianguan.catalog import service

    service.ensure_complete(ctx.db, ctx.record)


def _into_force(ctx: Context) -> None:
    from jianguan.catalog import service

    service.bring_into_force(ctx.db, ctx.record, actor=ctx.actor)


def _retire(ctx: Context) -> None:
    from jianguan.catalog import service

    service.retire_item(ctx.db, ctx.record, actor=ctx.actor)


def recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    """Who must act: the legal reviewers (review) or the leaders (approval); from 督办 on, the system
    admins too. Never the proposer, who cannot decide it anyway."""
    wanted = {UNDER_REVIEW: Role.legal_reviewer, AWAITING_APPROVAL: Role.leader}.get(record.state)
    users = db.scalars(select(User).where(User.is_active)).all()
    out = {u.id for u in users if wanted is not None and u.has_role(wanted)}
    if escalation.level >= 2 or not out:
        out |= {u.id for u in users if u.is_system_admin}
    out.discard(record.proposed_by)
    return out


ITEM_VERSION = register(
    Workflow(
        "catalog_item",
        model=ItemVersion,
        label=N_("Catalog item change"),
        states=(DRAFT, UNDER_REVIEW, AWAITING_APPROVAL, IN_FORCE, SUPERSEDED, RETIRED, REJECTED),
        initial=DRAFT,
        transitions=[
            T("submit", DRAFT, UNDER_REVIEW, roles=PROPOSERS, guard=_ready),
            T("pass_review", UNDER_REVIEW, AWAITING_APPROVAL, roles=REVIEWERS, guard=not_own_proposal),
            T("return", (UNDER_REVIEW, AWAITING_APPROVAL), DRAFT, roles=REVIEWERS | APPROVERS, guard=decision),
            T("reject", (UNDER_REVIEW, AWAITING_APPROVAL), REJECTED, roles=REVIEWERS | APPROVERS, guard=decision),
            T("approve", AWAITING_APPROVAL, IN_FORCE, roles=APPROVERS, permit=not_exit, guard=not_own_proposal,
              effect=_into_force),
            T("approve_exit", AWAITING_APPROVAL, RETIRED, roles=APPROVERS, permit=is_exit, guard=not_own_proposal,
              effect=_retire),
            T("supersede", IN_FORCE, SUPERSEDED, roles={SYSTEM}),
            # The package's published catalog (``jianguan catalog load``) comes into force as shipped.
            T("load", DRAFT, IN_FORCE, roles={SYSTEM}, effect=_into_force),
        ],
        deadlines=[Deadline(UNDER_REVIEW, working_days=5), Deadline(AWAITING_APPROVAL, working_days=5)],
        recipients=recipients,
        subject=lambda r: f"{r.item.code} v{r.number} {r.name}",
        link=lambda r: f"/catalog/items/{r.item_id}?version={r.number}",
    )
)
