"""账号申请 — the account-request loop, declared for the shared engine (core/workflow.py).

submitted ─approve→ approved (the account is created)   submitted ─reject→ rejected
submitted ─return→ returned ─resubmit→ submitted          returned ─expire→ expired (30 days, job)

The agency admin of the request's own agency (or a system admin) decides within 3 working days;
late requests escalate to the agency's admins, then also to the parent agency's admins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from jianguan.auth.models import AccountRequest, Role, User
from jianguan.core.errors import Conflict, Invalid
from jianguan.core.i18n import N_
from jianguan.core.workflow import PUBLIC, SYSTEM, Context, Deadline, Escalation, T, Workflow, register
from jianguan.officers.models import Agency

SUBMITTED, RETURNED, APPROVED, REJECTED, EXPIRED = "submitted", "returned", "approved", "rejected", "expired"
REVIEW_WORKING_DAYS = 3  # the agency admin reviews within 3 working days of submission
RETURNED_EXPIRY_DAYS = 30  # a returned request not resubmitted within 30 days lapses
ADMIN = Role.agency_admin.value


def admin_of_agency(record: Any, actor: User | None) -> bool:
    """Only the admins of the request's own agency decide (system admins anywhere)."""
    if actor is None:
        return False
    return actor.is_system_admin or (actor.has_role(ADMIN) and actor.agency_id == record.agency_id)


def requester_or_admin(record: Any, actor: User | None) -> bool:
    # actor None: the requester, whose token the service has checked.
    return actor is None or admin_of_agency(record, actor)


def comment_required(ctx: Context) -> None:
    if not ctx.comment:
        raise Invalid("comment", N_("Give the reason for this decision in the comment."))


def username_still_free(ctx: Context) -> None:
    taken = ctx.db.scalar(select(User.id).where(User.username == ctx.record.username))
    if taken is not None:
        raise Conflict(N_("The username {username} was taken after this request was made; "
                          "return the request so the requester can choose another."),
                       username=ctx.record.username)


def create_account(ctx: Context) -> None:
    """Approval creates the account, with the password the requester chose (only its hash was kept)."""
    from jianguan.auth.service import create_user

    request: AccountRequest = ctx.record
    user = create_user(
        ctx.db,
        username=request.username,
        display_name=request.display_name,
        password=None,
        password_hash=request.password_hash,
        roles=request.requested_roles,
        agency_id=request.agency_id,
        phone=request.phone,
        actor=ctx.actor,
    )
    request.created_user_id = user.id
    request.decision_comment = ctx.comment


def keep_comment(ctx: Context) -> None:
    ctx.record.decision_comment = ctx.comment


def _admins(db: Session, agency_ids: Iterable[int | None]) -> set[int]:
    from jianguan.officers.service import admins_of

    return {u.id for a in agency_ids if a is not None for u in admins_of(db, agency_id=a)}


def _system_admins(db: Session) -> set[int]:
    like = f'%"{Role.system_admin.value}"%'  # cheap pre-filter on the JSON text; exact check below
    users = db.scalars(select(User).where(cast(User.roles, String).like(like), User.is_active)).all()
    return {u.id for u in users if u.is_system_admin}


def recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    """The agency's admins; from 督办 (level 2) on, the parent agency's admins too.

    When nobody can be found (an agency without admins) the system admins are told, so a late
    request is never escalated to no one.
    """
    agency = db.get(Agency, record.agency_id)
    agency_ids: list[int | None] = [record.agency_id]
    if escalation.level >= 2 and agency is not None:
        agency_ids.append(agency.parent_id)
    return _admins(db, agency_ids) or _system_admins(db)


ACCOUNT_REQUEST = register(
    Workflow(
        "account_request",
        model=AccountRequest,
        label=N_("Account request"),
        states=(SUBMITTED, RETURNED, APPROVED, REJECTED, EXPIRED),
        initial=SUBMITTED,
        transitions=[
            T("approve", SUBMITTED, APPROVED, roles={ADMIN}, permit=admin_of_agency,
              guard=username_still_free, effect=create_account),
            T("reject", (SUBMITTED, RETURNED), REJECTED, roles={ADMIN}, permit=admin_of_agency,
              guard=comment_required, effect=keep_comment),
            T("return", SUBMITTED, RETURNED, roles={ADMIN}, permit=admin_of_agency,
              guard=comment_required, effect=keep_comment),
            T("resubmit", RETURNED, SUBMITTED, roles={PUBLIC, ADMIN}, permit=requester_or_admin),
            T("expire", RETURNED, EXPIRED, roles={SYSTEM}),
        ],
        deadlines=[
            Deadline(SUBMITTED, working_days=REVIEW_WORKING_DAYS, escalate=[
                Escalation(1, "notify", after_working_days=0),
                Escalation(2, "督办", after_working_days=3),
                Escalation(3, "挂牌督办", after_working_days=10),
            ]),
            Deadline(RETURNED, days=RETURNED_EXPIRY_DAYS, escalate=[]),
        ],
        recipients=recipients,
        subject=lambda r: f"{r.display_name} ({r.username})",
        link=lambda r: f"/account-requests/{r.id}",
    )
)
