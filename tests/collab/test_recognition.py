"""结果互认: another department's inspection of a recognisable item, still valid, keeps the entity out of
the draw and counts as its visit in the frequency schedule — one visit instead of two. Not when the
item is not recognisable, the result has expired, the other visit never reached the site, or the
entity is named in the plan."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.catalog.models import ItemVersion, SupervisionItem
from jianguan.collab import recognition
from jianguan.entities.models import Entity
from jianguan.inspections import draws, frequency, service
from jianguan.inspections.models import InspectionPlan
from tests.inspections.conftest import DAY, ITEM, World, plan_data
from tests.inspections.test_burden import at, visit


def recognise(db: Session, days: int | None) -> None:
    version = db.scalar(select(ItemVersion).join(SupervisionItem).where(SupervisionItem.code == ITEM))
    assert version is not None
    version.recognition_days = days
    db.flush()


def pool(db: Session, world: World, **extra: object) -> dict[int, str]:
    """entity id → why the draw leaves it out ("" when it may be drawn)."""
    plan = service.create_plan(db, data=plan_data(**extra), actor=world.author)
    prepared = draws.prepare(db, db.get(InspectionPlan, plan.id), seed="mr", on=DAY)  # type: ignore[arg-type]
    frame = prepared.pool.entities
    return dict(zip(frame["entity_id"].to_list(), frame["excluded"].to_list(), strict=True))


def inspected_by_city(db: Session, world: World, entity: Entity, *, month: int = 11, day: int = 20,
                      state: str = "closed") -> str:
    return visit(db, world, entity, world.city.id, start=at(month, day), hours=2, state=state).code


def test_a_recognised_result_keeps_the_entity_out_of_the_draw(db: Session, world: World) -> None:
    shop, other = world.entities[4], world.entities[5]  # credit B: in the random part
    code = inspected_by_city(db, world, shop)
    recognise(db, 180)
    excluded = pool(db, world)
    assert excluded[shop.id] == "recognised" and excluded[other.id] == ""
    assert recognition.covered(db, item_codes=[ITEM], on=DAY, agency_id=world.xihu.id) == {shop.id: [code]}
    # The city's own plan is not covered by its own visit (its own draws decide on their rules).
    assert recognition.covered(db, item_codes=[ITEM], on=DAY, agency_id=world.city.id) == {}


def test_no_recognition_without_the_flag_after_expiry_or_before_the_visit(db: Session, world: World) -> None:
    shop, early, pending = world.entities[4], world.entities[5], world.entities[7]
    inspected_by_city(db, world, shop)
    inspected_by_city(db, world, early, month=5, day=6)  # 223 days before DAY
    inspected_by_city(db, world, pending, state="notice")
    assert pool(db, world)[shop.id] == ""  # the item is not marked recognisable
    recognise(db, 180)
    excluded = pool(db, world)
    assert excluded[shop.id] == "recognised"
    assert excluded[early.id] == ""  # 180 days ran out
    assert excluded[pending.id] == ""  # the other department has not been there yet
    recognise(db, 365)
    assert pool(db, world)[early.id] == "recognised"


def test_an_entity_named_in_the_plan_is_visited_anyway(db: Session, world: World) -> None:
    shop = world.entities[4]
    inspected_by_city(db, world, shop)
    recognise(db, 180)
    excluded = pool(db, world, kind="targeted", target_usccs=[shop.uscc], ratio=None, count=1)
    assert excluded[shop.id] == ""


def test_the_frequency_schedule_counts_the_recognised_visit_for_the_other_agency(
        db: Session, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = world.entities[6]  # blue risk, credit B: once a year
    code = inspected_by_city(db, world, shop)

    def row(agency_id: int | None) -> dict[str, object]:
        frame = frequency.schedule(db, region_code="330106", domain="food", today=DAY, agency_id=agency_id)
        return frame.filter(frame["entity_id"] == shop.id).to_dicts()[0]

    assert row(None)["status"] == "done"  # the region as a whole: visited
    assert row(world.xihu.id)["status"] == "due" and row(world.xihu.id)["last_visit"] is None  # Xihu never was
    recognise(db, 180)
    mine = row(world.xihu.id)
    assert mine["status"] == "done" and mine["recognised"] == code and mine["last_visit"] == dt.date(2026, 11, 20)
    counted = frequency.coverage(db, region_code="330106", domain="food", today=DAY, agency_id=world.xihu.id)
    plain = frequency.coverage(db, region_code="330106", domain="food", today=DAY, agency_id=None)
    assert counted[0].done == plain[0].done


@pytest.mark.parametrize(("ago", "valid"), [(0, True), (30, True), (29, True), (31, False), (400, False)])
def test_a_result_is_recognised_up_to_and_including_its_last_day(db: Session, world: World, ago: int,
                                                                  valid: bool) -> None:
    shop = world.entities[4]
    visited = DAY - dt.timedelta(days=ago)
    visit(db, world, shop, world.city.id, start=at(visited.month, visited.day) if visited.year == 2026 else
          dt.datetime(visited.year, visited.month, visited.day, 2, tzinfo=dt.UTC), hours=1)
    recognise(db, 30)
    found = recognition.recognitions(db, on=DAY, other_than=world.xihu.id)
    assert found.height == (1 if valid else 0)
    if valid:
        assert found["valid_until"][0] == visited + dt.timedelta(days=30)
