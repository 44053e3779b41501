"""The demo's year of complaints: the 365 days before today over 杭州市's counties, so the queue, the
figures and the risk centre's surge rule have something real to show.

Patterns (collab/data/demo_year.yaml): food safety peaks in summer and before Spring Festival, prices on
holidays (dates from the working-day calendar, i.e. ``chinese_calendar`` plus overrides), noise and
odour on summer evenings, fewer hotline transfers on rest days; about 70 % name a registered entity;
four surges; duplicates, some merged into their master and some left for staff; states by age, a few
overdue, reopened, rejected or flagged as repeated (the parts: collab/demo_drafts.py).

Written in bulk (collab/synth.py) with each complaint's history up to its state, whose deadline is
computed by the loop's own rules (service.accept_due / reply_due), as the overdue scan expects. One
audit entry covers the batch and marks it loaded. Deterministic for a given day and registry."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.audit.models import AuditEntry
from jianguan.collab import service, synth
from jianguan.collab import workflow as wf
from jianguan.collab.demo_drafts import (
    DAYS,
    SEED,
    Draft,
    Event,
    Filler,
    World,
    duplicates,
    holiday_runs,
    local,
    professional,
    spec,
    surges,
)
from jianguan.collab.models import Complaint
from jianguan.core import workflow
from jianguan.core.workdays import SHANGHAI, DueDate, WorkCalendar
from jianguan.db import utcnow

MARK = "complaint.demo_year"  # the audit action of the load: present = loaded
OUTCOMES = (["inspection", "mediation", "no_violation", "case", "other"], [0.45, 0.28, 0.15, 0.08, 0.04])
SURGE_OUTCOME = {"scenic_national_day": "case", "night_market_summer": "inspection",
                 "spring_festival_gift_boxes": "case"}

__all__ = ["MARK", "Draft", "World", "load", "plan"]

# --------------------------------------------------------------------------- the year's shape


def season(category: str, day: dt.date, holiday: str, spring: bool) -> float:
    """How much more (or less) of a category comes on a day than on an ordinary one."""
    month = day.month
    if category == "food_safety":
        return 1.7 if month in (6, 7, 8) else 1.6 if spring else 0.7 if month in (12, 1) else 1.0
    if category == "price":
        return {"国庆节": 4.0, "春节": 3.0, "劳动节": 2.5}.get(holiday, 1.8 if holiday else 1.0)
    if category == "environment":
        return 2.0 if month in (6, 7, 8, 9) else 0.6 if month in (12, 1, 2) else 1.0
    if category == "consumer_rights":
        return 1.8 if (month == 3 and 8 <= day.day <= 20) else 1.5 if (month == 11 and day.day >= 11) else 1.0
    if category == "special_equipment":
        return 1.3 if month in (12, 1, 2) else 1.0
    return 1.0


def base(calendar: WorkCalendar, today: dt.date) -> list[Draft]:
    """The ordinary year: Poisson counts per day × category × channel, then county and time of day."""
    data = spec()
    days = [today - dt.timedelta(days=DAYS - i) for i in range(DAYS)]
    runs = holiday_runs(calendar, days[0], days[-1])
    spring = {start + dt.timedelta(days=k) for start, end in runs.get("春节", [])
              for k in range(-14, (end - start).days + 1)}
    categories, channels = list(data["categories"]), list(data["channels"])
    rate = np.zeros((DAYS, len(categories), len(channels)))
    for d, day in enumerate(days):
        rest = not calendar.is_working_day(day)
        holiday = calendar.day_name(day) if rest else ""
        for c, category in enumerate(categories):
            level = data["categories"][category]["share"] * season(category, day, holiday, day in spring)
            for h, channel in enumerate(channels):
                spec_ = data["channels"][channel]
                rate[d, c, h] = level * spec_["share"] * (spec_["rest_day"] if rest else 1.0)
    rate *= data["per_year"] / rate.sum()
    rng = np.random.default_rng([SEED, 1])
    counts = rng.poisson(rate)
    d_idx, c_idx, h_idx = np.nonzero(counts)
    reps = counts[d_idx, c_idx, h_idx]
    d_all, c_all, h_all = np.repeat(d_idx, reps), np.repeat(c_idx, reps), np.repeat(h_idx, reps)
    county_codes = list(data["counties"])
    weights = np.array([data["counties"][c]["weight"] for c in county_codes])
    county = rng.choice(len(county_codes), size=len(d_all), p=weights / weights.sum())
    drafts = []
    for day_i, cat_i, channel_i, county_i in zip(d_all.tolist(), c_all.tolist(), h_all.tolist(), county.tolist(),
                                                 strict=True):
        category, channel = categories[cat_i], channels[channel_i]
        hour = _hour(rng, channel, category, days[day_i])
        drafts.append(Draft(local(days[day_i], hour), category, channel, county_codes[county_i]))
    return drafts


def _hour(rng: np.random.Generator, channel: str, category: str, day: dt.date) -> float:
    """Hotline transfers in office hours; the web in the evening (noise and odour late, in summer)."""
    if channel == "hotline":
        return float(rng.uniform(8.5, 17.5))
    if category == "environment" and day.month in (6, 7, 8, 9) and rng.random() < 0.7:
        return float(rng.uniform(19.5, 23.9))
    if channel == "web" and rng.random() < 0.6:
        return float(np.clip(rng.normal(20.5, 1.8), 7, 23.9))
    return float(rng.uniform(7.5, 22.5))


# --------------------------------------------------------------------------- stories: states by age


class Stories:
    """Each draft's steps up to today, with the deadline each step set (the loop's own rules)."""

    def __init__(self, world: World, calendar: WorkCalendar, today: dt.date) -> None:
        self.world, self.calendar, self.today = world, calendar, today
        self.data = spec()
        self.rng = random.Random(SEED + 1)

    def staff(self, agency_id: int | None, code: str) -> tuple[int | None, str]:
        people = self.world.staff.get(agency_id or 0)
        return self.rng.choice(people) if people else (None, code or workflow.SYSTEM)

    def due(self, draft: Draft, state: str, since: dt.datetime) -> DueDate | None:
        record = Complaint(received_on=draft.day, transfers=draft.transfers, state_since=since,
                           accepted_on=draft.accepted_on, kind=draft.kind)
        return (service.accept_due(record, self.calendar) if state == wf.RECEIVED
                else service.reply_due(record, self.calendar) if state in (wf.ACCEPTED, wf.HANDLING) else None)

    def step(self, draft: Draft, action: str, to: str, at: dt.datetime, actor: tuple[int | None, str],
             comment: str = "") -> None:
        due = self.due(draft, to, at)
        draft.events.append(Event(action, draft.state if draft.events else None, to, at, actor, comment,
                                  due.date if due else None, bool(due and due.unconfirmed)))
        draft.state = to

    def working(self, day: dt.date, n: int, hour: float) -> dt.datetime:
        return local(self.calendar.add_working_days(day, n).date, hour)

    def tell(self, draft: Draft) -> None:
        rng, today = self.rng, self.today
        agency_id, code, rule = self.world.routes[(draft.category, draft.county)]
        draft.agency_id, draft.routed_by = agency_id, rule
        first_id, first_code = agency_id, code
        transfer = (not draft.surge and draft.master is None and rng.random() < 0.1
                    and draft.category in ("environment", "work_safety", "transport", "urban"))
        if transfer:  # the hotline sent it to market supervision first
            first_id, first_code, _ = self.world.routes[("other", draft.county)]
            draft.agency_id = first_id
        starter = (None, workflow.PUBLIC) if draft.channel != "hotline" else self.staff(first_id, first_code)
        self.step(draft, "start", wf.RECEIVED, draft.at, starter)
        if transfer:
            at = self.working(draft.day, 1, 10)
            if at.astimezone(SHANGHAI).date() >= today:
                return
            draft.transfers, draft.agency_id, draft.routed_by = 1, agency_id, "manual"
            self.step(draft, "transfer", wf.RECEIVED, at, self.staff(first_id, first_code),
                      rng.choice(self.data["transfers"]))
        start_day = draft.events[-1].at.astimezone(SHANGHAI).date()
        if draft.master is not None and draft.merged:
            at = self.working(draft.day, rng.randint(1, 2), rng.uniform(9, 17))
            if at.astimezone(SHANGHAI).date() < today and draft.master.state != wf.REJECTED:
                self.step(draft, "merge", wf.MERGED, at, self.staff(draft.agency_id, code),
                          f"并入 {draft.master.number}")
                return
            draft.merged = False
        rejectable = not draft.surge and draft.master is None and not draft.is_master
        if rejectable and rng.random() < 0.06:
            at = self.working(start_day, rng.randint(1, 5), rng.uniform(9, 17))
            if at.astimezone(SHANGHAI).date() < today:
                draft.rejected_reason = rng.choice(self.data["rejections"])
                self.step(draft, "reject", wf.REJECTED, at, self.staff(draft.agency_id, code), draft.rejected_reason)
            return
        roll = rng.random()
        wait = rng.randint(1, 5) if roll < 0.82 else rng.randint(6, 7) if roll < 0.92 else rng.randint(9, 20)
        at = self.working(start_day, wait, rng.uniform(9, 17))
        if at.astimezone(SHANGHAI).date() >= today:
            return  # still waiting for acceptance (overdue when past the 7 working days)
        handler = self.staff(draft.agency_id, code)
        draft.accepted_on = at.astimezone(SHANGHAI).date()
        self.step(draft, "accept", wf.ACCEPTED, at, handler)
        at = self.working(draft.accepted_on, rng.randint(0, 1), rng.uniform(9, 17))
        if at.astimezone(SHANGHAI).date() >= today:
            return
        draft.handler_id = handler[0]
        self.step(draft, "take", wf.HANDLING, max(at, draft.events[-1].at + dt.timedelta(minutes=20)), handler)
        roll = rng.random()
        if draft.kind == "tip":
            days = rng.randint(3, 14) if roll < 0.85 else rng.randint(16, 30)
        else:
            days = (rng.randint(5, 30) if roll < 0.78 else rng.randint(31, 44) if roll < 0.9
                    else rng.randint(46, 70) if roll < 0.995 else rng.randint(90, 140))  # the last: still stuck
        at = self.working(draft.accepted_on, days, rng.uniform(9, 17))
        if at.astimezone(SHANGHAI).date() >= today:
            return  # being handled (overdue when past the reply period)
        self.answer(draft, at, handler)

    def answer(self, draft: Draft, at: dt.datetime, handler: tuple[int | None, str]) -> None:
        rng, today = self.rng, self.today
        outcome = SURGE_OUTCOME.get(draft.surge) or rng.choices(*OUTCOMES)[0]
        mediated = draft.category in self.data["mediated"]
        if outcome == "mediation" and not mediated:
            outcome = rng.choice(["inspection", "no_violation"])
        if draft.category in ("consumer_rights", "price") and not draft.surge and rng.random() < 0.4:
            outcome = "mediation"
        draft.outcome, draft.replied_at = outcome, at
        draft.reply = self.data["replies"][outcome].format(party=draft.party_name or "被投诉方")
        self.step(draft, "reply", wf.REPLIED, at, handler, draft.reply)
        closed = at + dt.timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 3))
        if rng.random() < 0.55:
            draft.rating = rng.choices([5, 4, 3, 2, 1], [0.45, 0.3, 0.12, 0.08, 0.05])[0]
        reopen = (today - at.astimezone(SHANGHAI).date()).days <= 30 and rng.random() < 0.06 and not draft.surge
        reopened = at + dt.timedelta(days=rng.randint(2, 12), hours=rng.randint(1, 8))
        if closed.astimezone(SHANGHAI).date() < today and not (reopen and reopened <= closed):
            self.step(draft, "close", wf.CLOSED, closed, handler)
        if reopen and reopened.astimezone(SHANGHAI).date() < today:
            draft.reopened, draft.accepted_on, draft.rating = True, reopened.astimezone(SHANGHAI).date(), None
            self.step(draft, "reopen", wf.HANDLING, reopened, (None, workflow.PUBLIC),
                      rng.choice(self.data["reopens"].get(draft.category) or self.data["reopens"]["default"]))


# --------------------------------------------------------------------------- the whole year


def plan(world: World, *, calendar: WorkCalendar, today: dt.date,
         taken: dict[dt.date, int] | None = None) -> list[Draft]:
    """The year's complaints with their stories (nothing written). ``taken``: numbers already used per day."""
    filler = Filler(world)
    drafts = base(calendar, today)
    for draft in drafts:
        filler.person(draft)
        filler.about(draft)
        draft.content = filler.text(draft)
    drafts += surges(filler, calendar, today) + professional(filler, today)
    drafts += duplicates(filler, drafts, today)
    drafts.sort(key=lambda d: d.at)
    for draft in drafts:
        if draft.master is not None:
            draft.master.is_master = True
    seq: dict[dt.date, int] = dict(taken or {})
    for draft in drafts:
        seq[draft.day] = seq.get(draft.day, 0) + 1
        draft.number = f"TS{draft.day:%Y%m%d}{seq[draft.day]:06d}"
    stories = Stories(world, calendar, today)
    for draft in drafts:
        stories.tell(draft)
    _flag_repeated(drafts)
    return drafts


