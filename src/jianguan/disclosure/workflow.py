"""公示 — a publication record on the shared engine.

pending ─publish→ published;  pending ─withhold→ withheld (reason: e.g. a court order, state secrets)

Due N working days after the inspection concluded (the period is stored on the record, so a later
change of the setting does not move old deadlines); the overdue scan flags late ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.core.i18n import N_
from jianguan.core.workflow import Context, Deadline, Escalation, T, Workflow, reason_required, register, same_agency
from jianguan.disclosure.models import Publication

if TYPE_CHECKING:
    from jianguan.core.workdays import DueDate, WorkCalendar

PENDING, PUBLISHED, WITHHELD = "pending", "published", "withheld"
PUBLISHERS = {Role.officer.value, Role.agency_admin.value, Role.leader.value, Role.system_admin.value}


def _due(record: Any, calendar: WorkCalendar) -> DueDate | None:
    return calendar.add_working_days(record.concluded_on, record.working_days)


def _published(ctx: Context) -> None:
    from jianguan.db import utcnow

    ctx.record.published_at = utcnow()


def _reason(ctx: Context) -> None:
    reason_required(ctx)
    ctx.record.withheld_reason = ctx.comment


def recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    users = db.scalars(select(User).where(User.is_active, User.agency_id == record.agency_id)).all()
    wanted = (Role.agency_admin, Role.leader) if escalation.level >= 2 else (Role.agency_admin,)
    return {u.id for u in users if u.has_role(*wanted)}


PUBLICATION = register(
    Workflow(
        "publication",
        model=Publication,
        label=N_("Publication of a result"),
        states=(PENDING, PUBLISHED, WITHHELD),
        initial=PENDING,
        transitions=[
            T("publish", PENDING, PUBLISHED, roles=PUBLISHERS, permit=same_agency, effect=_published),
            T("withhold", PENDING, WITHHELD, roles={Role.leader.value, Role.system_admin.value},
              permit=same_agency, guard=_reason),
        ],
        deadlines=[Deadline(PENDING, on=_due)],
        recipients=recipients,
        subject=lambda r: r.title,
        link=lambda r: "/disclosure",
    )
)
