"""Differentiated frequency: red quarterly, yellow half-yearly, blue yearly, credit C twice, credit A
exempt; due when the last visit is older than a year over that, overdue a month later."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

from jianguan.inspections import frequency
from jianguan.inspections.models import Inspection
from tests.inspections.conftest import World

TODAY = dt.date(2026, 12, 8)


def test_visits_needed_and_due_dates_follow_the_rules(db: Session, world: World) -> None:
    red_b, yellow_b, blue_b, blue_c = world.entities[0], world.entities[5], world.entities[6], world.entities[10]
    for entity, risk, credit in ((red_b, "red", "B"), (yellow_b, "yellow", "B"), (blue_b, "blue", "B"),
                                 (blue_c, "blue", "C")):
        entity.risk_level, entity.credit_class = risk, credit
    db.flush()
    visited = dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC)  # 10:00 in Shanghai on 1 September
    for entity in (red_b, yellow_b, blue_b, blue_c):
        db.add(Inspection(code=f"V-{entity.id}", entity_id=entity.id, agency_id=world.xihu.id, region_code="330106",
                          kind="routine_random", workflow="inspection", state="closed", visit_started_at=visited))
    db.flush()
    frame = frequency.schedule(db, region_code="330106", domain="market", today=TODAY)
    row = {r["entity_id"]: r for r in frame.iter_rows(named=True)}
    assert (row[red_b.id]["needed"], row[red_b.id]["due_on"], row[red_b.id]["status"]) == (
        4.0, dt.date(2026, 12, 1), "due")  # quarterly: 365 / 4 → 91 days after 1 Sep
    assert (row[yellow_b.id]["needed"], row[yellow_b.id]["status"]) == (2.0, "done")
    assert (row[blue_c.id]["needed"], row[blue_c.id]["due_on"]) == (2.0, dt.date(2027, 3, 2))  # credit C: twice
    assert row[blue_b.id]["needed"] == 1.0
    a_class = [r for r in row.values() if r["credit"] == "A"]
    assert a_class and {r["status"] for r in a_class} == {"exempt"} and {r["needed"] for r in a_class} == {0.3}
    never = [r for r in row.values() if r["last_visit"] is None and r["credit"] != "A"]
    assert never and {r["status"] for r in never} == {"due"} and {r["due_on"] for r in never} == {TODAY}
    food = frequency.schedule(db, region_code="330106", domain="food", today=TODAY)
    assert food.filter(pl.col("entity_id") == blue_b.id)["needed"].item() == 2.0  # a key domain: twice a year
    late = frequency.schedule(db, region_code="330106", domain="market", today=dt.date(2027, 1, 15))
    assert late.filter(pl.col("entity_id") == red_b.id)["status"].item() == "overdue"


def test_coverage_counts_per_county(db: Session, world: World) -> None:
    rows = frequency.coverage(db, region_code="330100", domain="market", today=TODAY)
    assert [r.region_code for r in rows] == ["330106"]
    xihu = rows[0]
    assert xihu.entities == len(world.entities)
    assert xihu.exempt == sum(1 for e in world.entities if e.credit_class == "A")
    assert xihu.done == 0 and xihu.due + xihu.overdue + xihu.exempt == xihu.entities
    assert 0 <= xihu.rate <= 100


def test_the_coverage_page_and_a_plan_of_the_overdue(fresh_db_url: str) -> None:
    from fastapi.testclient import TestClient

    from jianguan.app import create_app
    from jianguan.db import session_scope
    from tests.inspections.conftest import ITEM, make_world
    from tests.officers.test_pages import csrf_of, sign_in

    with session_scope() as db:
        world = make_world(db)
        long_ago = dt.datetime(2025, 1, 10, 2, tzinfo=dt.UTC)
        red = world.entities[0]
        red.credit_class = "B"
        db.add(Inspection(code="V-old", entity_id=red.id, agency_id=world.xihu.id, region_code="330106",
                          kind="routine_random", workflow="inspection", state="closed", visit_started_at=long_ago))
    with TestClient(create_app()) as client:
        sign_in(client, "author")
        page = client.get("/inspections/coverage?region=330106&domain=food")
        assert page.status_code == 200 and "西湖区" in page.text and "逾期" in page.text
        assert "高风险（红）" in page.text
        assert client.get("/inspections/coverage?region=330000&domain=food").status_code == 403  # the province
        made = client.post("/inspections/coverage/propose", data={"csrf_token": csrf_of(client), "region": "330106",
                                                                   "domain": "food", "item_code": ITEM})
        assert "逾期未检主体制定计划" in made.text and red.uscc in made.text
