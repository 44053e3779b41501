"""The demo's year of complaints: shaped like a real year (seasons, holidays, a surge the risk rule sees
today), duplicates merged into a master that they follow, states by age with the loop's deadlines,
written once and the same every time."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.collab import demo_year, service
from jianguan.collab import workflow as wf
from jianguan.collab.demo_drafts import World
from jianguan.collab.models import Complaint
from jianguan.core import workflow
from jianguan.core.models import WorkflowEvent
from jianguan.core.workdays import PACKAGE_LAST_YEAR
from jianguan.entities.models import Entity
from jianguan.officers import service as agencies
from jianguan.reference import service as ref
from tests.auth.conftest import PASSWORD
from tests.conftest import _copy_database

TODAY = dt.date(2026, 12, 7)  # a Monday; the year runs from 7 Dec 2025 to 6 Dec 2026
TOTAL = 3241  # complaints the seed gives for this day and the registry below


def make_registry(db: Session) -> None:
    """杭州市 as the demo has it, smaller: every county's agencies, 4,000 entities, two officers."""
    from jianguan.synth import demo as synth_demo
    from jianguan.synth import province

    ref.load_all(db)
    place = synth_demo.province()
    by_code: dict[str, int] = {}
    for row in province.agencies(place).iter_rows(named=True):
        parent = by_code.get(row["parent_code"] or "")
        by_code[row["code"]] = agencies.create_agency(
            db, code=row["code"], name=row["name"], region_code=row["region_code"], parent_id=parent,
            domains=row["domains"].split(";"), actor=None).id
    frame = province.entities(place, n=4000, seed=synth_demo.DEMO_SEED)
    db.add_all(Entity(uscc=r["uscc"], name=r["name"], kind=r["kind"], status=r["status"],
                      region_code=r["region_code"], address=r["address"], industry_code=r["industry_code"],
                      agency_id=by_code[r["region_code"] + "-SJ"]) for r in frame.iter_rows(named=True))
    for username, agency in (("xihu_officer", "330106-SJ"), ("binjiang_officer", "330108-SJ")):
        auth.create_user(db, username=username, display_name=username, password=PASSWORD, roles=["officer"],
                         agency_id=by_code[agency], actor=None)
    db.flush()


@dataclass
class Year:
    engine: Engine
    loaded: dict[str, int]


@pytest.fixture(scope="module")
def year(template_url: str) -> Iterator[Year]:
    """One database holding the year, written once for the module (it takes a second or two)."""
    from jianguan.db import get_engine

    url = _copy_database(template_url, "year")
    engine = get_engine(url)
    with Session(engine) as db:
        make_registry(db)
        loaded = demo_year.load(db, today=TODAY)
        db.commit()
    yield Year(engine, loaded)
    from jianguan.db import _engines

    _engines.pop(url, None)
    engine.dispose()


@pytest.fixture
def session(year: Year) -> Iterator[Session]:
    """A session on the year's database whose changes are rolled back."""
    connection = year.engine.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        transaction.rollback()
        connection.close()


def test_the_year_is_a_few_thousand_complaints_the_same_every_time(year: Year, session: Session) -> None:
    assert year.loaded["complaints"] == TOTAL
    assert session.scalar(select(func.count()).select_from(Complaint)) == TOTAL
    world, calendar = World.read(session), workflow.calendar(session)
    first = demo_year.plan(world, calendar=calendar, today=TODAY)
    again = demo_year.plan(world, calendar=calendar, today=TODAY)
    assert [(d.number, d.state, d.content, d.entity_id, d.lat) for d in first] == \
           [(d.number, d.state, d.content, d.entity_id, d.lat) for d in again]
    days = session.execute(select(func.min(Complaint.received_on), func.max(Complaint.received_on))).one()
    assert days == (TODAY - dt.timedelta(days=365), TODAY - dt.timedelta(days=1))
    rows = session.execute(select(Complaint.entity_id, Complaint.channel, Complaint.anonymous, Complaint.content,
                                  Complaint.region_code)).all()
    matched = sum(r.entity_id is not None for r in rows) / len(rows)
    assert 0.65 <= matched <= 0.75
    channels = Counter(r.channel for r in rows)
    assert channels["hotline"] > channels["api"] and channels["web"] > channels["api"] > 0
    assert 0.08 <= sum(r.anonymous for r in rows) / len(rows) <= 0.25
    assert len({r.region_code for r in rows}) == 13 and all("，" in r.content or "。" in r.content for r in rows)
    assert len({r.content for r in rows}) > 1000  # templates with slots, not five sentences


def test_food_safety_peaks_in_summer_prices_on_holidays_and_the_hotline_rests(session: Session) -> None:
    rows = session.execute(select(Complaint.category, Complaint.channel, Complaint.received_on)).all()
    food = Counter(r.received_on.month for r in rows if r.category == "food_safety")
    assert min(food[6], food[7], food[8]) > max(food[12], food[1])
    assert food[2] > food[1]  # the run-up to Spring Festival (15–23 Feb 2026)
    price = Counter(r.received_on for r in rows if r.category == "price")
    national_day = sum(price[dt.date(2026, 10, d)] for d in range(1, 8)) / 7
    ordinary = sum(n for day, n in price.items() if day.month in (3, 4, 11)) / (31 + 30 + 30)
    assert national_day > 3 * ordinary
    calendar = workflow.calendar(session)
    hotline = Counter(calendar.is_working_day(r.received_on) for r in rows if r.channel == "hotline")
    working = sum(calendar.is_working_day(TODAY - dt.timedelta(days=k)) for k in range(1, 366))
    assert hotline[False] / (365 - working) < 0.5 * hotline[True] / working


