"""The complaint loop on the shared engine:

received ─accept→ accepted ─take→ handling ─reply→ replied ─close→ closed ─reopen→ handling (once, by the complainant)
    │ └transfer→ received (another agency, with the reason; counted)
    ├reject→ rejected (with the reason)
    └merge→ merged (a duplicate follows its master)

Deadlines are data (collab/data/handling.yaml): acceptance within 7 working days of receipt, the
reply within the kind's working days of acceptance.

Also declared here: the joint task (collab/joint.py) and the cross-region assistance request
(collab/assist.py), whose rules live in those modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from jianguan.auth.models import Role
from jianguan.collab.models import AssistRequest, Complaint, JointTask
from jianguan.core.i18n import N_
from jianguan.core.workflow import PUBLIC, Deadline, Escalation, T, Workflow, reason_required, register, same_agency

if TYPE_CHECKING:
    from jianguan.core.workdays import DueDate, WorkCalendar

RECEIVED, ACCEPTED, HANDLING, REPLIED, CLOSED, REJECTED, MERGED = (
    "received", "accepted", "handling", "replied", "closed", "rejected", "merged")
STAFF = {Role.officer.value, Role.leader.value, Role.agency_admin.value, Role.system_admin.value}


def _guard(name: str, module: str = "service") -> Any:
    """A guard living in ``jianguan.collab.<module>`` (imported late: those modules import this one's models)."""
    def guard(ctx: Any) -> None:
        getattr(importlib.import_module(f"jianguan.collab.{module}"), name)(ctx)

    return guard


def _call(module: str, name: str) -> Any:
    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(f"jianguan.collab.{module}"), name)(*args)

    return call


def _accept_due(record: Any, calendar: WorkCalendar) -> DueDate:
    from jianguan.collab import service

    return service.accept_due(record, calendar)


def _reply_due(record: Any, calendar: WorkCalendar) -> DueDate | None:
    from jianguan.collab import service

    return service.reply_due(record, calendar)


def _recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    """The record's agency: its leaders, and its officers too below 挂牌督办."""
    from jianguan.officers.service import staff_of

    if record.agency_id is None:
        return set()
    wanted = [Role.leader] if escalation.level >= 2 else [Role.leader, Role.officer]
    return {u.id for u in staff_of(db, agency_ids=[record.agency_id], roles=wanted)}


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


# 联合检查: see collab/joint.py.
PROPOSED, SCHEDULED, JOINT_CLOSED, CANCELLED = "proposed", "scheduled", "closed", "cancelled"
JOINT_TASK = register(
    Workflow(
        "joint_task",
        model=JointTask,
        label=N_("Joint task"),
        states=(PROPOSED, SCHEDULED, JOINT_CLOSED, CANCELLED),
        initial=PROPOSED,
        transitions=[
            T("agree", PROPOSED, PROPOSED, roles=STAFF, permit=_call("joint", "participant"),
              guard=_guard("agreeing", "joint")),
            T("schedule", PROPOSED, SCHEDULED, roles=STAFF, permit=same_agency, guard=_guard("scheduling", "joint")),
            T("close", SCHEDULED, JOINT_CLOSED, roles=STAFF, permit=same_agency, guard=_guard("closing", "joint")),
            T("cancel", (PROPOSED, SCHEDULED), CANCELLED, roles=STAFF, permit=same_agency,
              guard=_guard("cancelling", "joint")),
        ],
        deadlines=[Deadline(PROPOSED, working_days=3), Deadline(SCHEDULED, on=_call("joint", "scheduled_due"))],
        recipients=_recipients,
        subject=lambda r: f"{r.code}",
        link=lambda r: f"/collab/joint/{r.id}",
    )
)

# 跨区域协查 / 协助: see collab/assist.py.
REQUESTED, ASSIST_ACCEPTED, ANSWERED, ASSIST_CLOSED, DECLINED, WITHDRAWN = (
    "requested", "accepted", "answered", "closed", "declined", "withdrawn")
ASSIST = register(
    Workflow(
        "assist_request",
        model=AssistRequest,
        label=N_("Assistance request"),
        states=(REQUESTED, ASSIST_ACCEPTED, ANSWERED, ASSIST_CLOSED, DECLINED, WITHDRAWN),
        initial=REQUESTED,
        transitions=[
            T("accept", REQUESTED, ASSIST_ACCEPTED, roles=STAFF, permit=same_agency,
              guard=_guard("accepting", "assist")),
            T("decline", REQUESTED, DECLINED, roles=STAFF, permit=same_agency, guard=_guard("declining", "assist")),
            T("answer", ASSIST_ACCEPTED, ANSWERED, roles=STAFF, permit=same_agency,
              guard=_guard("answering", "assist")),
            T("send_back", ANSWERED, ASSIST_ACCEPTED, roles=STAFF, permit=_call("assist", "asker"),
              guard=_guard("sending_back", "assist")),
            T("close", ANSWERED, ASSIST_CLOSED, roles=STAFF, permit=_call("assist", "asker")),
            T("withdraw", (REQUESTED, ASSIST_ACCEPTED), WITHDRAWN, roles=STAFF, permit=_call("assist", "asker"),
              guard=reason_required),
        ],
        deadlines=[Deadline(REQUESTED, on=_call("assist", "accept_due")),
                   Deadline(ASSIST_ACCEPTED, on=_call("assist", "answer_due"))],
        recipients=_recipients,
        subject=lambda r: f"{r.code}",
        link=lambda r: f"/collab/assist/{r.id}",
    )
)
