"""Reminders before a deadline: sent on working days only, each due date in exactly one day's window
(weekends and holidays included), to the people the workflow names, once per person."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.collab import service
from jianguan.core import due_soon
from jianguan.notify.models import Notification
from tests.collab.test_complaints import complaint
from tests.inspections.conftest import World, world

__all__ = ["world"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 10, 1)))
def test_the_windows_of_working_days_cover_each_date_once(db: Session, start: dt.date) -> None:
    """Over 60 days, the working days' windows are back to back: no due date reminded twice or skipped."""
    windows = [w for w in (due_soon.window(db, start + dt.timedelta(days=i)) for i in range(60)) if w]
    assert windows
    for (_, until), (after, _) in pairwise(windows):
        assert after == until
    assert all(after < until for after, until in windows)


def test_days_off_send_nothing_and_a_monday_reaches_back(db: Session) -> None:
    assert due_soon.window(db, dt.date(2026, 12, 12)) is None  # Saturday
    assert due_soon.window(db, dt.date(2026, 10, 5)) is None  # National Day holiday
    assert due_soon.window(db, dt.date(2026, 12, 14)) == (dt.date(2026, 12, 15), dt.date(2026, 12, 16))


def test_a_step_due_in_two_working_days_is_reminded_once(db: Session, world: World,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "today_shanghai", lambda: dt.date(2026, 12, 8))
    made, _ = service.receive(db, data=complaint(), channel="web")
    assert made.due_date == dt.date(2026, 12, 17)

    def reminders() -> list[Notification]:
        return list(db.scalars(select(Notification).where(Notification.kind == "workflow.deadline_near")))

    assert due_soon.remind(db, today=dt.date(2026, 12, 14)) == {}
    assert due_soon.remind(db, today=dt.date(2026, 12, 15)) == {"complaint": 2}  # Xihu's officer and leader
    told = {n.user_id for n in reminders()}
    assert told == {world.author.id, world.leader.id} and world.outsider.id not in told
    assert reminders()[0].link == f"/complaints/{made.id}"
    assert due_soon.remind(db, today=dt.date(2026, 12, 16)) == {}  # not again
    assert len(reminders()) == 2