def surging(db: Session, *, by: tuple[str, ...]) -> dict[tuple[object, ...], tuple[int, int]]:
    """The risk centre's rule: complaints in the last 7 days > 3 × the 90-day daily average (per day).
    Returns the groups that surge, with (last 7 days, last 90 days)."""
    columns = [getattr(Complaint, name) for name in by]
    week = func.sum(case((Complaint.received_on >= TODAY - dt.timedelta(days=7), 1), else_=0))
    rows = db.execute(select(*columns, week, func.count()).where(
        Complaint.received_on >= TODAY - dt.timedelta(days=90), Complaint.received_on < TODAY).group_by(*columns)).all()
    return {tuple(r[:-2]): (int(r[-2]), int(r[-1])) for r in rows if int(r[-2]) / 7 > 3 * int(r[-1]) / 90}


def test_a_food_safety_surge_fires_the_seven_day_rule_today(session: Session) -> None:
    by_county = surging(session, by=("region_code", "category"))
    assert ("330106", "food_safety") in by_county
    week, ninety = by_county[("330106", "food_safety")]
    assert week >= 10 and week / 7 > 3 * ninety / 90
    by_entity = surging(session, by=("entity_id",))
    restaurant = max(by_entity.items(), key=lambda kv: kv[1][0])
    assert restaurant[1][0] >= 10  # one restaurant, in the last 7 days
    entity = session.get(Entity, restaurant[0][0])
    assert entity is not None and entity.region_code == "330106" and entity.industry_code == "6210"


def test_merged_duplicates_follow_their_master_and_some_wait_for_staff(session: Session) -> None:
    merged = session.scalars(select(Complaint).where(Complaint.master_id.is_not(None))).all()
    assert len(merged) >= 30 and all(c.state == wf.MERGED for c in merged)
    in_state = select(func.count()).select_from(Complaint).where(Complaint.state == wf.MERGED)
    assert session.scalar(in_state) == len(merged)
    for dup in merged:
        master = session.get(Complaint, dup.master_id)
        assert master is not None and master.master_id is None and master.state != wf.MERGED
        assert (master.entity_id, master.category) == (dup.entity_id, dup.category)
        assert 0 <= (dup.received_on - master.received_on).days <= 30
        steps = [e.action for e in workflow.history(session, dup)]
        assert steps[0] == "start" and steps[-1] == "merge"
        shown = service.public_status(session, dup)
        assert shown["merged_into"] == master.number and shown["state"] == master.state
    recent = session.scalars(select(Complaint).where(Complaint.state.in_((wf.RECEIVED, wf.ACCEPTED)),
                                                     Complaint.entity_id.is_not(None))).all()
    assert any(service.duplicates_of(session, c) for c in recent)  # left for staff to merge


def test_states_follow_age_with_the_loop_deadlines(session: Session) -> None:
    complaints = session.scalars(select(Complaint)).all()
    states = Counter(c.state for c in complaints)
    assert states[wf.CLOSED] > TOTAL / 2 and min(states[s] for s in wf.COMPLAINT.states) > 0
    for c in complaints:
        age = (TODAY - c.received_on).days
        if age <= 3:
            assert c.state in (wf.RECEIVED, wf.ACCEPTED, wf.HANDLING, wf.MERGED, wf.REJECTED)
        if c.state == wf.CLOSED:
            assert c.reply and c.outcome and c.replied_at is not None and c.due_date is None
        if c.state == wf.REJECTED:
            assert c.rejected_reason
        if c.state in (wf.RECEIVED, wf.ACCEPTED, wf.HANDLING):
            assert c.due_date is not None
        if c.reopened:
            assert c.state == wf.HANDLING and c.rating is None
    calendar = workflow.calendar(session)
    waiting = [c for c in complaints if c.state == wf.RECEIVED and not c.transfers]
    assert all(c.due_date == calendar.add_working_days(c.received_on, 7).date for c in waiting)
    assert all(c.due_unconfirmed == (c.due_date.year > PACKAGE_LAST_YEAR) for c in complaints if c.due_date)
    overdue = [c for c in complaints if c.due_date is not None and c.due_date < TODAY]
    assert {wf.RECEIVED, wf.HANDLING} <= {c.state for c in overdue} and len(overdue) >= 10
    assert sum(c.rating is not None for c in complaints) > TOTAL / 3
    assert 3 <= sum(c.reopened for c in complaints) <= 30 and sum(bool(c.transfers) for c in complaints) >= 10
    assert 1 <= sum(c.flagged == "repeated" for c in complaints) <= 10
    events = session.scalar(select(func.count()).select_from(WorkflowEvent).where(
        WorkflowEvent.record_type == "complaints"))
    assert events is not None and events > 3 * TOTAL
    last = {e.record_id: e for e in session.scalars(select(WorkflowEvent).where(
        WorkflowEvent.record_type == "complaints").order_by(WorkflowEvent.at, WorkflowEvent.id))}
    assert all(last[c.id].to_state == c.state and last[c.id].due_date == c.due_date for c in complaints)


def test_loading_twice_adds_nothing(session: Session) -> None:
    assert demo_year.load(session, today=TODAY) == {"complaints": 0, "events": 0}
    assert session.scalar(select(func.count()).select_from(Complaint)) == TOTAL
