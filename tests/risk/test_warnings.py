"""Warnings raised from our tables by the shipped rules, routed, deduplicated and disposed through the loop."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.collab.models import Complaint
from jianguan.core import workflow
from jianguan.core.errors import Forbidden, IllegalTransition, Invalid, NotFound
from jianguan.core.workdays import today_shanghai
from jianguan.entities.models import Entity
from jianguan.inspections.models import InspectionPlan
from jianguan.notify.models import Notification
from jianguan.risk import warning_rules, warnings
from jianguan.risk import workflow as wf
from jianguan.risk.models import FeedRecord, Warning, WarningRule
from tests.inspections.conftest import ITEM, World

DAY = dt.date(2026, 12, 7)  # a Monday
_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _rules(db: Session, world: World) -> None:
    warning_rules.load_shipped(db)


def complaints(db: Session, entity: Entity, days_back: list[int]) -> None:
    for back in days_back:
        db.add(Complaint(number=f"TS{next(_n):014d}", access_hash="x", channel="web", category="food_safety",
                         content="后厨卫生差", region_code=entity.region_code, entity_id=entity.id,
                         received_on=DAY - dt.timedelta(days=back), workflow="complaint", state="received"))
    db.flush()


def surge(db: Session, world: World) -> Warning:
    shop = world.entities[0]
    complaints(db, shop, [0, 1, 2, 3, 4])  # five this week, none in the 90 days before
    out = warnings.raise_warnings(db, as_of=DAY)
    assert out["raised"] == 1 and out["levels"]["yellow"] + out["levels"]["red"] == 1
    found = db.scalars(select(Warning).where(Warning.entity_id == shop.id)).one()
    return found


def test_a_surge_raises_one_warning_routed_to_the_district_and_told_to_its_staff(db: Session, world: World) -> None:
    warning = surge(db, world)
    assert warning.rule_code == "FS-01" and warning.agency_id == world.xihu.id and warning.domain == "food"
    assert warning.code == "YJ2026000001" and "近7日" in warning.detail and warning.state == "assigned"
    assert warning.due_date == today_shanghai() + dt.timedelta(days=1)  # taken up within 24 hours of raising
    told = db.scalars(select(Notification.user_id).where(Notification.kind == "warning.assigned")).all()
    assert world.author.id in told and world.leader.id in told and world.outsider.id not in told
    again = warnings.raise_warnings(db, as_of=DAY + dt.timedelta(days=1))  # still surging: inside the dedup window
    assert again["raised"] == 0 and again["repeats_suppressed"] >= 1


def test_a_steady_stream_of_complaints_raises_nothing(db: Session, world: World) -> None:
    complaints(db, world.entities[1], list(range(0, 97, 7)))  # one a week for three months
    assert warnings.raise_warnings(db, as_of=DAY)["raised"] == 0


def test_taken_verified_and_turned_into_an_inspection_plan_then_feedback_and_close(
        db: Session, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = wf.loop_rules()
    monkeypatch.setattr(wf, "loop_rules", lambda: {**loop, "verification_items": {"food": ITEM}})  # this world's item
    warning = surge(db, world)
    with pytest.raises(NotFound):  # another district does not even see it
        warnings.act(db, warning_id=warning.id, action="take", actor=world.outsider)
    warnings.act(db, warning_id=warning.id, action="take", actor=world.author)
    assert warning.state == "verifying" and warning.handler_id == world.author.id
    days = 3 if warning.level == "red" else 5
    assert warning.due_date == workflow.calendar(db).add_working_days(
        warning.state_since.astimezone(dt.timezone(dt.timedelta(hours=8))).date(), days).date
    with pytest.raises(Invalid) as refused:
        warnings.act(db, warning_id=warning.id, action="dispose", actor=world.author, payload={})
    assert refused.value.field == "disposition"
    warnings.act(db, warning_id=warning.id, action="dispose", actor=world.author, payload={"disposition": "inspection"})
    plan = db.scalars(select(InspectionPlan).where(InspectionPlan.code == warning.disposition_ref[5:])).one()
    assert plan.kind == "targeted" and plan.state == "draft" and warning.code in plan.title
    with pytest.raises(Invalid):
        warnings.act(db, warning_id=warning.id, action="feedback", actor=world.author)
    warnings.act(db, warning_id=warning.id, action="feedback", actor=world.author,
                 comment="现场检查发现冷藏不达标，已责令整改")
    with pytest.raises(Forbidden):  # officers do not close the loop
        warnings.act(db, warning_id=warning.id, action="close", actor=world.author)
    warnings.act(db, warning_id=warning.id, action="close", actor=world.leader)
    assert warning.state == "closed" and warning.closed_at is not None
    with pytest.raises(IllegalTransition):
        warnings.act(db, warning_id=warning.id, action="take", actor=world.author)


def test_a_false_alarm_needs_its_reason_and_counts_against_the_rule(db: Session, world: World) -> None:
    warning = surge(db, world)
    with pytest.raises(Invalid):
        warnings.act(db, warning_id=warning.id, action="false_alarm", actor=world.author)
    warnings.act(db, warning_id=warning.id, action="false_alarm", actor=world.author, comment="同一人重复投诉，已合并")
    assert (warning.state, warning.disposition) == ("closed", "false_alarm")
    figures = {r["rule_code"]: r for r in warnings.rule_figures(db, actor=world.leader).iter_rows(named=True)}
    assert figures["FS-01"]["false_alarm_rate"] == 100.0 and figures["FS-01"]["raised"] == 1


def test_late_steps_escalate_through_the_shared_scan(db: Session, world: World) -> None:
    warning = surge(db, world)
    warning.due_date = DAY - dt.timedelta(days=10)
    db.flush()
    workflow.scan_overdue(db, today=DAY)
    assert warning.escalation_level >= 2


def test_rules_reading_feeds_and_open_dates(db: Session, world: World) -> None:
    plant = world.entities[2]
    for back in (200, 100, 10):  # three missed drills in a row
        db.add(FeedRecord(entity_id=plant.id, kind="drill", outcome="missed",
                          occurred_on=DAY - dt.timedelta(days=back)))
    db.add(FeedRecord(entity_id=plant.id, kind="equipment_inspection", category="锅炉1号",
                      occurred_on=dt.date(2025, 1, 5), due_on=DAY - dt.timedelta(days=3)))
    db.flush()
    out = warnings.raise_warnings(db, as_of=DAY)
    codes = set(db.scalars(select(Warning.rule_code).where(Warning.entity_id == plant.id)))
    assert {"WS-04", "SE-01"} <= codes, out
    red = db.scalars(select(Warning).where(Warning.rule_code == "WS-04")).one()
    assert red.level == "red" and red.agency_id is None  # no emergency bureau in this world: left for routing
    assert out["unrouted"] >= 1


def test_a_back_test_counts_what_the_rule_would_have_raised(db: Session, world: World) -> None:
    shop = world.entities[0]
    complaints(db, shop, [30, 31, 32, 33, 34])
    rule = next(r for r in warning_rules.in_force(db, on=DAY) if r.code == "FS-01")
    result = warning_rules.backtest(db, rule=rule, end=DAY, days=90)
    assert result.count == 1 and result.summary["warnings"] == 1
    assert result.warnings["fired_on"][0] == DAY - dt.timedelta(days=32)  # the day the third one came in


def test_the_editor_saves_a_new_version_and_refuses_bad_data_by_field(db: Session, world: World) -> None:
    base: dict[str, Any] = dict(next(r for r in db.scalars(select(WarningRule)
                                                           .where(WarningRule.code == "FS-01"))).spec)
    with pytest.raises(Forbidden):
        warning_rules.save(db, data=base, actor=world.author)
    world.admin.roles = ["system_admin"]
    bad = {**base, "params": {**base["params"], "recent_days": 0}}
    with pytest.raises(Invalid) as refused:
        warning_rules.save(db, data=bad, actor=world.admin)
    assert refused.value.field == "params.recent_days"
    row = warning_rules.save(db, data={**base, "params": {**base["params"], "factor": 4}}, actor=world.admin)
    assert row.version_number == 2
    in_force = {r.code: r for r in warning_rules.in_force(db, on=DAY)}
    assert in_force["FS-01"].version == 2 and in_force["FS-01"].params.factor == 4  # type: ignore[union-attr]


def test_a_move_to_red_between_two_gradings_warns_but_the_first_grading_does_not(db: Session, world: World) -> None:
    from jianguan.entities import service as entities

    first, second = world.entities[4], world.entities[5]
    entities.set_risk(db, entity=first, value="blue", on=DAY - dt.timedelta(days=300), source="import", actor=None)
    entities.set_risk(db, entity=first, value="red", on=DAY, source="risk_score", actor=None)  # first grading
    entities.set_risk(db, entity=second, value="blue", on=DAY - dt.timedelta(days=30), source="risk_score", actor=None)
    entities.set_risk(db, entity=second, value="red", on=DAY, source="risk_score", actor=None)
    warnings.raise_warnings(db, as_of=DAY)
    moved = {e for e, in db.execute(select(Warning.entity_id).where(Warning.rule_code == "RL-01"))}
    assert moved == {second.id}


def test_a_month_raised_in_one_pass_keeps_the_dedup_window_and_the_day(db: Session, world: World) -> None:
    shop = world.entities[0]
    complaints(db, shop, [30, 31, 32, 33, 34, 3, 2, 1])  # a surge a month ago, and another this week
    out = warnings.raise_range(db, first=DAY - dt.timedelta(days=40), last=DAY)
    days = sorted(d for d, in db.execute(select(Warning.fired_on).where(Warning.rule_code == "FS-01")))
    assert days == [DAY - dt.timedelta(days=32), DAY - dt.timedelta(days=1)], out  # 14-day dedup, two surges
    assert warnings.raise_warnings(db, as_of=DAY)["raised"] == 0
