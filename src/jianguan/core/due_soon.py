"""Reminders before a deadline: every working morning, each open step of every workflow falling due
within ``REMIND_WORKING_DAYS`` working days is brought to the people the workflow names (those it
would escalate to), one notification per person — the step when it is one, the count and the first
when they are many. The overdue scan (core/overdue.py) takes over once the day has passed.

Stateless and sent once: a working day reminds of the due dates after the window the previous
working day covered, up to its own; the job does nothing on a day off (the next working day's window
reaches back over it). Run by the worker as job ``workflow.due_soon``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.core.i18n import N_
from jianguan.core.overdue import _recipients
from jianguan.core.workflow import Escalation, calendar, load_all, local_today, record_type

REMIND_WORKING_DAYS = 2
REMINDER = Escalation(0, "notify", label=N_("Due soon"))


def window(db: Session, today: dt.date, ahead: int = REMIND_WORKING_DAYS) -> tuple[dt.date, dt.date] | None:
    """(after, up to) the due dates today reminds of; None on a day off."""
    cal = calendar(db)
    if not cal.is_working_day(today):
        return None
    previous = today - dt.timedelta(days=1)
    while not cal.is_working_day(previous):
        previous -= dt.timedelta(days=1)
    return cal.add_working_days(previous, ahead).date, cal.add_working_days(today, ahead).date


def remind(db: Session, *, today: dt.date | None = None) -> dict[str, int]:
    """Notify about every open step due in today's window; → reminders sent by workflow."""
    from jianguan.notify import service as notify

    today = today or local_today()
    span = window(db, today)
    if span is None:
        return {}
    after, until = span
    sent: dict[str, int] = {}
    for wf in load_all().values():
        model: Any = wf.model
        states = [d.state for d in wf.deadlines]
        if model is None or not states or (wf.recipients is None and wf.recipients_many is None):
            continue
        ids = list(db.scalars(select(model.id).where(model.workflow == wf.name, model.state.in_(states),
                                                     model.due_date > after, model.due_date <= until)))
        if not ids:
            continue
        mine: dict[int, list[int]] = defaultdict(list)
        for record_id, users in _recipients(db, wf, ids, REMINDER).items():
            for user_id in users:
                mine[user_id].append(record_id)
        for user_id, record_ids in mine.items():
            first: Any = db.get(model, min(record_ids))
            subject = wf.subject(first) if wf.subject else f"{record_type(first)} #{first.id}"
            params = {"subject": subject, "workflow_label": wf.label or wf.name, "count": len(record_ids),
                      "due_date": first.due_date.isoformat()}
            if len(record_ids) == 1:
                title, body = N_("Due soon: {subject}"), N_("{workflow_label} {subject} is due on {due_date}.")
            else:
                title, body = N_("Due soon: {count} × {workflow_label}"), N_(
                    "{count} due within two working days, the first: {subject} (due {due_date}).")
            notify.send(db, user_ids=[user_id], kind="workflow.deadline_near", title=title, body=body,
                        link=wf.link(first) if wf.link else "", params=params)
        sent[wf.name] = len(mine)
    return sent