def _flag_repeated(drafts: list[Draft]) -> None:
    """As intake flags them (service.flag_repeated): the same phone often enough within the window."""
    rules = service.rules()["repeated"]
    seen: dict[str, list[dt.date]] = {}
    for draft in drafts:  # in the order received
        if not draft.phone:
            continue
        days = seen.setdefault(draft.phone, [])
        days.append(draft.day)
        since = draft.day - dt.timedelta(days=int(rules["per_phone_days"]))
        if sum(1 for d in days if d >= since) >= int(rules["per_phone_count"]):
            draft.flagged = "repeated"


def load(db: Session, *, today: dt.date | None = None) -> dict[str, int]:
    """Write the year (once): complaints, their history and one audit entry."""
    if db.scalar(select(AuditEntry.id).where(AuditEntry.action == MARK).limit(1)) is not None:
        return {"complaints": 0, "events": 0}
    today = today or service.today()
    first = today - dt.timedelta(days=DAYS)
    taken: dict[dt.date, int] = {}
    for number in db.scalars(select(Complaint.number).where(Complaint.number >= f"TS{first:%Y%m%d}",
                                                            Complaint.number < f"TS{today:%Y%m%d}~")):
        day = dt.datetime.strptime(number[2:10], "%Y%m%d").date()
        taken[day] = max(taken.get(day, 0), int(number[10:]))
    drafts = plan(World.read(db), calendar=workflow.calendar(db), today=today, taken=taken)
    synth.write(db, synth.frame(_columns(drafts), now=utcnow()))
    ids = {number: id_ for number, id_ in db.execute(select(Complaint.number, Complaint.id).where(
        Complaint.number >= f"TS{first:%Y%m%d}", Complaint.number < f"TS{today:%Y%m%d}~"))}
    masters = [{"b_id": ids[d.number], "b_master": ids[d.master.number]} for d in drafts if d.merged and d.master]
    if masters:
        table = Complaint.__table__
        assert isinstance(table, Table)
        db.execute(update(table).where(table.c.id == bindparam("b_id")).values(master_id=bindparam("b_master")),
                   masters)
    events = _events(drafts, ids)
    synth.write_events(db, events)
    numbers = "\n".join(d.number for d in drafts)
    audit.record(db, actor=None, action=MARK, object_type="complaint", payload={"numbers": numbers},
                 detail={"count": len(drafts), "events": events.height, "first": drafts[0].number,
                         "last": drafts[-1].number, "numbers_sha256": hashlib.sha256(numbers.encode()).hexdigest()})
    db.expire_all()
    return {"complaints": len(drafts), "events": events.height}


