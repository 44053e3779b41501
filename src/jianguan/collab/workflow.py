"""The complaint loop on the shared engine:

received ─accept→ accepted ─take→ handling ─reply→ replied ─close→ closed ─reopen→ handling (once, by the complainant)
    │ └transfer→ received (another agency, with the reason; counted)
    ├reject→ rejected (with the reason)
    └merge→ merged (a duplicate follows its master)

Deadlines are data (collab/data/handling.yaml): acceptance within 7 working days of receipt, the
reply within the kind's working days of acceptance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.collab.models import Complaint
from jianguan.core.i18n import N_
from jianguan.core.workflow import PUBLIC, Deadline, Escalation, T, Workflow, reason_required, register, same_agency

if TYPE_CHECKING:
    from jianguan.core.workdays import DueDate, WorkCalendar

RECEIVED, ACCEPTED, HANDLING, REPLIED, CLOSED, REJECTED, MERGED = (
    "received", "accepted", "handling", "replied", "closed", "rejected", "merged")
STAFF = {Role.officer.value, Role.leader.value, Role.agency_admin.value, Role.system_admin.value}


def _guard(name: str) -> Any:
    def guard(ctx: Any) -> None:
        from jianguan.collab import service

        getattr(service, name)(ctx)

    return guard


def _accept_due(record: Any, calendar: WorkCalendar) -> DueDate:
    from jianguan.collab import service

    return service.accept_due(record, calendar)


def _reply_due(record: Any, calendar: WorkCalendar) -> DueDate | None:
    from jianguan.collab import service

    return service.reply_due(record, calendar)


def _recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    if record.agency_id is None:
        return set()
    users = db.scalars(select(User).where(User.is_active, User.agency_id == record.agency_id)).all()
    wanted = (Role.leader,) if escalation.level >= 2 else (Role.leader, Role.officer)
    return {u.id for u in users if u.has_role(*wanted)}


COMPLAINT = register(
    Workflow(
        "complaint",
        model=Complaint,
        label=N_("Complaint"),
        states=(RECEIVED, ACCEPTED, HANDLING, REPLIED, CLOSED, REJECTED, MERGED),
        initial=RECEIVED,
        transitions=[
            T("accept", RECEIVED, ACCEPTED, roles=STAFF, permit=same_agency, guard=_guard("accepting")),
            T("reject", RECEIVED, REJECTED, roles=STAFF, permit=same_agency, guard=_guard("rejecting")),
            T("transfer", (RECEIVED, ACCEPTED), RECEIVED, roles=STAFF, permit=same_agency,
              guard=_guard("transferring")),
            T("take", ACCEPTED, HANDLING, roles=STAFF, permit=same_agency, guard=_guard("taking")),
            T("reply", HANDLING, REPLIED, roles=STAFF, permit=same_agency, guard=_guard("replying")),
            T("close", REPLIED, CLOSED, roles=STAFF, permit=same_agency),
            T("reopen", (REPLIED, CLOSED), HANDLING, roles={PUBLIC}, guard=_guard("reopening")),
            T("merge", (RECEIVED, ACCEPTED, HANDLING), MERGED, roles=STAFF, permit=same_agency,
              guard=reason_required),
        ],
        deadlines=[Deadline(RECEIVED, on=_accept_due), Deadline(ACCEPTED, on=_reply_due),
                   Deadline(HANDLING, on=_reply_due)],
        recipients=_recipients,
        subject=lambda r: f"{r.number}",
        link=lambda r: f"/complaints/{r.id}",
    )
)
