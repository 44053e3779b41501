"""Each indicator's formula on hand-made cases: what counts, what does not, and where the window ends."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from jianguan.cases.models import Case
from jianguan.collab.models import Complaint
from jianguan.entities.models import Entity, EntityLicence, EntityTag
from jianguan.risk import indicators, service
from jianguan.risk.models import FeedRecord, Incident, Reading, Warning
from tests.inspections.conftest import World
from tests.risk.conftest import AS_OF, at, finding, inspection

_n = itertools.count(1)
DAY = dt.timedelta(days=1)


def values(db: Session, entity: Entity, as_of: dt.date = AS_OF) -> dict[str, Any]:
    rules = service.rule_set(db, on=as_of).rules
    frame = indicators.gather(db, as_of=as_of, rules=rules, entity_ids=[entity.id])
    assert frame.height == 1
    return frame.row(0, named=True)


def complaint(db: Session, entity: Entity, on: dt.date, **extra: Any) -> Complaint:
    row = Complaint(number=f"TS{next(_n):014d}", access_hash="x", channel="web", category="food_safety",
                    content="过期食品", region_code=entity.region_code, entity_id=entity.id, received_on=on,
                    workflow="complaint", state="received", **extra)
    db.add(row)
    db.flush()
    return row


def feed(db: Session, entity: Entity, kind: str, outcome: str, on: dt.date) -> None:
    db.add(FeedRecord(entity_id=entity.id, kind=kind, outcome=outcome, occurred_on=on))
    db.flush()


def test_a_clean_entity_has_only_its_static_indicators(db: Session, world: World) -> None:
    got = values(db, world.entities[0])
    assert got["industry"] == 55.0  # 6210 正餐服务 → division 62 餐饮业
    assert all(got[code] == 0.0 for code in indicators.COUNTED)
    assert got["incident_red"] is False and got["incident_id"] is None


def test_violations_weigh_serious_findings_and_penalties_over_three_years(db: Session, world: World) -> None:
    shop = world.entities[0]
    finding(db, shop, on=AS_OF - 10 * DAY)  # general: 1
    finding(db, shop, on=AS_OF - 400 * DAY, severity="serious")  # serious: 3
    finding(db, shop, on=AS_OF - (3 * 365) * DAY)  # just outside three years
    finding(db, shop, on=AS_OF + DAY)  # after the day scored
    db.add(Case(code="C-1", agency_id=shop.agency_id, region_code="330106", entity_id=shop.id, party_name=shop.name,
                title="销售过期食品", source_type="inspection", discovered_on=AS_OF - 60 * DAY,
                lead_on=AS_OF - 60 * DAY, outcome="penalty", decided_on=AS_OF - 30 * DAY, workflow="case",
                state="closed"))
    db.add(Case(code="C-2", agency_id=shop.agency_id, region_code="330106", entity_id=shop.id, party_name=shop.name,
                title="不予处罚", source_type="inspection", discovered_on=AS_OF - 60 * DAY,
                lead_on=AS_OF - 60 * DAY, outcome="no_penalty", decided_on=AS_OF - 30 * DAY, workflow="case",
                state="closed"))
    db.flush()
    assert values(db, shop)["violations"] == 1 + 3 + 2


def test_complaints_of_the_last_year_leave_out_merged_and_flagged_ones(db: Session, world: World) -> None:
    shop = world.entities[1]
    first = complaint(db, shop, AS_OF)
    complaint(db, shop, AS_OF - 364 * DAY)  # the 365th day back is inside
    complaint(db, shop, AS_OF - 365 * DAY)  # outside
    complaint(db, shop, AS_OF - 5 * DAY, master_id=first.id)  # merged into the first
    complaint(db, shop, AS_OF - 5 * DAY, flagged="malicious")
    assert values(db, shop)["complaints"] == 2


def test_warnings_that_were_false_alarms_do_not_count(db: Session, world: World) -> None:
    shop = world.entities[2]
    for i, disposition in enumerate(("", "inspection", "false_alarm")):
        db.add(Warning(code=f"YJ{i}", rule_code="FS-01", entity_id=shop.id, region_code="330106", domain="food",
                       level="yellow", fired_on=AS_OF - 20 * DAY, disposition=disposition, workflow="warning",
                       state="closed"))
    db.flush()
    assert values(db, shop)["warnings"] == 2


def test_licences_expired_count_twice_expiring_within_30_days_once(db: Session, world: World) -> None:
    shop = world.entities[3]
    for i, until in enumerate((AS_OF - DAY, AS_OF + 30 * DAY, AS_OF + 31 * DAY)):
        db.add(EntityLicence(entity_id=shop.id, licence_type="food_business", number=f"JY{i}", valid_until=until))
    db.add(EntityLicence(entity_id=shop.id, licence_type="food_business", number="JY9", valid_until=AS_OF - DAY,
                         status="revoked"))
    db.flush()
    assert values(db, shop)["licences"] == 3


def test_overdue_inspections_and_late_or_rejected_rectifications(db: Session, world: World) -> None:
    shop = world.entities[4]
    inspection(db, shop, on=AS_OF - 20 * DAY, state="feedback", due=AS_OF - DAY, result=None)
    inspection(db, shop, on=AS_OF - 20 * DAY, state="closed", due=AS_OF - DAY)  # done: not overdue
    inspection(db, shop, on=AS_OF, state="notice", due=AS_OF, result=None)  # due today: not yet late
    finding(db, shop, on=AS_OF - 40 * DAY, state="rectifying", rectify_by=AS_OF - DAY)  # late
    finding(db, shop, on=AS_OF - 40 * DAY, state="accepted", rejections=1)  # rejected once
    finding(db, shop, on=AS_OF - 40 * DAY, state="rectifying", rectify_by=AS_OF)  # due today
    finding(db, shop, on=AS_OF - 40 * DAY, state="transferred", rectify_by=AS_OF - DAY)  # went to a case
    got = values(db, shop)
    assert got["overdue_inspections"] == 1
    assert got["rectifications"] == 2


def test_abnormal_counts_current_negative_tags(db: Session, world: World) -> None:
    shop = world.entities[5]
    db.add(EntityTag(entity_id=shop.id, tag="abnormal_list", since=AS_OF - 30 * DAY))
    db.add(EntityTag(entity_id=shop.id, tag="serious_violation", since=AS_OF - 900 * DAY, until=AS_OF - DAY))
    db.add(EntityTag(entity_id=shop.id, tag="key_industry"))
    db.flush()
    assert values(db, shop)["abnormal"] == 1


def test_sensor_exceedances_use_the_rule_sets_limits_over_90_days(db: Session, world: World) -> None:
    shop = world.entities[6]
    for value, day in ((9.5, AS_OF), (8.0, AS_OF), (12.0, AS_OF - 89 * DAY), (12.0, AS_OF - 90 * DAY)):
        db.add(Reading(entity_id=shop.id, metric="cold_chain_temp", measured_at=at(day), value=value, unit="℃"))
    db.add(Reading(entity_id=shop.id, metric="humidity", measured_at=at(AS_OF), value=99.0, unit="%"))
    db.flush()
    assert values(db, shop)["sensor"] == 2  # 9.5 and the 12.0 on the 90th day back; 8.0 is at the limit


def test_feeds_sampling_failures_and_cross_check_mismatches(db: Session, world: World) -> None:
    shop = world.entities[7]
    feed(db, shop, "sampling", "fail", AS_OF - 100 * DAY)
    feed(db, shop, "sampling", "pass", AS_OF - 100 * DAY)
    feed(db, shop, "sampling", "fail", AS_OF - 400 * DAY)
    feed(db, shop, "cross_check", "mismatch", AS_OF - 3 * DAY)
    got = values(db, shop)
    assert (got["sampling"], got["mismatches"]) == (1, 1)


def test_incidents_weigh_by_severity_and_override_while_in_force(db: Session, world: World) -> None:
    shop = world.entities[8]
    rules = service.rule_set(db, on=AS_OF).rules
    major = Incident(entity_id=shop.id, region_code="330106", kind="major_accident", severity="major",
                     occurred_on=AS_OF - 100 * DAY, red_until=AS_OF - 100 * DAY + dt.timedelta(days=365))
    general = Incident(entity_id=shop.id, region_code="330106", kind="other", severity="general",
                       occurred_on=AS_OF - 10 * DAY)
    withdrawn = Incident(entity_id=shop.id, region_code="330106", kind="data_breach", severity="serious",
                         occurred_on=AS_OF - 10 * DAY, red_until=AS_OF + 170 * DAY, withdrawn_reason="录入错误")
    db.add_all([major, general, withdrawn])
    db.flush()
    got = values(db, shop)
    assert got["incidents"] == 3 + 1
    assert got["incident_red"] is True and got["incident_id"] == major.id
    assert rules["incident_red_days"]["major_accident"] == 365
    assert values(db, shop, AS_OF + 266 * DAY)["incident_red"] is False  # the override has ended


def test_only_active_entities_are_scored(db: Session, world: World) -> None:
    closed = world.entities[9]
    closed.status = "cancelled"
    db.flush()
    rules = service.rule_set(db, on=AS_OF).rules
    frame = indicators.gather(db, as_of=AS_OF, rules=rules)
    assert closed.id not in frame["entity_id"].to_list()
    assert frame.height == len(world.entities) - 1
    assert frame.schema["credit"] == pl.Utf8
