"""The burden index: visits, departments, documents demanded and hosting hours per object; the off-site
share, the merged-visit rate and the hosting share against their targets; overlapping visits by
several departments found and a merged visit proposed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

import chinese_calendar
import pytest
from sqlalchemy.orm import Session

from jianguan.documents import service as documents
from jianguan.entities.models import Entity
from jianguan.inspections import burden
from jianguan.inspections.models import Inspection, MatterVisit, SupervisionMatter
from tests.inspections.conftest import ITEM, World

UTC = dt.UTC
_codes = count(1)


def visit(db: Session, world: World, entity: Entity, agency_id: int, *, start: dt.datetime | None = None,
          hours: float = 0, method: str = "on_site", kind: str = "routine_random", state: str = "closed",
          scheduled: dt.date | None = None, items: tuple[str, ...] = (ITEM,)) -> Inspection:
    """An inspection row as the loop leaves it (the loop itself is tested in test_visits)."""
    record = Inspection(code=f"T-{next(_codes):06d}", entity_id=entity.id, agency_id=agency_id,
                        region_code=entity.region_code, kind=kind, method=method, item_codes=list(items),
                        scheduled_on=scheduled, visit_started_at=start,
                        visit_ended_at=start + dt.timedelta(hours=hours) if start else None,
                        workflow="inspection", state=state)
    db.add(record)
    db.flush()
    return record


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour - 8, tzinfo=UTC)  # Asia/Shanghai hour


def test_per_object_figures_and_the_targets(db: Session, world: World) -> None:
    shop, other = world.entities[0], world.entities[1]
    visit(db, world, shop, world.xihu.id, start=at(3, 2), hours=2)
    visit(db, world, shop, world.binjiang.id, start=at(4, 7, 14), hours=3)
    visit(db, world, shop, world.xihu.id, start=at(5, 6), method="documents")  # off site
    visit(db, world, other, world.xihu.id, start=at(6, 1), hours=1, kind="joint")  # one visit, several departments
    last_year = dt.datetime(2025, 12, 31, 15, tzinfo=UTC)  # 2025-12-31 23:00 in Shanghai
    visit(db, world, other, world.xihu.id, start=last_year, hours=1)
    unit = Entity(uscc="11330106MB0000009X", name="西湖区某街道办事处", kind="government_unit", status="active",
                  region_code="330106")
    db.add(unit)
    db.flush()
    matter = SupervisionMatter(code="DC-T-1", level="county", agency_id=world.xihu.id, region_code="330106",
                               title="减负", due_on=dt.date(2026, 12, 31), workflow="matter", state="supervising")
    db.add(matter)
    db.flush()
    db.add(MatterVisit(matter_id=matter.id, unit_id=unit.id, agency_id=world.xihu.id, visited_on=dt.date(2026, 7, 1),
                       on_site=True, hours=Decimal("4"), documents_demanded=3))
    documents.issue(db, kind="inspection_notice", agency_id=world.xihu.id, subject_type="inspection", subject_id=1,
                    entity_id=shop.id, region_code="330106", context={"materials": ["营业执照", "台账"]}, actor=None,
                    on=dt.date(2026, 2, 20))
    got = burden.burden(db, actor=world.city_leader, year=2026)
    working_hours = 8 * len(chinese_calendar.get_workdays(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    assert got.working_hours == working_hours
    rows = {r["entity_id"]: r for r in got.per_object.to_dicts()}
    assert set(rows) == {shop.id, other.id, unit.id}
    s = rows[shop.id]
    assert (s["visits"], s["off_site"], s["departments"], s["documents"]) == (2, 1, 2, 3)  # 1 by documents + 2 asked
    assert s["hours"] == pytest.approx(5.0) and s["hosting_share"] == round(100 * 5 / working_hours, 2)
    assert (rows[other.id]["visits"], rows[other.id]["joint"]) == (1, 1)  # the 2025 visit is not this year's
    assert (rows[unit.id]["visits"], rows[unit.id]["documents"], rows[unit.id]["kind"]) == (1, 3, "government_unit")
    f = got.figures
    assert (f["visits"], f["off_site"], f["off_site_share"]) == (4, 1, 20.0)
    assert f["off_site_meets_target"] is False and f["merged_visit_rate"] == 25.0
    assert f["visited_by_several"] == 1 and f["objects_over_hosting_target"] == 0 and f["hosting_meets_target"]
    # A district's own officer sees only its own agency's visits.
    mine = burden.burden(db, actor=world.outsider, year=2026)
    assert mine.per_object["entity_id"].to_list() == [shop.id] and mine.figures["visits"] == 1


def test_an_object_hosting_more_than_15_percent_is_named(db: Session, world: World) -> None:
    shop = world.entities[2]
    for week in range(1, 44):  # 43 visits of 8 hours: well over 15 % of the working year
        visit(db, world, shop, world.xihu.id, start=at(1, 5) + dt.timedelta(weeks=week - 1), hours=8)
    got = burden.burden(db, actor=world.leader, year=2026)
    assert got.figures["objects_over_hosting_target"] == 1 and got.figures["hosting_meets_target"] is False
    assert got.per_object.row(0, named=True)["hosting_share"] > 15


def test_several_departments_for_overlapping_items_are_proposed_one_joint_visit(db: Session, world: World) -> None:
    shop, quiet = world.entities[3], world.entities[4]
    on = dt.date(2026, 12, 8)
    a = visit(db, world, shop, world.xihu.id, state="notice", scheduled=dt.date(2026, 12, 18))
    b = visit(db, world, shop, world.binjiang.id, state="preparing", scheduled=dt.date(2026, 12, 15))
    visit(db, world, shop, world.binjiang.id, state="notice", scheduled=dt.date(2027, 3, 1))  # outside the window
    visit(db, world, quiet, world.xihu.id, state="notice", scheduled=dt.date(2026, 12, 16))
    visit(db, world, quiet, world.binjiang.id, state="notice", scheduled=dt.date(2026, 12, 17),
          items=("33000009999999",))  # a different, unrelated item: no overlap
    found = burden.overlaps(db, actor=world.city_leader, on=on)
    assert [o.entity_id for o in found] == [shop.id]
    proposal = found[0].proposal
    assert proposal["possible"] and proposal["date"] == "2026-12-15" and sorted(proposal["merge"]) == sorted(
        [a.code, b.code])
    assert found[0].overlapping_items == [ITEM] and len(found[0].agencies) == 2
    assert burden.overlaps(db, actor=world.leader, on=on) == []  # one district alone sees one department
