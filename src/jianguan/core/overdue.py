"""The overdue scan: escalate late steps of every workflow (notify → 督办 → 挂牌督办).

A record in a state with a deadline, whose ``due_date`` is before today, reaches escalation
level L once today is later than the due date plus level L's ``after_working_days`` working
days. Each level reached writes an ``escalate`` event, an audit entry and in-app notifications
to the people the workflow names. The level is stored on the record, so the scan is idempotent;
entering a new state resets it. Run by the worker as job ``workflow.overdue_scan``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jianguan.core.i18n import N_
from jianguan.core.workflow import (
    SYSTEM,
    Escalation,
    Workflow,
    calendar,
    load_all,
    local_today,
    record_type,
    write_event,
)
from jianguan.db import utcnow

if TYPE_CHECKING:
    from jianguan.core.workdays import WorkCalendar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Escalated:
    """One level reached by one record in one scan."""

    workflow: str
    record_type: str
    record_id: int
    state: str
    due_date: dt.date
    level: int
    name: str
    notified: int


class _Thresholds:
    """Memoised "due date + N working days", so a scan of many rows asks the calendar once per date."""

    def __init__(self, cal: WorkCalendar) -> None:
        self.calendar = cal
        self.cache: dict[tuple[dt.date, int], dt.date] = {}

    def passed(self, due: dt.date, after: int, today: dt.date) -> bool:
        if after <= 0:
            return today > due
        key = (due, after)
        if key not in self.cache:
            self.cache[key] = self.calendar.add_working_days(due, after).date
        return today > self.cache[key]

    def reached(self, ladder: Sequence[Escalation], due: dt.date, today: dt.date) -> list[Escalation]:
        return [e for e in ladder if self.passed(due, e.after_working_days, today)]


def _notify(db: Session, wf: Workflow, record: Any, esc: Escalation) -> int:
    if wf.recipients is None:
        return 0
    user_ids = sorted(set(wf.recipients(db, record, esc)))
    if not user_ids:
        return 0
    from jianguan.notify import service as notify

    subject = wf.subject(record) if wf.subject else f"{record_type(record)} #{record.id}"
    notify.send(
        db,
        user_ids=user_ids,
        kind="workflow.escalation",
        title=N_("{level_label}: {subject}"),
        body=N_("{workflow_label} was due on {due_date} and is overdue. Please deal with it."),
        link=wf.link(record) if wf.link else "",
        params={"level_label": esc.display, "subject": subject,
                "workflow_label": wf.label or wf.name, "due_date": record.due_date.isoformat()},
    )
    return len(user_ids)


def _raise_level(db: Session, record: Any, esc: Escalation) -> bool:
    """Raise one record to ``esc.level`` unless it moved meanwhile (the WHERE re-checks it).

    A plain UPDATE, not the ORM: escalation is the clock's doing, not an edit, so it leaves
    ``version`` alone and a person's open form does not go stale because of it. On PostgreSQL a
    concurrent decision holds the row lock; once it commits the WHERE no longer matches.
    """
    model = type(record)
    result = db.execute(
        update(model)
        .where(model.id == record.id, model.state == record.state, model.due_date == record.due_date,
               model.escalation_level < esc.level)
        .values(escalation_level=esc.level)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.expire(record, ["escalation_level"])
    return True


def _escalate(db: Session, wf: Workflow, record: Any, reached: list[Escalation]) -> list[Escalated]:
    out: list[Escalated] = []
    for esc in reached:
        if esc.level <= record.escalation_level:
            continue
        if not _raise_level(db, record, esc):
            break
        write_event(db, wf, record, action="escalate", from_state=record.state, actor=None,
                    actor_name=SYSTEM, comment=esc.name, at=utcnow(),
                    payload={"level": esc.level, "name": esc.name, "due_date": record.due_date.isoformat()})
        notified = _notify(db, wf, record, esc)
        out.append(Escalated(wf.name, record_type(record), record.id, record.state, record.due_date,
                             esc.level, esc.name, notified))
        log.info("escalated %s #%s to level %s (%s)", wf.name, record.id, esc.level, esc.name)
    return out


def scan_overdue(db: Session, *, today: dt.date | None = None, batch: int = 500) -> list[Escalated]:
    """Escalate every overdue record of every registered workflow by each level it has passed."""
    today = today or local_today()
    thresholds = _Thresholds(calendar(db))
    done: list[Escalated] = []
    for wf in load_all().values():
        if wf.model is None:
            continue
        model = wf.model
        for deadline in wf.deadlines:
            ladder = deadline.ladder
            if not ladder:
                continue
            last_id = 0
            while True:
                rows = db.scalars(
                    select(model)
                    .where(model.workflow == wf.name, model.state == deadline.state,
                           model.due_date.is_not(None), model.due_date < today,
                           model.escalation_level < ladder[-1].level, model.id > last_id)
                    .order_by(model.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                for record in rows:
                    last_id = record.id
                    done += _escalate(db, wf, record, thresholds.reached(ladder, record.due_date, today))
    return done


def scan_job(db: Session) -> dict[str, Any]:
    """The worker's entry point: scan, and summarise for the job-run record."""
    escalated = scan_overdue(db)
    levels = sorted({e.level for e in escalated})
    return {"escalated": len(escalated),
            "by_level": {str(lv): sum(1 for e in escalated if e.level == lv) for lv in levels}}
