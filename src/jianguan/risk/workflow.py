"""The warning disposal loop on the shared engine:

assigned ─take→ verifying ─dispose→ disposed ─feedback→ feedback ─close→ closed
   │ └transfer→ assigned (another agency, with the reason)     │
   └────────────── dispose (false alarm, with the reason) ─────┴→ closed

Deadlines are data (risk/data/warning_loop.yaml): taken up within 24 hours (the next calendar day),
verified and disposed within the level's working days (red 3, yellow 5, blue 10), feedback within 15
working days, closed within 3. Late steps escalate through the shared overdue scan (notify → 督办 →
挂牌督办). A disposal becomes an inspection plan or a case lead (risk/warnings.py).
"""

from __future__ import annotations

import functools
import importlib
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy.orm import Session

from jianguan.auth.models import Role
from jianguan.core.i18n import N_
from jianguan.core.workflow import Deadline, Escalation, T, Workflow, register, same_agency
from jianguan.risk.models import Warning

if TYPE_CHECKING:
    from jianguan.core.workdays import DueDate, WorkCalendar

ASSIGNED, VERIFYING, DISPOSED, FEEDBACK, CLOSED = "assigned", "verifying", "disposed", "feedback", "closed"
OPEN = (ASSIGNED, VERIFYING, DISPOSED, FEEDBACK)
STAFF = {Role.officer.value, Role.leader.value, Role.agency_admin.value, Role.system_admin.value}
CLOSERS = {Role.leader.value, Role.agency_admin.value, Role.system_admin.value}


def _warnings(name: str) -> Any:
    """A guard or effect in risk/warnings.py (imported late: it imports this module)."""
    def call(*args: Any) -> Any:
        return getattr(importlib.import_module("jianguan.risk.warnings"), name)(*args)

    return call


def _disposal_due(record: Any, calendar: WorkCalendar) -> DueDate | None:
    due: DueDate | None = _warnings("disposal_due")(record, calendar)
    return due


def _recipients(db: Session, record: Any, escalation: Escalation) -> set[int]:
    """The handling agency's leaders, and its officers too below 挂牌督办."""
    from jianguan.officers.service import staff_of

    if record.agency_id is None:
        return set()
    wanted = [Role.leader] if escalation.level >= 2 else [Role.leader, Role.officer]
    return {u.id for u in staff_of(db, agency_ids=[record.agency_id], roles=wanted)}


@functools.cache
def loop_rules() -> dict[str, Any]:
    """risk/data/warning_loop.yaml: the loop's deadlines and the verification items by domain."""
    text = resources.files("jianguan.risk").joinpath("data/warning_loop.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _loop(key: str) -> int:
    return int(loop_rules()[key])


WARNING = register(
    Workflow(
        "warning",
        model=Warning,
        label=N_("Risk warning"),
        states=(ASSIGNED, VERIFYING, DISPOSED, FEEDBACK, CLOSED),
        initial=ASSIGNED,
        transitions=[
            T("take", ASSIGNED, VERIFYING, roles=STAFF, permit=same_agency, effect=_warnings("taking")),
            T("transfer", ASSIGNED, ASSIGNED, roles=STAFF, permit=same_agency, guard=_warnings("transferring")),
            T("dispose", VERIFYING, DISPOSED, roles=STAFF, permit=same_agency, guard=_warnings("disposing")),
            T("false_alarm", (ASSIGNED, VERIFYING), CLOSED, roles=STAFF, permit=same_agency,
              guard=_warnings("false_alarming")),
            T("feedback", DISPOSED, FEEDBACK, roles=STAFF, permit=same_agency, guard=_warnings("feeding_back")),
            T("close", FEEDBACK, CLOSED, roles=CLOSERS, permit=same_agency, guard=_warnings("closing")),
        ],
        deadlines=[Deadline(ASSIGNED, days=_loop("response_days")), Deadline(VERIFYING, on=_disposal_due),
                   Deadline(DISPOSED, working_days=_loop("feedback_working_days")),
                   Deadline(FEEDBACK, working_days=_loop("close_working_days"))],
        recipients=_recipients,
        subject=lambda r: f"{r.code} {r.detail}"[:120],
        link=lambda r: f"/risk/warnings/{r.id}",
    )
)