def _columns(drafts: list[Draft]) -> pl.DataFrame:
    rng = random.Random(SEED + 2)
    codes = ["".join(rng.choice(service.CODE_ALPHABET) for _ in range(8)) for _ in drafts]
    rows: Iterator[dict[str, Any]] = (
        {"number": d.number, "access_hash": service.access_hash(d.number, code), "kind": d.kind,
         "channel": d.channel, "external_ref": f"12345-{d.number[2:]}" if d.channel == "hotline" else "",
         "category": d.category, "content": d.content, "complainant_name": d.name, "complainant_phone": d.phone,
         "anonymous": d.anonymous, "party_name": d.party_name, "party_uscc": d.party_uscc, "address": d.address,
         "latitude": d.lat, "longitude": d.lng, "region_code": d.county, "entity_id": d.entity_id,
         "match_score": d.match_score, "agency_id": d.agency_id, "routed_by": d.routed_by,
         "transfers": d.transfers, "handler_id": d.handler_id, "received_on": d.day, "accepted_on": d.accepted_on,
         "rejected_reason": d.rejected_reason, "outcome": d.outcome, "reply": d.reply, "replied_at": d.replied_at,
         "rating": d.rating, "reopened": d.reopened, "flagged": d.flagged, "state": d.state,
         "state_since": d.events[-1].at, "due_date": d.events[-1].due,
         "due_unconfirmed": d.events[-1].unconfirmed, "created_at": d.at,
         "updated_at": d.events[-1].at}
        for d, code in zip(drafts, codes, strict=True))
    return pl.DataFrame(list(rows), schema_overrides={
        "latitude": pl.Float64, "longitude": pl.Float64, "entity_id": pl.Int64, "match_score": pl.Float64,
        "agency_id": pl.Int64, "handler_id": pl.Int64, "accepted_on": pl.Date, "due_date": pl.Date,
        "replied_at": pl.Datetime("us", "UTC"), "rating": pl.Int64, "complainant_name": pl.String,
        "complainant_phone": pl.String, "state_since": pl.Datetime("us", "UTC"),
        "created_at": pl.Datetime("us", "UTC"), "updated_at": pl.Datetime("us", "UTC")})


def _events(drafts: list[Draft], ids: dict[str, int]) -> pl.DataFrame:
    rows = [{"record_id": ids[d.number], "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
             "actor_id": e.actor[0], "actor_name": e.actor[1], "at": e.at, "comment": e.comment, "due_date": e.due}
            for d in drafts for e in d.events]
    return pl.DataFrame(rows, schema_overrides={"from_state": pl.String, "actor_id": pl.Int64,
                                                "at": pl.Datetime("us", "UTC"), "due_date": pl.Date})
