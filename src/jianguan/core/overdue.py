"""The overdue scan: escalate late steps of every workflow (notify → 督办 → 挂牌督办).

A record in a state with a deadline, whose ``due_date`` is before today, reaches escalation
level L once today is later than the due date plus level L's ``after_working_days`` working
days. Each level reached writes an ``escalate`` event and an audit entry; the people the workflow
names are notified. The level is stored on the record, so the scan is idempotent; entering a new
state resets it. Run by the worker as job ``workflow.overdue_scan``.

Set-based, so a million open steps scan in seconds: the overdue records are grouped by (due date,
level) — a few hundred groups — each group is raised by one UPDATE that re-checks the state (a
record that moved meanwhile is left alone), events and audit entries are written in bulk (the audit
chain computed in one pass), and each person gets one notification per level and scan: the record
itself when it is one, the count and the first ones when they are many.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from jianguan.core.i18n import N_
from jianguan.core.workflow import SYSTEM, Escalation, Workflow, calendar, load_all, local_today, record_type
from jianguan.db import utcnow

if TYPE_CHECKING:
    from jianguan.core.workdays import WorkCalendar

log = logging.getLogger(__name__)
CHUNK = 5000  # records loaded at a time for the recipients


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


def _raise(db: Session, wf: Workflow, state: str, ladder: Sequence[Escalation], thresholds: _Thresholds,
           today: dt.date) -> list[Escalated]:
    """Raise every overdue record of one state to the level it has reached; → one item per level."""
    model: Any = wf.model
    base = (model.workflow == wf.name, model.state == state, model.due_date.is_not(None), model.due_date < today,
            model.escalation_level < ladder[-1].level)
    groups = db.execute(select(model.due_date, model.escalation_level).where(*base)
                        .group_by(model.due_date, model.escalation_level)).all()
    raised: list[Escalated] = []
    for due, level in groups:
        passed = [e for e in thresholds.reached(ladder, due, today) if e.level > level]
        if not passed:
            continue
        top = passed[-1].level
        ids = db.scalars(update(model).where(*base, model.due_date == due, model.escalation_level == level)
                         .values(escalation_level=top).returning(model.id)
                         .execution_options(synchronize_session=False)).all()
        raised += [Escalated(wf.name, model.__table__.name, int(i), state, due, e.level, e.name, 0)
                   for i in sorted(ids) for e in passed]
    return raised


def _record_events(db: Session, wf: Workflow, raised: Sequence[Escalated]) -> None:
    """An ``escalate`` event and an audit entry for each level each record reached (in bulk)."""
    from jianguan.audit import service as audit
    from jianguan.core.models import WorkflowEvent

    now = utcnow()
    events, entries = [], []
    for e in raised:
        payload = {"level": e.level, "name": e.name, "due_date": e.due_date.isoformat()}
        events.append({"workflow": wf.name, "record_type": e.record_type, "record_id": e.record_id,
                       "action": "escalate", "from_state": e.state, "to_state": e.state, "actor_id": None,
                       "actor_name": SYSTEM, "at": now, "comment": e.name,
                       "payload_hash": audit.digest(audit.canonical(payload)), "due_date": e.due_date})
        entries.append({"action": f"{wf.name}.escalate", "object_type": e.record_type, "object_id": e.record_id,
                        "payload": {"from": e.state, "to": e.state, "comment": e.name, "payload": payload},
                        "detail": {"from": e.state, "to": e.state, "due_date": e.due_date, "by": SYSTEM,
                                   "level": e.level}})
    table: Any = WorkflowEvent.__table__
    for i in range(0, len(events), CHUNK):
        db.execute(insert(table), events[i:i + CHUNK])
    audit.record_many(db, entries)


def _recipients(db: Session, wf: Workflow, ids: Sequence[int], esc: Escalation) -> dict[int, set[int]]:
    """Who is told about each record: in a few queries when the workflow can say so for many."""
    if wf.recipients_many is not None:
        return wf.recipients_many(db, ids, esc)
    assert wf.recipients is not None
    model: Any = wf.model
    records = db.scalars(select(model).where(model.id.in_(list(ids)))).all()
    return {r.id: set(wf.recipients(db, r, esc)) for r in records}


def _notify(db: Session, wf: Workflow, raised: Sequence[Escalated]) -> dict[tuple[int, int], int]:
    """One notification per person and level: the record when it is one, else how many and the first."""
    if (wf.recipients is None and wf.recipients_many is None) or not raised:
        return {}
    from jianguan.notify import service as notify

    model: Any = wf.model
    by_level: dict[int, list[Escalated]] = defaultdict(list)
    for e in raised:
        by_level[e.level].append(e)
    told: dict[tuple[int, int], int] = {}
    for level, items in sorted(by_level.items()):
        esc = next(e for d in wf.deadlines for e in d.ladder if e.level == level)
        mine: dict[int, list[int]] = defaultdict(list)
        ids = sorted({e.record_id for e in items})
        for i in range(0, len(ids), CHUNK):
            for record_id, users in _recipients(db, wf, ids[i:i + CHUNK], esc).items():
                for user_id in users:
                    mine[user_id].append(record_id)
                told[(record_id, level)] = len(users)
        for user_id, record_ids in mine.items():
            first: Any = db.get(model, min(record_ids))
            subject = wf.subject(first) if wf.subject else f"{record_type(first)} #{first.id}"
            params = {"level_label": esc.display, "subject": subject, "workflow_label": wf.label or wf.name,
                      "due_date": first.due_date.isoformat(), "count": len(record_ids)}
            if len(record_ids) == 1:
                title, body = N_("{level_label}: {subject}"), N_(
                    "{workflow_label} was due on {due_date} and is overdue. Please deal with it.")
            else:
                title, body = N_("{level_label}: {count} × {workflow_label}"), N_(
                    "{count} overdue, the first: {subject} (due {due_date}). Please deal with them.")
            notify.send(db, user_ids=[user_id], kind="workflow.escalation", title=title, body=body,
                        link=wf.link(first) if wf.link else "", params=params)
    return told


def scan_overdue(db: Session, *, today: dt.date | None = None) -> list[Escalated]:
    """Escalate every overdue record of every registered workflow by each level it has passed."""
    today = today or local_today()
    thresholds = _Thresholds(calendar(db))
    done: list[Escalated] = []
    for wf in load_all().values():
        if wf.model is None:
            continue
        raised: list[Escalated] = []
        for deadline in wf.deadlines:
            if deadline.ladder:
                raised += _raise(db, wf, deadline.state, deadline.ladder, thresholds, today)
        if not raised:
            continue
        for obj in list(db.identity_map.values()):  # loaded copies must not show the old level
            if isinstance(obj, wf.model):
                db.expire(obj, ["escalation_level"])
        _record_events(db, wf, raised)
        told = _notify(db, wf, raised)
        done += [Escalated(e.workflow, e.record_type, e.record_id, e.state, e.due_date, e.level, e.name,
                           told.get((e.record_id, e.level), 0)) for e in raised]
        log.info("escalated %s %s records of %s", len({e.record_id for e in raised}), wf.name, len(raised))
    return done


def scan_job(db: Session) -> dict[str, Any]:
    """The worker's entry point: scan, and summarise for the job-run record."""
    escalated = scan_overdue(db)
    levels = sorted({e.level for e in escalated})
    return {"escalated": len(escalated),
            "by_level": {str(lv): sum(1 for e in escalated if e.level == lv) for lv in levels}}
